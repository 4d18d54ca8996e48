"""Change requests (bot/services/changes/): the checks, the payload the desk applies, the
documents and timeline, and idempotent ticket creation — on a real database session."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.errors import ChangeRequestInvalid, PolicyNotEligible
from bot.models import PolicyStatus, Ticket, TicketType
from bot.services.changes import beneficiary, contact, payment_account
from bot.services.changes.beneficiary import NewBeneficiary
from bot.text import zh_input
from tests.factories import make_customer, make_policy, valid_id_number

DAUGHTER = valid_id_number(date(2010, 3, 15), 2)
SON = valid_id_number(date(2015, 5, 6), 1)


@pytest.fixture
def policy(session):
    holder = make_customer(session, name="张伟", mobile="13800138000")
    return make_policy(session, holder, number="LF2023000123")


@pytest.mark.parametrize(
    ("text", "pct"),
    [
        ("50%", "50"),
        ("50", "50"),
        ("百分之三十", "30"),
        ("三成", "30"),
        ("一半", "50"),
        ("全部", "100"),
        ("33.5%", "33.5"),
        ("不知道", None),
    ],
)
def test_shares_in_the_ways_customers_write_them(text, pct):
    assert zh_input.parse_share(text) == (Decimal(pct) if pct else None)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("我老婆", "配偶"),
        ("是我女儿", "子女"),
        ("我妈", "父母"),
        ("弟弟", "兄弟姐妹"),
        ("朋友", "其他"),
        ("同事吧", None),
    ],
)
def test_relationships_are_canonical(text, canonical):
    assert zh_input.canonical_relationship(text) == canonical


def test_id_number_needs_its_check_digit_and_cannot_be_the_insured_or_twice(policy):
    with pytest.raises(ChangeRequestInvalid, match="校验位"):
        beneficiary.check_id_number(
            DAUGHTER[:-1] + ("0" if DAUGHTER[-1] != "0" else "1"), insured=None, taken=[]
        )
    with pytest.raises(ChangeRequestInvalid, match="18位"):
        beneficiary.check_id_number("1101", insured=None, taken=[])
    with pytest.raises(ChangeRequestInvalid, match="被保险人本人"):
        beneficiary.check_id_number(policy.insured.id_number, insured=policy.insured, taken=[])
    taken = [NewBeneficiary("李小红", "子女", DAUGHTER, Decimal("50"))]
    with pytest.raises(ChangeRequestInvalid, match="已经添加过"):
        beneficiary.check_id_number(f"身份证 {DAUGHTER.lower()}", insured=None, taken=taken)
    assert beneficiary.check_id_number(SON, insured=policy.insured, taken=taken) == SON


def test_a_share_cannot_push_the_total_past_100_and_says_what_is_left():
    taken = [NewBeneficiary("陈静", "配偶", DAUGHTER, Decimal("70"))]
    with pytest.raises(ChangeRequestInvalid, match=r"目前已分配70%.*最多还可分配30%"):
        beneficiary.check_share(Decimal("40"), taken=taken)
    assert beneficiary.check_share(Decimal("30"), taken=taken) == Decimal("30")
    with pytest.raises(ChangeRequestInvalid):
        beneficiary.check_share(Decimal("0"), taken=[])


def test_the_list_must_total_exactly_100(policy):
    rows = [
        NewBeneficiary("陈静", "配偶", DAUGHTER, Decimal("33.33")),
        NewBeneficiary("张子涵", "子女", SON, Decimal("33.33")),
    ]
    with pytest.raises(ChangeRequestInvalid, match=r"目前合计66\.66%,还差33\.34%"):
        beneficiary.validate_beneficiaries(rows, policy.insured)
    too_many = [
        NewBeneficiary(f"受益人{i}", "其他", valid_id_number(date(1990, 1, i + 1), i), Decimal("100") / 6)
        for i in range(6)
    ]
    with pytest.raises(ChangeRequestInvalid, match="最多"):
        beneficiary.validate_beneficiaries(too_many, policy.insured)


def test_the_read_back_is_masked():
    rows = [NewBeneficiary("李小红", "子女", "11010520100315002X", Decimal("100"))]
    text = beneficiary.readback_beneficiaries_zh(rows)
    assert "李*红" in text and "110105************" in text and "李小红" not in text
    assert "受益比例合计:100%" in text


def test_beneficiary_change_ticket_payload_documents_and_idempotency(session, policy):
    rows = [
        NewBeneficiary("陈静", "配偶", DAUGHTER, Decimal("60")),
        NewBeneficiary("张子涵", "子女", SON, Decimal("40")),
    ]
    first = beneficiary.request_beneficiary_change(session, policy=policy, rows=rows, conversation_id="web:b")
    again = beneficiary.request_beneficiary_change(session, policy=policy, rows=rows, conversation_id="web:b")
    assert first.created and not again.created and again.ticket.id == first.ticket.id
    ticket = first.ticket
    assert ticket.ticket_type is TicketType.BENEFICIARY_CHANGE and ticket.requires_checker
    assert (
        ticket.payload["kind"] == "beneficiary_change" and ticket.payload["policy_number"] == "LF2023000123"
    )
    assert (
        ticket.payload["before"][0]["name"] == "李娜" and ticket.payload["before"][0]["share_pct"] == "100.00"
    )
    assert ticket.payload["after"] == [
        {"name": "陈静", "relationship": "配偶", "id_number": DAUGHTER, "share_pct": "60.00", "order": 1},
        {"name": "张子涵", "relationship": "子女", "id_number": SON, "share_pct": "40.00", "order": 1},
    ]
    assert "被保险人同意变更的书面声明" in first.checklist_zh
    assert "复核" in first.timeline_zh
    changed = [NewBeneficiary("陈静", "配偶", DAUGHTER, Decimal("100"))]
    other = beneficiary.request_beneficiary_change(
        session, policy=policy, rows=changed, conversation_id="web:b"
    )
    assert other.ticket.id != ticket.id


def test_contact_change_checks_and_payload(session, policy):
    with pytest.raises(ChangeRequestInvalid, match="11位"):
        contact.check_contact_value("mobile", "1234", None)
    with pytest.raises(ChangeRequestInvalid, match="相同"):
        contact.check_contact_value("mobile", "138 0013 8000", policy.policyholder)
    with pytest.raises(ChangeRequestInvalid, match="邮箱"):
        contact.check_contact_value("email", "zhangwei#163", None)
    with pytest.raises(ChangeRequestInvalid, match="完整的联系地址"):
        contact.check_contact_value("address", "我家", None)
    assert contact.contact_field_of("我换手机号了") == "mobile"
    assert contact.contact_field_of("搬家了") == "address"
    result = contact.request_contact_change(
        session, policy=policy, field_name="mobile", value="新号13912345678", conversation_id="web:c"
    )
    payload = result.ticket.payload
    assert result.ticket.ticket_type is TicketType.CONTACT_CHANGE
    assert payload["before"]["mobile"] == "13800138000" and payload["after"]["mobile"] == "13912345678"
    assert payload["after"]["email"] == payload["before"]["email"] and payload["changed"] == ["mobile"]
    text = contact.readback_contact_zh("mobile", "13912345678", policy.policyholder)
    assert "139****5678" in text and "138****8000" in text


def test_payment_account_needs_a_known_bank_a_luhn_valid_new_card_and_the_policyholder(session, policy):
    assert zh_input.luhn_ok("6225880137005311") and not zh_input.luhn_ok("6225880137005317")
    assert zh_input.luhn_check_digit("622588013700531") == "1"
    with pytest.raises(ChangeRequestInvalid, match="校验"):
        payment_account.check_card_number("6225 8801 3700 5317", policy)
    with pytest.raises(ChangeRequestInvalid, match="16至19位"):
        payment_account.check_card_number("12345", policy)
    with pytest.raises(ChangeRequestInvalid, match="目前的扣款账户"):
        payment_account.check_card_number(policy.bank_account, policy)
    with pytest.raises(ChangeRequestInvalid, match="投保人本人"):
        payment_account.request_payment_account_change(
            session,
            policy=policy,
            bank_name="招行",
            card_number="6225880137005311",
            holder_name="李四",
            conversation_id="web:p",
        )
    result = payment_account.request_payment_account_change(
        session,
        policy=policy,
        bank_name="招行",
        card_number="6225-8801-3700-5311",
        holder_name="张伟",
        conversation_id="web:p",
    )
    payload = result.ticket.payload
    assert payload["before"] == {"bank_name": "中国工商银行", "bank_account": "6222021234567890123"}
    assert payload["after"] == {
        "bank_name": "招商银行",
        "bank_account": "6225880137005311",
        "account_holder": "张伟",
    }
    assert "银行转账授权书" in result.checklist_zh
    assert "6225 **** **** 5311" in payment_account.readback_payment_account_zh(
        "招商银行", "6225880137005311", "张伟"
    )


def test_no_change_on_a_terminated_policy(session, policy):
    policy.status = PolicyStatus.TERMINATED
    with pytest.raises(PolicyNotEligible):
        contact.request_contact_change(
            session, policy=policy, field_name="email", value="new@example.com", conversation_id="web:x"
        )
    assert session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).all() == []
