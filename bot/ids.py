"""Identifiers: resident ID numbers (GB 11643) and the assistant's number formats.

Patterns use lookarounds, not ``\\b``: Python treats Chinese characters as word characters, so
``\\bLF\\d{10}\\b`` would not match inside ``保单号LF2023000456想退保``.
"""

from __future__ import annotations

import re
from datetime import date

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"

POLICY_RE = re.compile(r"(?<![A-Za-z0-9])(LF|HE|AC|AU)\s?(\d{4})\s?(\d{6})(?![0-9])", re.IGNORECASE)
CLAIM_RE = re.compile(r"(?<![A-Za-z0-9])CL\s?(\d{10})(?![0-9])", re.IGNORECASE)
TICKET_RE = re.compile(r"(?<![A-Za-z0-9])TK\s?(\d{10})(?![0-9])", re.IGNORECASE)
ID_NUMBER_RE = re.compile(r"(?<![0-9])(\d{17}[0-9Xx])(?![0-9A-Za-z])")
MOBILE_RE = re.compile(r"(?<![0-9])(1[3-9]\d{9})(?![0-9])")


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def is_valid_id_number(value: str) -> bool:
    """An 18-character resident ID with a valid birth date and check character."""
    v = value.strip().upper()
    if len(v) != 18 or not v[:17].isdigit() or v[17] not in "0123456789X":
        return False
    try:
        date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return id_check_char(v[:17]) == v[17]


def id_birth_date(value: str) -> date:
    v = value.strip()
    return date(int(v[6:10]), int(v[10:12]), int(v[12:14]))


def id_gender(value: str) -> str:
    """``M`` or ``F`` from the 17th digit (odd: male)."""
    return "M" if int(value.strip()[16]) % 2 == 1 else "F"


def normalize_policy_number(text: str) -> str | None:
    """The first policy number in ``text``, upper case without spaces, or None."""
    m = POLICY_RE.search(text or "")
    return f"{m.group(1).upper()}{m.group(2)}{m.group(3)}" if m else None


def normalize_claim_number(text: str) -> str | None:
    m = CLAIM_RE.search(text or "")
    return f"CL{m.group(1)}" if m else None


def normalize_ticket_number(text: str) -> str | None:
    m = TICKET_RE.search(text or "")
    return f"TK{m.group(1)}" if m else None


def normalize_mobile(text: str) -> str | None:
    m = MOBILE_RE.search((text or "").replace(" ", "").replace("-", ""))
    return m.group(1) if m else None


def normalize_id_number(text: str) -> str | None:
    m = ID_NUMBER_RE.search((text or "").replace(" ", ""))
    return m.group(1).upper() if m else None
