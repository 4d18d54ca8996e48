"""What the three kinds of change request share: reading a stored payload strictly, the wording of
a bad payload for the desk, the policy/customer a ticket is about, and opening the ticket."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Protocol

from sqlalchemy.orm import Session

from bot.errors import InvalidInput, PolicyNotEligible
from bot.models import Customer, Policy, PolicyStatus, Ticket, TicketType
from bot.models.base import utcnow
from bot.services import audit
from bot.services.tickets.create import ServiceTicket, open_service_ticket


def bad_payload(message: str) -> InvalidInput:
    """The desk's error for a ticket whose change cannot be processed or applied as it stands."""
    return InvalidInput(message, message_zh=f"工单中的变更信息不完整或有误:{message}。请核实后处理。")


def mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise bad_payload(f"{what}格式不正确")
    return value


def only_keys(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse keys that no version of the application ever wrote (a hand-made or foreign payload)."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise bad_payload(f"含有无法识别的字段「{'、'.join(unknown)}」")


def text_of(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value).strip()


def policy_of(session: Session, ticket: Ticket) -> Policy:
    policy = session.get(Policy, ticket.policy_id) if ticket.policy_id else None
    if policy is None:
        raise bad_payload("工单未关联保单")
    return policy


def customer_of(session: Session, ticket: Ticket, customer_id: int | None = None) -> Customer:
    cid = ticket.customer_id or customer_id
    customer = session.get(Customer, int(cid)) if cid else None
    if customer is None:
        raise bad_payload("工单未关联客户")
    return customer


class Change(Protocol):
    """A typed change payload: the ticket type it travels on and its stored JSON."""

    ticket_type: ClassVar[TicketType]

    def to_json(self) -> dict[str, Any]: ...


def open_change_ticket(
    session: Session,
    change: Change,
    *,
    policy: Policy,
    conversation_id: str | None,
    conditions: dict[str, bool | None] | None = None,
) -> ServiceTicket:
    """Open the maker-checker ticket of a validated change. Idempotent: the key is derived from the
    conversation, the policy and the requested values, so a retried action gets the same ticket."""
    if policy.status is PolicyStatus.TERMINATED:
        raise PolicyNotEligible("policy terminated", policy_number=policy.number)
    payload = change.to_json()
    after = json.dumps(payload["after"], sort_keys=True, ensure_ascii=False).encode()
    key = f"{payload['kind']}:{policy.id}:{conversation_id or '-'}:{hashlib.sha256(after).hexdigest()[:16]}"
    return open_service_ticket(
        session,
        ticket_type=change.ticket_type,
        catalog_key=change.ticket_type.value,
        policy=policy,
        conversation_id=conversation_id,
        payload=payload,
        idempotency_key=key,
        conditions=conditions,
    )


def record_applied(
    session: Session,
    actor: str,
    action: str,
    target: Policy | Customer,
    *,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """Stamp the changed policy/customer and log the change, masked, with before and after."""
    target.updated_at = utcnow()
    session.flush()
    object_id: str | int
    if isinstance(target, Policy):
        object_type, object_id, customer_id = "policy", target.number, target.policyholder_id
    else:
        object_type, object_id, customer_id = "customer", target.id, target.id
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        customer_id=customer_id,
        before=before,
        after=after,
    )
