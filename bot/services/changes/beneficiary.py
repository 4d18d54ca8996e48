"""Beneficiary change: the new list of death beneficiaries replaces the policy's list.

Stored payload (``TicketType.BENEFICIARY_CHANGE``; full values, the desk masks them on display;
``before`` is a snapshot taken when the ticket was opened)::

    {"kind": "beneficiary_change", "policy_number": "LF2023000123",
     "before": [{"name": "陈静", "relationship": "配偶", "id_number": "1101...",
                 "share_pct": "50.00", "order": 1}, ...],
     "after":  [{"name": "张子涵", "relationship": "子女", "id_number": "1101...",
                 "share_pct": "100.00", "order": 1}]}

``relationship`` is one of 配偶/子女/父母/兄弟姐妹/其他 (relationship to the insured); ``share_pct``
is a decimal string, the shares of one ``order`` total exactly 100; every ``id_number`` passes
the GB 11643 check. The demo seed writes the same shape; any other is refused at the desk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from bot.errors import ChangeRequestInvalid
from bot.ids import is_valid_id_number, normalize_id_number
from bot.masking import mask_id_number, mask_name, masked_beneficiaries
from bot.models import Beneficiary, Customer, Policy, Ticket, TicketType
from bot.services.changes.common import (
    bad_payload,
    mapping,
    only_keys,
    open_change_ticket,
    policy_of,
    record_applied,
)
from bot.services.tickets.create import ServiceTicket
from bot.text.zh_input import HUNDRED, RELATIONSHIPS

MAX_BENEFICIARIES = 5
CENT = Decimal("0.01")
ROW_KEYS = ("name", "relationship", "id_number", "share_pct", "order")


def format_pct(value: Decimal) -> str:
    q = value.quantize(CENT, rounding=ROUND_HALF_UP)
    text = f"{q:f}".rstrip("0").rstrip(".") if "." in f"{q:f}" else f"{q:f}"
    return f"{text}%"


@dataclass(frozen=True)
class NewBeneficiary:
    """One beneficiary row, as the form collects it and as the ticket payload stores it."""

    name: str
    relationship: str
    id_number: str
    share_pct: Decimal
    order: int = 1

    def as_payload(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "relationship": self.relationship,
            "id_number": self.id_number,
            "share_pct": str(self.share_pct.quantize(CENT)),
            "order": self.order,
        }

    def masked_zh(self) -> str:
        return (
            f"{mask_name(self.name)}({self.relationship}),身份证 {mask_id_number(self.id_number)},"
            f"受益比例 {format_pct(self.share_pct)}"
        )

    @classmethod
    def from_payload(cls, row: Any) -> NewBeneficiary:
        """A row written by ``as_payload``; any other key is refused."""
        data = mapping(row, "受益人信息")
        only_keys(data, ROW_KEYS)
        try:
            share = Decimal(str(data["share_pct"]))
            order = int(data.get("order") or 1)
        except (KeyError, InvalidOperation, ValueError, TypeError) as exc:
            raise bad_payload("受益比例格式不正确") from exc
        if not share.is_finite():
            raise bad_payload("受益比例格式不正确")
        return cls(
            name=str(data.get("name") or "").strip(),
            relationship=str(data.get("relationship") or "").strip(),
            id_number=str(data.get("id_number") or "").strip().upper(),
            share_pct=share,
            order=order,
        )

    @classmethod
    def of(cls, row: Beneficiary) -> NewBeneficiary:
        return cls(row.name, row.relationship_to_insured, row.id_number, Decimal(row.share_pct), row.order)


def _rows(value: Any) -> tuple[NewBeneficiary, ...]:
    if not isinstance(value, list):
        raise bad_payload("受益人信息缺失")
    return tuple(NewBeneficiary.from_payload(row) for row in value)


@dataclass(frozen=True)
class BeneficiaryChange:
    """The change a beneficiary-change ticket carries: ``after`` replaces the policy's list."""

    ticket_type: ClassVar[TicketType] = TicketType.BENEFICIARY_CHANGE
    after: tuple[NewBeneficiary, ...]
    before: tuple[NewBeneficiary, ...] = ()
    policy_number: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.ticket_type.value,
            "policy_number": self.policy_number,
            "before": [r.as_payload() for r in self.before],
            "after": [r.as_payload() for r in self.after],
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> BeneficiaryChange:
        data = mapping(payload, "变更信息")
        only_keys(data, ("kind", "policy_number", "before", "after"))
        if "after" not in data:
            raise bad_payload("受益人信息缺失")
        number = data.get("policy_number")
        return cls(
            after=_rows(data["after"]),
            before=_rows(data.get("before", [])),
            policy_number=str(number) if number else None,
        )


def total_share(rows: Sequence[NewBeneficiary]) -> Decimal:
    return sum((r.share_pct for r in rows), Decimal("0"))


def check_id_number(text: str | None, *, insured: Customer | None, taken: Sequence[NewBeneficiary]) -> str:
    """A beneficiary's resident ID: 18 characters with a valid check digit, not the insured's,
    not twice in the list. Raises ``ChangeRequestInvalid`` with the reason in Chinese."""
    number = normalize_id_number(str(text or ""))
    if number is None:
        raw = re.sub(r"\s+", "", str(text or ""))
        if re.fullmatch(r"\d{17}[0-9Xx]", raw):
            raise ChangeRequestInvalid("这个身份证号码的校验位不正确,请您核对后重新输入18位身份证号码。")
        raise ChangeRequestInvalid("请输入受益人的18位居民身份证号码,最后一位可能是字母X。")
    if not is_valid_id_number(number):
        raise ChangeRequestInvalid("这个身份证号码的校验位不正确,请您核对后重新输入18位身份证号码。")
    if insured is not None and number == insured.id_number.upper():
        raise ChangeRequestInvalid("身故受益人不能是被保险人本人,请提供其他受益人的身份证号码。")
    if any(b.id_number == number for b in taken):
        raise ChangeRequestInvalid("这位受益人已经添加过了,请提供另一位受益人的身份证号码。")
    return number


def check_share(value: Decimal | None, *, taken: Sequence[NewBeneficiary]) -> Decimal:
    """A share between 0 and what is left of 100%."""
    used = total_share(taken)
    left = HUNDRED - used
    if value is None or value <= 0 or value != value.quantize(CENT):
        raise ChangeRequestInvalid(
            f"请输入这位受益人的受益比例,例如“50%”。目前已分配{format_pct(used)},还可分配{format_pct(left)}。"
        )
    if value > left:
        raise ChangeRequestInvalid(
            f"受益比例合计不能超过100%。目前已分配{format_pct(used)},"
            f"这位受益人最多还可分配{format_pct(left)},请重新输入。"
        )
    return value


def validate_beneficiaries(rows: Sequence[NewBeneficiary], insured: Customer | None) -> None:
    """The rules of a new beneficiary list, at creation and again at the desk."""
    if not rows:
        raise ChangeRequestInvalid("请至少添加一位受益人。")
    if len(rows) > MAX_BENEFICIARIES:
        raise ChangeRequestInvalid(f"每张保单最多可指定{MAX_BENEFICIARIES}位身故受益人。")
    ids = [r.id_number for r in rows]
    if len(set(ids)) != len(ids):
        raise ChangeRequestInvalid("同一位受益人只能添加一次。")
    for r in rows:
        if not r.name:
            raise ChangeRequestInvalid("请提供每位受益人的姓名。")
        if not is_valid_id_number(r.id_number):
            raise ChangeRequestInvalid(f"受益人{mask_name(r.name)}的身份证号码校验位不正确。")
        if insured is not None and r.id_number == insured.id_number.upper():
            raise ChangeRequestInvalid("身故受益人不能是被保险人本人。")
        if r.relationship not in RELATIONSHIPS:
            raise ChangeRequestInvalid(f"受益人{mask_name(r.name)}与被保险人的关系无法识别。")
        if not 0 < r.share_pct <= HUNDRED:
            raise ChangeRequestInvalid(f"受益人{mask_name(r.name)}的受益比例须在0到100%之间。")
    for order in sorted({r.order for r in rows}):
        total = total_share([r for r in rows if r.order == order])
        if total != HUNDRED:
            raise ChangeRequestInvalid(
                f"受益比例合计须为100%,目前合计{format_pct(total)},还差{format_pct(HUNDRED - total)}。",
                total=str(total),
            )


def validate(session: Session, policy: Policy, change: BeneficiaryChange) -> None:
    validate_beneficiaries(change.after, session.get(Customer, policy.insured_id))


def readback_beneficiaries_zh(rows: Sequence[NewBeneficiary]) -> str:
    lines = [f"{i}. {r.masked_zh()}" for i, r in enumerate(rows, 1)]
    lines.append(f"受益比例合计:{format_pct(total_share(rows))}")
    return "\n".join(lines)


def _is_minor(person: Customer, today: date) -> bool:
    b = person.birth_date
    return (today.year - b.year - ((today.month, today.day) < (b.month, b.day))) < 18


def request_beneficiary_change(
    session: Session, *, policy: Policy, rows: Sequence[NewBeneficiary], conversation_id: str | None
) -> ServiceTicket:
    change = BeneficiaryChange(
        after=tuple(rows),
        before=tuple(NewBeneficiary.of(b) for b in policy.beneficiaries),
        policy_number=policy.number,
    )
    validate(session, policy, change)
    insured = session.get(Customer, policy.insured_id)
    return open_change_ticket(
        session,
        change,
        policy=policy,
        conversation_id=conversation_id,
        conditions={"minor_insured": _is_minor(insured, date.today()) if insured is not None else None},
    )


def check(session: Session, ticket: Ticket) -> BeneficiaryChange:
    change = BeneficiaryChange.from_json(ticket.payload or {})
    validate(session, policy_of(session, ticket), change)
    return change


def apply(session: Session, actor: str, ticket: Ticket) -> dict[str, Any]:
    change = check(session, ticket)
    policy = policy_of(session, ticket)
    before = {"beneficiaries": masked_beneficiaries(policy)}
    policy.beneficiaries.clear()
    session.flush()
    for row in change.after:
        policy.beneficiaries.append(
            Beneficiary(
                name=row.name,
                relationship_to_insured=row.relationship,
                id_number=row.id_number,
                share_pct=row.share_pct.quantize(CENT),
                order=row.order,
            )
        )
    session.flush()
    session.refresh(policy, ["beneficiaries"])
    after = {"beneficiaries": masked_beneficiaries(policy)}
    record_applied(session, actor, "update_beneficiaries", policy, before=before, after=after)
    return {"policy": policy.number, "fields": ["beneficiaries"]}
