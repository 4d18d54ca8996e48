"""The one masking module: free text whatever the separators, structured data by key and by value,
the verification answers, and log records. Business numbers, dates and amounts stay readable."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from bot import masking
from bot.masking import (
    conversation_reference,
    mask_entities,
    mask_id_number,
    mask_text,
    mask_value,
    mask_verification_answer,
)
from tests.conftest import ROOT

ID = "110101199003071233"  # valid GB 11643
ID_X = "11010519491231002X"
MOBILE = "13812345678"
CARD = "6222021234567890123"


def digits_of(text: str) -> str:
    return "".join(c for c in text.translate(masking._FULL_WIDTH) if c.isdigit() or c in "Xx")


@pytest.mark.parametrize(
    "text, secret",
    [
        (f"我的身份证是{ID}谢谢", ID),
        ("身份证 1101 0119 9003 0712 33", ID),
        ("身份证号110101-19900307-1233,麻烦了", ID),
        ("身份证１１０１０１１９９００３０７１２３３", ID),
        ("证件号码 110105 19491231 002X", ID_X),
        ("证件号码110105194912310０2ｘ", ID_X),
        ("新卡号6222 0212 3456 7890 123请更换", CARD),
        ("新卡号6222-0212-3456-7890-123", CARD),
        ("卡号６２２２　０２１２　３４５６　７８９０　１２３", CARD),
        ("卡号：6222021234567890123。", CARD),
        ("我的手机138-1234-5678", MOBILE),
        ("手机 138 1234 5678 打这个", MOBILE),
        ("手机１３８１２３４５６７８", MOBILE),
        ("电话138－1234－5678", MOBILE),
        ("电话+86 138 1234 5678", MOBILE),
        ("保单LF2023000123,手机13812345678", MOBILE),
        ("lf 2023 000456 13812345678", MOBILE),
    ],
)
def test_free_text_hides_ids_cards_and_mobiles_whatever_the_separators(text: str, secret: str) -> None:
    masked = mask_text(text)
    assert secret not in digits_of(masked), masked
    # The old masker (digits only, no separators, no full-width) let most of these through.


def test_a_masked_id_never_shows_any_of_the_last_six() -> None:
    for text in (ID, "1101 0119 9003 0712 33", "１１０１０１１９９００３０７１２３３"):
        masked = mask_text(f"身份证{text}")
        assert masked == "身份证110101************"
    assert mask_id_number(ID) == "110101************"
    assert mask_id_number(ID_X) == "110105************"
    assert mask_id_number("071234") == "******"  # a tail alone: nothing of it
    assert mask_value("id_tail", "157317") == "******"
    assert mask_value("bf_id_number", "1101 0119 9003 0712 33") == "110101************"
    # a card run that happens to contain an ID is masked like an ID (no last four of it)
    assert "1233" not in mask_text(f"号码 9{ID}")


def test_emails_are_masked() -> None:
    assert mask_text("邮箱 zhangwei@example.com 谢谢") == "邮箱 z***@example.com 谢谢"
    assert "zhangwei" not in mask_text("邮箱zhangwei＠example．com")


@pytest.mark.parametrize(
    "text",
    [
        "保单号LF2023000123想退保",
        "保单号 lf 2023 000456",
        "理赔CL2600000088到哪了",
        "工单TK2600000123,案件CL2026001234",
        "车牌京A8K2J6",
        "2024-03-15 至 2024-04-15",
        "2024年3月15日下午3点",
        "保费12,000.00元,保额500000元",
        "金额 1234567.89 元",
        "身份证后六位157317",  # a tail alone is masked by context (the question asked), not here
        "下午13:30,第2期",
    ],
)
def test_no_false_positives_on_business_numbers_dates_and_amounts(text: str) -> None:
    assert mask_text(text) == text


def test_payload_keys_and_values_are_masked() -> None:
    payload = {
        "kind": "payment_account_change",
        "card": "6222 0212 3456 7890 123",
        "pa_card": CARD,
        "value": "138-1234-5678",
        "cc_value": "zhangwei@example.com",
        "complaint_text": f"你们乱扣我卡{CARD}的钱,打我电话138 1234 5678",
        "channel_conversation": "web:3f9c2a7d-secret-session",
        "note": f"客户身份证{ID}",
        "nested": [{"anything": "１３８１２３４５６７８"}],
        "policy_number": "LF2023000123",
        "claim_number": "CL2600000088",
        "bank_name": "工商银行",
        "share_pct": "50.00",
        "amount": 12000,
    }
    masked = mask_value("payload", payload)
    text = str(masked)
    for secret in (ID, MOBILE, CARD, "zhangwei", "3f9c2a7d-secret-session"):
        assert secret not in digits_of(text) and secret not in text, secret
    assert masked["card"] == "6222 **** **** 0123"
    assert masked["value"] == "138****5678"
    assert masked["channel_conversation"].startswith("web#")
    assert masked["policy_number"] == "LF2023000123" and masked["claim_number"] == "CL2600000088"
    assert masked["bank_name"] == "工商银行" and masked["share_pct"] == "50.00" and masked["amount"] == 12000
    assert mask_value("address", "北京市朝阳区建国路88号3单元501") == "北京市朝阳区****"


def test_conversation_reference_is_opaque_but_stable() -> None:
    ref = conversation_reference("web:abcdef0123456789")
    assert ref == conversation_reference("web:abcdef0123456789") and ref is not None
    assert ref.startswith("web#") and "abcdef" not in ref and "6789" not in ref
    assert conversation_reference(None) is None


def test_verification_answers_are_masked() -> None:
    assert mask_verification_answer("id_tail", "157317") == "******"
    assert mask_verification_answer("id_tail", "后六位是15731X") == "后六位是******"
    assert mask_verification_answer("policy_number", "LF2023000123") == "LF20****0123"
    assert mask_verification_answer("person_name", "张伟") == "张*"
    text = "保单LF2023000123,我叫张伟,身份证后六位157317"
    entities = [
        {"entity": "policy_number", "start": 2, "end": 14, "value": "LF2023000123"},
        {"entity": "person_name", "start": 17, "end": 19, "value": "张伟"},
        {"entity": "id_number", "start": 26, "end": 32, "value": "157317"},
    ]
    assert mask_entities(text, entities) == "保单LF20****0123,我叫张*,身份证后六位******"


def test_log_records_are_masked_message_args_and_traceback(caplog: pytest.LogCaptureFixture) -> None:
    masking.install_log_masking()
    log = logging.getLogger("tests.masking")
    with caplog.at_level(logging.INFO, logger="tests.masking"):
        log.info("customer %s typed card %s", "138-1234-5678", "6222 0212 3456 7890 123")
        log.info({"id_number": ID})
        try:
            raise ValueError(f"bad id {ID}")
        except ValueError:
            log.exception("failed for %s", MOBILE)
    text = caplog.text
    for secret in (ID, MOBILE, CARD, "138-1234-5678", "6222 0212 3456 7890 123"):
        assert secret not in text, secret
    assert "138****5678" in text and "6222 **** **** 0123" in text and "110101************" in text


def test_masking_module_imports_with_the_standard_library_only() -> None:
    """The Rasa environment imports bot.masking: no SQLAlchemy, pydantic or other package."""
    code = (
        "import sys, bot.masking as m; "
        "bad = [n for n in ('sqlalchemy', 'pydantic', 'pydantic_settings', 'fastapi') if n in sys.modules]; "
        "assert not bad, bad; print(m.mask_text('138 1234 5678'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "138****5678"
