"""Yes or no in a customer's words ("没有", "已经报了", "好的", "no")."""

from __future__ import annotations

import re

_NEGATIVE = re.compile(r"没|不|未|无|否|还没|尚未|没有|no\b", re.IGNORECASE)
_POSITIVE = re.compile(r"是|对|有|已|报了|拍了|好|嗯|确认|可以|yes|ok|没错|正确", re.IGNORECASE)


def parse_yes_no(text: str | None) -> bool | None:
    """False on any negation, else True on an affirmative word, else None (not an answer)."""
    if not text:
        return None
    value = text.strip()
    if _NEGATIVE.search(value):
        return False
    if _POSITIVE.search(value):
        return True
    return None
