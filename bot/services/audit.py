"""The append-only, hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.errors import NotFound
from bot.models import AuditEntry, Customer, Policy, Ticket
from bot.models.base import utcnow

GENESIS_HASH = "0" * 64


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def entry_digest(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    customer_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> str:
    body = canonical(
        [prev_hash, at.isoformat(), actor, action, object_type, object_id, customer_id, before, after]
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    customer_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry, chained to the previous one.

    On PostgreSQL the table is locked for the rest of the transaction so that two writers cannot
    chain to the same predecessor; SQLite serialises writers on its own.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
    prev = session.scalars(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    prev_hash = prev or GENESIS_HASH
    at = utcnow()
    before_j = json.loads(canonical(before)) if before is not None else None
    after_j = json.loads(canonical(after)) if after is not None else None
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        customer_id=customer_id,
        before=before_j,
        after=after_j,
        prev_hash=prev_hash,
        entry_hash=entry_digest(
            prev_hash, at, actor, action, object_type, str(object_id), customer_id, before_j, after_j
        ),
    )
    session.add(entry)
    session.flush()
    return entry


def record_view(
    session: Session, actor: str, subject: tuple[str, str | int, int | None], view: dict[str, Any]
) -> AuditEntry:
    """A staff member saw personal data (masked or not); ``subject``: (object type, id, customer)."""
    object_type, object_id, customer_id = subject
    return record(
        session,
        actor=actor,
        action="view_personal_data",
        object_type=object_type,
        object_id=object_id,
        customer_id=customer_id,
        after=view,
    )


def verify_chain(session: Session) -> int | None:
    """Return the id of the first entry whose chain is broken, or None when the log is intact."""
    prev_hash = GENESIS_HASH
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        expected = entry_digest(
            prev_hash,
            entry.at,
            entry.actor,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.customer_id,
            entry.before,
            entry.after,
        )
        if entry.prev_hash != prev_hash or entry.entry_hash != expected:
            return entry.id
        prev_hash = entry.entry_hash
    return None


def ticket_entries(session: Session, ticket: Ticket) -> list[AuditEntry]:
    """The ticket's entries, and those of its policy and customer since the ticket was opened."""
    conds = [and_(AuditEntry.object_type == "ticket", AuditEntry.object_id == ticket.number)]
    policy = session.get(Policy, ticket.policy_id) if ticket.policy_id else None
    if policy is not None:
        conds.append(
            and_(
                AuditEntry.object_type == "policy",
                AuditEntry.object_id == policy.number,
                AuditEntry.at >= ticket.created_at,
            )
        )
    if ticket.customer_id is not None:
        conds.append(
            and_(
                AuditEntry.object_type == "customer",
                AuditEntry.object_id == str(ticket.customer_id),
                AuditEntry.at >= ticket.created_at,
            )
        )
    return list(session.scalars(select(AuditEntry).where(or_(*conds)).order_by(AuditEntry.id)))


def customer_entries(session: Session, customer_id: int) -> list[AuditEntry]:
    if session.get(Customer, customer_id) is None:
        raise NotFound(str(customer_id))
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.customer_id == customer_id).order_by(AuditEntry.id)
        )
    )
