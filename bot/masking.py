"""Masking of personal data wherever it is shown or logged: the one module for free text
(``mask_text``), structured data (``mask_value``: by key and by what the value looks like), log
records (``install_log_masking``) and the single fields shown on cards.

What is masked, whatever the separators (spaces, hyphens, full-width digits and dashes):
- resident IDs: ``110101************``: the last six characters are the verification secret and
  are never shown, not even in part;
- mobiles: ``138****5678``; bank cards and account numbers (12 to 30 digits): ``6222 **** **** 0123``;
- e-mail addresses: ``z***@example.com``;
- names and addresses by key; the verification answers in transcripts by context
  (``mask_verification_answer``).
Policy, claim and ticket numbers, dates, times and amounts are left as they are.

Only the standard library at run time: Rasa's environment imports this module (its tracker store
redacts with it).
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import TYPE_CHECKING, Any

from bot.ids import CLAIM_RE, POLICY_RE, TICKET_RE, is_valid_id_number

if TYPE_CHECKING:
    from bot.models import Policy, Ticket

# Full-width digits, letters X and separators typed with a Chinese input method, as ASCII.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ－\u3000＠．", "0123456789Xx- @.")
_DIGIT = "[0-9\uff10-\uff19]"
_SEP = "[ \t\u00a0\u3000\\-\u2010-\u2015\u2212\uff0d_/\\\\]"
_X = "[Xx\uff38\uff58]"
# A run of digits with separators of up to three characters between them (the X of an ID at the
# end), not glued to a letter or digit before it: "LF2023000123" is not a run of ten digits.
_DIGIT_RUN_RE = re.compile(
    rf"(?<![A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]){_DIGIT}(?:{_SEP}{{0,3}}{_DIGIT})*"
    rf"(?:{_SEP}{{0,3}}{_X})?(?![0-9\uff10-\uff19])"
)
_EMAIL_RE = re.compile(
    r"[A-Za-z0-9._%+\-\uff10-\uff19]+\s?[@\uff20]\s?[A-Za-z0-9\-]+(?:[.\uff0e][A-Za-z0-9\-]+)*[.\uff0e][A-Za-z]{2,}"
)
# Kept as they are, whatever digits are around them: business numbers and dates.
_DATE_RE = re.compile(r"(?<![0-9])\d{4}\s?[-/.年]\s?\d{1,2}\s?[-/.月]\s?\d{1,2}(?![0-9])")
_KEEP_RES = (POLICY_RE, CLAIM_RE, TICKET_RE, _DATE_RE)
_SEPARATORS = re.compile(_SEP)


def _plain(value: str) -> str:
    """Digits and X in ASCII, without separators: ``１３８-1234 5678`` → ``13812345678``."""
    return _SEPARATORS.sub("", value.translate(_FULL_WIDTH)).upper()


# --- single values ---


def mask_id_number(value: str | None) -> str:
    """``110101199003071234`` → ``110101************``: never any of the last six characters."""
    if not value:
        return ""
    v = _plain(value.strip())
    if len(v) < 12:  # an ID tail or a fragment: nothing of it is shown
        return "*" * len(v)
    return v[:6] + "*" * (len(v) - 6)


def mask_id_tail(value: str | None) -> str:
    """The last six of an ID (a verification answer): all stars."""
    return "*" * len(_plain(value.strip())) if value else ""


def mask_mobile(value: str | None) -> str:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return ""
    v = _plain(value.strip()).lstrip("+")
    if v.startswith("86") and len(v) == 13:
        v = v[2:]
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
    v = _plain(value)
    if _contains_id(v):
        return mask_id_number(v)
    if len(v) <= 8:
        return "*" * max(len(v) - 4, 0) + v[-4:] if len(v) > 4 else "*" * len(v)
    return f"{v[:4]} **** **** {v[-4:]}"


def mask_email(value: str | None) -> str:
    """``zhangwei@example.com`` → ``z***@example.com``."""
    if not value:
        return ""
    v = value.translate(_FULL_WIDTH).replace(" ", "")
    if "@" not in v:
        return mask_name(value)
    local, domain = v.split("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_address(value: str | None) -> str:
    """Keep the province/city part, hide the street and number."""
    if not value:
        return ""
    keep = min(len(value), 6)
    return mask_text(value[:keep]) + "****"


def mask_policy_number(value: str | None) -> str:
    """``LF2023000123`` → ``LF20****0123`` (a verification answer shown in a transcript)."""
    if not value:
        return ""
    v = _plain(value.strip())
    if len(v) < 8:
        return "*" * len(v)
    return v[:4] + "*" * (len(v) - 8) + v[-4:]


def conversation_reference(conversation_id: str | None) -> str | None:
    """``web:3f9c…`` → ``web#5d41402a``: the channel and an opaque digest, never the id itself
    (a web session id or a Telegram chat id would let a reader act as the customer)."""
    if not conversation_id:
        return None
    channel, sep, _ident = conversation_id.partition(":")
    digest = hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:8]
    return f"{channel}#{digest}" if sep else f"#{digest}"


# --- free text ---


def _contains_id(digits: str) -> bool:
    """Whether a run of digits holds an 18-character resident ID anywhere in it."""
    if len(digits) == 18 and digits[:17].isdigit():
        return True
    return any(is_valid_id_number(digits[i : i + 18]) for i in range(0, len(digits) - 17))


def _mask_run(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = _plain(raw)
    if len(digits) >= 15 and _contains_id(digits):
        return mask_id_number(digits)
    if len(digits) == 15 and digits.isdigit() and not digits.startswith("62"):
        return mask_id_number(digits)  # a first-generation (15-digit) ID
    if len(digits) == 11 and re.fullmatch(r"1[3-9]\d{9}", digits):
        return mask_mobile(digits)
    if len(digits) == 13 and re.fullmatch(r"861[3-9]\d{9}", digits):
        return "86 " + mask_mobile(digits[2:])
    if len(digits) >= 12 and digits.rstrip("X").isdigit():
        return mask_bank_account(digits)
    return raw


def mask_text(value: str) -> str:
    """Mask resident IDs, mobiles, bank cards and e-mails inside free text (customer messages,
    assistant replies, notes, log lines), whatever the separators; business numbers and dates
    stay readable."""
    if not value or not isinstance(value, str):
        return value
    kept: list[str] = []

    def keep(m: re.Match[str]) -> str:
        kept.append(m.group(0))
        return f"\ue000{len(kept) - 1}\ue001"

    out = _EMAIL_RE.sub(lambda m: mask_email(m.group(0)), value)
    for pattern in _KEEP_RES:
        out = pattern.sub(keep, out)
    out = _DIGIT_RUN_RE.sub(_mask_run, out)
    if kept:
        out = re.sub("\ue000(\\d+)\ue001", lambda m: kept[int(m.group(1))], out)
    return out


def contains_personal_number(value: str) -> bool:
    """Whether free text still holds a full resident ID, mobile or card number."""
    return mask_text(value) != value


# --- verification answers (policy number, policyholder's name, ID tail) ---

VERIFICATION_SLOTS = ("policy_number", "person_name", "id_tail")


def mask_verification_answer(slot: str, text: str) -> str:
    """A customer's answer to a verification question, as staff may see it."""
    if slot == "policy_number":
        masked = POLICY_RE.sub(lambda m: mask_policy_number(m.group(0)), text)
        return mask_text(masked) if masked != text else "*" * min(len(text), 12)
    if slot == "id_tail":
        return mask_text(re.sub(r"[0-9\uff10-\uff19Xx\uff38\uff58]", "*", text))
    if slot == "person_name":
        return mask_name(text)
    return mask_text(text)


def mask_entities(text: str, entities: list[dict[str, Any]] | None) -> str:
    """Mask the verification answers NLU found in ``text`` (policy number, person name, ID)."""
    slot_of = {"policy_number": "policy_number", "person_name": "person_name", "id_number": "id_tail"}
    spans = []
    for ent in entities or []:
        if not isinstance(ent, dict) or ent.get("entity") not in slot_of:
            continue
        start, end = ent.get("start"), ent.get("end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
            spans.append((start, end, slot_of[str(ent["entity"])]))
    for start, end, slot in sorted(set(spans), reverse=True):
        text = text[:start] + mask_verification_answer(slot, text[start:end]) + text[end:]
    return mask_text(text)


# --- structured data (ticket payloads, slots, audit records) ---


def _mask_free(value: str) -> str:
    return mask_text(value)


def _mask_contact_value(value: str) -> str:
    """A value that may be a mobile, an e-mail or an address (``cc_value``, ``value``)."""
    masked = mask_text(value)
    return masked if masked != value else mask_address(value)


def _mask_conversation(value: str) -> str:
    return conversation_reference(value) or ""


# Which masker a payload key gets: the first needle found in the key (lower-case) wins.
_MASKERS = (
    ("conversation", _mask_conversation),
    ("sender", _mask_conversation),
    ("id_number", mask_id_number),
    ("idnumber", mask_id_number),
    ("id_tail", mask_id_tail),
    ("holder", mask_name),
    ("account", mask_bank_account),
    ("card", mask_bank_account),
    ("mobile", mask_mobile),
    ("phone", mask_mobile),
    ("email", mask_email),
    ("address", mask_address),
    ("name", mask_name),
    ("cc_value", _mask_contact_value),
    ("new_value", _mask_contact_value),
    ("old_value", _mask_contact_value),
)
_CONTACT_VALUE_KEYS = {"value", "old", "new"}
_UNMASKED_KEYS = {
    "bank_name",
    "product_name",
    "file_name",
    "doc_name",
    "team_name",
    "type_name",
    "intent_name",
    "action_name",
    "business_type",
    "claim_type",
    "cc_field",
    "field",
}


def mask_value(key: str, value: Any) -> Any:
    """Mask ``value`` by what its ``key`` says it is and, whatever the key, by what the value
    looks like (an ID, mobile, card or e-mail inside any string); dicts and lists all the way down."""
    if isinstance(value, dict):
        return {k: mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(key, v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= 11:
        return mask_value(key, str(value))  # a mobile or card stored as a number
    if not isinstance(value, str):
        return value
    lowered = key.lower()
    if lowered in _UNMASKED_KEYS:
        return mask_text(value)
    if lowered in _CONTACT_VALUE_KEYS:
        return _mask_contact_value(value)
    for needle, fn in _MASKERS:
        if needle in lowered:
            return fn(value)
    return _mask_free(value)


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


# --- logs ---


def mask_log_record(record: logging.LogRecord) -> logging.LogRecord:
    """Replace the record's message (its args merged in) and any traceback text by masked text."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: log what there is rather than lose the line
        message = f"{record.msg!s} {record.args!r}"
    record.msg = mask_text(str(message))
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    return record


class MaskingFilter(logging.Filter):
    """A ``logging.Filter`` for handlers that masks every record passing through."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_log_record(record)
        return True


_installed = False


def install_log_masking() -> None:
    """Mask every log record of this process at its creation (whatever logger or handler writes
    it), and on the handlers already configured. Idempotent."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_log_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
