"""Contact change: the policyholder's mobile, e-mail or address.

Stored payload (``TicketType.CONTACT_CHANGE``)::

    {"kind": "contact_change", "policy_number": "LF2023000123", "customer_id": 7,
     "before": {"mobile": "13800138000", "email": "a@b.cn", "address": "北京市..."},
     "after":  {"mobile": "13900001111", "email": "a@b.cn", "address": "北京市..."},
     "changed": ["mobile"]}

Applied to the policyholder (``Customer``); ``after`` holds all three fields, the changed one(s)
new, the rest as before; ``changed`` lists the field names that differ. The demo seed writes the
same shape; any other is refused at the desk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from bot.errors import ChangeRequestInvalid, PolicyNotEligible
from bot.ids import normalize_mobile
from bot.labels_zh import CONTACT_FIELD_LABELS_ZH
from bot.masking import mask_contact, mask_field
from bot.models import Customer, Policy, Ticket, TicketType
from bot.services.changes.common import (
    bad_payload,
    customer_of,
    mapping,
    only_keys,
    open_change_ticket,
    record_applied,
)
from bot.services.tickets.create import ServiceTicket
from bot.text.zh_input import email_of

CONTACT_FIELDS = tuple(CONTACT_FIELD_LABELS_ZH)
ASK_FIELD_ZH = "请告诉我您要变更手机号码、电子邮箱还是联系地址。"


def _values(value: Any, what: str) -> dict[str, str | None]:
    data = mapping(value, what)
    only_keys(data, CONTACT_FIELDS)
    return {k: None if v is None else str(v) for k, v in data.items()}


@dataclass(frozen=True)
class ContactChange:
    """The change a contact-change ticket carries: the ``changed`` fields take their ``after`` value."""

    ticket_type: ClassVar[TicketType] = TicketType.CONTACT_CHANGE
    after: Mapping[str, str | None]
    changed: tuple[str, ...]
    before: Mapping[str, str | None] = field(default_factory=dict)
    policy_number: str | None = None
    customer_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.ticket_type.value, "policy_number": self.policy_number}
        if self.customer_id is not None:
            out["customer_id"] = self.customer_id
        out.update(before=dict(self.before), after=dict(self.after), changed=list(self.changed))
        return out

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> ContactChange:
        data = mapping(payload, "变更信息")
        only_keys(data, ("kind", "policy_number", "customer_id", "before", "after", "changed"))
        before = _values(data.get("before", {}), "原联系方式")
        after = _values(data.get("after"), "新联系方式")
        changed = data.get("changed")
        if not isinstance(changed, list) or any(k not in CONTACT_FIELDS for k in changed):
            raise bad_payload("变更项目无法识别")
        try:
            customer_id = int(data["customer_id"]) if data.get("customer_id") is not None else None
        except (TypeError, ValueError) as exc:
            raise bad_payload("客户编号格式不正确") from exc
        number = data.get("policy_number")
        return cls(
            after=after,
            changed=tuple(changed),
            before=before,
            policy_number=str(number) if number else None,
            customer_id=customer_id,
        )


def contact_field_of(text: str | None) -> str | None:
    value = str(text or "").lower()
    if not value:
        return None
    if value.strip() in CONTACT_FIELDS:
        return value.strip()
    if any(w in value for w in ("手机", "电话", "号码", "mobile", "phone")):
        return "mobile"
    if any(w in value for w in ("邮箱", "email", "邮件", "e-mail")):
        return "email"
    if any(w in value for w in ("地址", "住址", "搬家", "address")):
        return "address"
    return None


def check_contact_value(field_name: str, text: str | None, customer: Customer | None) -> str:
    """The new value of one contact field, read from what was typed and checked; it must differ
    from the one on file. Raises ``ChangeRequestInvalid`` with the reason in Chinese."""
    raw = str(text or "").strip()
    if field_name == "mobile":
        mobile = normalize_mobile(raw)
        if mobile is None:
            raise ChangeRequestInvalid("请输入11位中国大陆手机号码,以1开头,例如 139****5678 这样的格式。")
        if customer is not None and mobile == customer.mobile:
            raise ChangeRequestInvalid("这个手机号码与我们记录中的号码相同,无需变更。请提供新的手机号码。")
        return mobile
    if field_name == "email":
        email = email_of(raw)
        if email is None:
            raise ChangeRequestInvalid("请输入有效的电子邮箱地址,例如 name@example.com。")
        if customer is not None and customer.email and email == customer.email.lower():
            raise ChangeRequestInvalid("这个邮箱与我们记录中的邮箱相同,无需变更。请提供新的电子邮箱。")
        return email
    if field_name == "address":
        address = re.sub(r"^(新地址|地址|新的地址)(是|为|改成|:|:)?", "", raw).strip()
        if not (8 <= len(address) <= 120) or not re.search(r"[\u4e00-\u9fa5]", address):
            raise ChangeRequestInvalid("请输入完整的联系地址,包括省(市)、区(县)、街道和门牌号。")
        if not re.search(r"[省市区县旗州盟]", address):
            raise ChangeRequestInvalid("请输入完整的联系地址,包括省(市)、区(县)、街道和门牌号。")
        if customer is not None and customer.address and address == customer.address:
            raise ChangeRequestInvalid("这个地址与我们记录中的地址相同,无需变更。请提供新的联系地址。")
        return address
    raise ChangeRequestInvalid(ASK_FIELD_ZH)


def validate(customer: Customer, change: ContactChange) -> None:
    """The rules of a contact change, at creation and again at the desk."""
    if not change.changed:
        raise ChangeRequestInvalid(ASK_FIELD_ZH)
    for name in change.changed:
        check_contact_value(name, change.after.get(name), customer)


def readback_contact_zh(field_name: str, value: str, customer: Customer | None) -> str:
    old = getattr(customer, field_name, None) if customer is not None else None
    label = CONTACT_FIELD_LABELS_ZH[field_name]
    old_text = mask_contact(field_name, old) if old else "未登记"
    return f"变更项目:{label}\n原{label}:{old_text}\n新{label}:{mask_contact(field_name, value)}"


def request_contact_change(
    session: Session, *, policy: Policy, field_name: str, value: str, conversation_id: str | None
) -> ServiceTicket:
    holder = session.get(Customer, policy.policyholder_id)
    if holder is None:  # pragma: no cover - FK guarantees it
        raise PolicyNotEligible("no policyholder")
    before = {"mobile": holder.mobile, "email": holder.email, "address": holder.address}
    change = ContactChange(
        after={**before, field_name: check_contact_value(field_name, value, holder)},
        changed=(field_name,),
        before=before,
        policy_number=policy.number,
        customer_id=holder.id,
    )
    validate(holder, change)
    return open_change_ticket(session, change, policy=policy, conversation_id=conversation_id)


def check(session: Session, ticket: Ticket) -> ContactChange:
    change = ContactChange.from_json(ticket.payload or {})
    validate(customer_of(session, ticket, change.customer_id), change)
    return change


def apply(session: Session, actor: str, ticket: Ticket) -> dict[str, Any]:
    change = check(session, ticket)
    customer = customer_of(session, ticket, change.customer_id)
    new = {k: str(change.after[k]) for k in change.changed}
    before = {k: mask_field(k, getattr(customer, k)) for k in new}
    for key, value in new.items():
        setattr(customer, key, value)
    after = {k: mask_field(k, v) for k, v in new.items()}
    record_applied(session, actor, "update_contact", customer, before=before, after=after)
    return {"customer": customer.id, "fields": sorted(new)}
