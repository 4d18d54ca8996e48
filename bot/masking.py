"""Masking of personal data wherever it is shown or logged."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """``110101199003071234`` → ``1101**********1234``."""
    if not value:
        return ""
    v = value.strip()
    if len(v) <= 8:
        return "*" * max(len(v) - 2, 0) + v[-2:]
    return v[:4] + "*" * (len(v) - 8) + v[-4:]


def mask_mobile(value: str | None) -> str:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return ""
    v = value.strip()
    if len(v) < 7:
        return "*" * len(v)
    return v[:3] + "*" * (len(v) - 7) + v[-4:]


def mask_name(value: str | None) -> str:
    """``张伟`` → ``张*``, ``张小伟`` → ``张*伟``, ``欧阳小明`` → ``欧**明``."""
    if not value:
        return ""
    v = value.strip()
    if len(v) == 1:
        return v
    if len(v) == 2:
        return v[0] + "*"
    return v[0] + "*" * (len(v) - 2) + v[-1]


def mask_bank_account(value: str | None) -> str:
    """``6222021234567890123`` → ``6222 **** **** 0123``."""
    if not value:
        return ""
    v = value.replace(" ", "")
    if len(v) <= 8:
        return "*" * (len(v) - 4) + v[-4:]
    return f"{v[:4]} **** **** {v[-4:]}"


def mask_email(value: str | None) -> str:
    """``zhangwei@example.com`` → ``z***@example.com``."""
    if not value or "@" not in value:
        return mask_name(value)
    local, domain = value.split("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_address(value: str | None) -> str:
    """Keep the province/city part, hide the street and number."""
    if not value:
        return ""
    keep = min(len(value), 6)
    return value[:keep] + "****"
