from __future__ import annotations

import pytest

from bot.ids import (
    id_check_char,
    is_valid_id_number,
    normalize_claim_number,
    normalize_mobile,
    normalize_policy_number,
    normalize_ticket_number,
)
from bot.masking import mask_bank_account, mask_id_number, mask_mobile, mask_name


def test_check_digit_of_the_gb11643_example():
    # The standard's worked example: 11010519491231002 → X.
    assert id_check_char("11010519491231002") == "X"
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")


@pytest.mark.parametrize(
    "value",
    [
        "110105194912310021",
        "11010519491231002",
        "11010519491231002XX",
        "110105194913310029",
        "abcdefghijklmnopqr",
    ],
)
def test_invalid_id_numbers_are_refused(value):
    assert not is_valid_id_number(value)


def test_numbers_are_found_inside_chinese_sentences():
    assert normalize_policy_number("保单号LF2023000456想退保") == "LF2023000456"
    assert normalize_policy_number("我的保单是 lf 2023 000456") == "LF2023000456"
    assert normalize_policy_number("XLF2023000456") is None
    assert normalize_policy_number("LF20230004567") is None
    assert normalize_claim_number("案件CL2026001234到哪了") == "CL2026001234"
    assert normalize_ticket_number("工单号tk2611223344") == "TK2611223344"
    assert normalize_mobile("新号码是138 1234 5678谢谢") == "13812345678"
    assert normalize_mobile("123812345678") is None


def test_masking_hides_the_middle():
    assert mask_id_number("11010519491231002X") == "110105************"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_name("张伟") == "张*"
    assert mask_name("张小伟") == "张*伟"
    assert mask_bank_account("6222021234567890123") == "6222 **** **** 0123"
