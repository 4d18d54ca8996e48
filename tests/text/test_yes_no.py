"""Yes or no in a customer's words."""

from __future__ import annotations

import pytest

from bot.text.yes_no import parse_yes_no


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("是的", True),
        ("已经报了", True),
        ("OK", True),
        ("没有", False),
        ("还没报警", False),
        ("不是", False),  # a negation wins over 是
        ("No", False),
        ("在朝阳区", None),
        ("", None),
        (None, None),
    ],
)
def test_yes_no(text, expected):
    assert parse_yes_no(text) is expected
