"""Masking of personal data wherever it is shown or logged."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.models import Policy, Ticket


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


# --- tickets ---

# Which masker a payload key gets: the first needle found in the key (lower-case) wins.
_MASKERS = (
    ("id_number", mask_id_number),
    ("id_tail", mask_id_number),  # last six of an ID: ****17
    ("holder", mask_name),
    ("account", mask_bank_account),
    ("mobile", mask_mobile),
    ("phone", mask_mobile),
    ("email", mask_email),
    ("address", mask_address),
    ("name", mask_name),
)
_UNMASKED_NAME_KEYS = {"bank_name", "product_name", "file_name", "doc_name"}


def mask_value(key: str, value: Any) -> Any:
    """Mask ``value`` by what its ``key`` says it is; dicts and lists are masked all the way down."""
    if isinstance(value, dict):
        return {k: mask_value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(key, v) for v in value]
    if not isinstance(value, str) or key in _UNMASKED_NAME_KEYS:
        return value
    lowered = key.lower()
    for needle, fn in _MASKERS:
        if needle in lowered:
            return fn(value)
    return value


def mask_field(key: str, value: Any) -> Any:
    """``mask_value`` that keeps None as None (an empty field stays empty in the audit log)."""
    return None if value is None else mask_value(key, value)


def mask_contact(field_name: str, value: str | None) -> str:
    """A contact field (mobile / email / address) masked by its kind."""
    return {"mobile": mask_mobile, "email": mask_email, "address": mask_address}[field_name](value)


def masked_payload(ticket: Ticket) -> dict[str, Any]:
    result: dict[str, Any] = mask_value("payload", dict(ticket.payload or {}))
    return result


def masked_beneficiaries(policy: Policy) -> list[dict[str, Any]]:
    return [
        {
            "name": mask_name(b.name),
            "relationship": b.relationship_to_insured,
            "id_number": mask_id_number(b.id_number),
            "share_pct": str(b.share_pct),
            "order": b.order,
        }
        for b in policy.beneficiaries
    ]


# --- free text (stub of the procs helper until the masking helper's mask_text merges) ---

# a run of digits (ASCII or full-width) with optional single spaces or hyphens between them
_NUMBER_RUN = re.compile(
    r"(?<![0-9０-９])[0-9０-９](?:[ \-]?[0-9０-９]){10,29}(?:[ \-]?[XxＸｘ])?(?![0-9０-９A-Za-z])"
)
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")


def _mask_number_run(match: re.Match[str]) -> str:
    digits = re.sub(r"[ \-]", "", match.group(0)).translate(_FULL_WIDTH)
    if len(digits) == 18 and digits[:17].isdigit():
        return mask_id_number(digits)
    if len(digits) == 11 and digits[0] == "1" and digits.isdigit():
        return mask_mobile(digits)
    if digits.isdigit() and len(digits) >= 12:
        return mask_bank_account(digits)
    return match.group(0)


def mask_text(text: str) -> str:
    """Mask resident IDs, mobiles and bank cards inside free text, whatever the separators."""
    return _NUMBER_RUN.sub(_mask_number_run, text)
