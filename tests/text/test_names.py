"""Customer names as typed in a chat (bot/text/names.py)."""

from __future__ import annotations

import pytest

from bot.text.names import clean_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我叫张伟", "张伟"),
        ("张 伟", "张伟"),
        ("投保人是欧阳小明。", "欧阳小明"),
        ("12345", None),
        ("张", None),
    ],
)
def test_names_are_cleaned_from_what_customers_type(text, expected):
    assert clean_name(text) == expected
