"""The one Chinese-numeral parser the date and share parsers use."""

from __future__ import annotations

import pytest

from bot.text.zh_numbers import cn_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        (" 3 ", 3),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十三", 23),
        ("两", 2),
        ("〇", 0),
        ("零", 0),
        ("九", 9),
        ("一百", 100),
    ],
)
def test_numbers(text, expected):
    assert cn_number(text) == expected


@pytest.mark.parametrize("text", ["", "  ", "百零", "十二三", "十x", "七八", "abc"])
def test_not_numbers(text):
    assert cn_number(text) is None
