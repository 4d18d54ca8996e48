"""The append-only, hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEntry
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
