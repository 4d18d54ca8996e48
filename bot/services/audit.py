"""The append-only audit log: a keyed hash chain with a recorded head.

Each entry carries an HMAC-SHA-256 (key ``BOT_AUDIT_KEY``, never in the database) over its
content and the previous entry's hash, so whoever can write the database but lacks the key cannot
recompute the chain after editing it. The single row of ``audit_head`` names the newest entry and
is signed with the same key, so deleting the newest entries shows too. Appends lock the head row
first (``INSERT ... ON CONFLICT DO NOTHING`` then ``SELECT ... FOR UPDATE`` on PostgreSQL; on
SQLite that first write statement takes the database's write lock for the rest of the
transaction), so two writers never chain to the same predecessor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.errors import NotFound
from bot.models import AuditEntry, AuditHead, Customer, Policy, Ticket
from bot.models.base import utcnow

GENESIS_HASH = "0" * 64
HEAD_ID = 1
TAINTED_MAC = "tampered"  # an appended-to head that was already broken stays broken


class AuditKeyMissing(RuntimeError):
    """BOT_AUDIT_KEY is empty: ``python -m bot init-env`` generates it into .env."""


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def audit_key() -> bytes:
    key = get_settings().audit_key.get_secret_value()
    if not key:
        raise AuditKeyMissing("BOT_AUDIT_KEY is empty; run `python -m bot init-env`")
    return key.encode("utf-8")


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
    *,
    key: bytes | None = None,
) -> str:
    body = canonical(
        [prev_hash, at.isoformat(), actor, action, object_type, object_id, customer_id, before, after]
    )
    return hmac.new(key or audit_key(), body.encode("utf-8"), hashlib.sha256).hexdigest()


def head_mac(last_id: int, last_hash: str, entries: int, *, key: bytes | None = None) -> str:
    body = canonical(["audit-head", last_id, last_hash, entries])
    return hmac.new(key or audit_key(), body.encode("utf-8"), hashlib.sha256).hexdigest()


def _head_is_valid(head: AuditHead, key: bytes) -> bool:
    if head.mac is None:  # never signed: only the empty log's head
        return head.entries == 0 and head.last_id == 0 and head.last_hash == GENESIS_HASH
    return hmac.compare_digest(head.mac, head_mac(head.last_id, head.last_hash, head.entries, key=key))


def _lock_head(session: Session) -> AuditHead:
    """The head row, locked until the transaction ends (created on an empty database)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(AuditHead)
        .values(id=HEAD_ID, last_id=0, last_hash=GENESIS_HASH, entries=0, mac=None)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    return session.execute(
        select(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _newest(session: Session) -> tuple[int, str] | None:
    row = session.execute(
        select(AuditEntry.id, AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return (int(row[0]), str(row[1])) if row else None


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
    """Append one entry, chained to the previous one, and move the head to it.

    The head row stays locked until the caller's transaction ends: appends are serialised."""
    key = audit_key()
    head = _lock_head(session)
    newest = _newest(session)
    intact = _head_is_valid(head, key) and newest == (
        (head.last_id, head.last_hash) if head.entries else None
    )
    prev_hash = head.last_hash
    at = utcnow()
    before_j = json.loads(canonical(before)) if before is not None else None
    after_j = json.loads(canonical(after)) if after is not None else None
    entry = AuditEntry(
        at=at,
        actor=actor[:64],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        customer_id=customer_id,
        before=before_j,
        after=after_j,
        prev_hash=prev_hash,
        entry_hash=entry_digest(
            prev_hash,
            at,
            actor[:64],
            action,
            object_type,
            str(object_id),
            customer_id,
            before_j,
            after_j,
            key=key,
        ),
    )
    session.add(entry)
    session.flush()
    head.last_id, head.last_hash, head.entries = entry.id, entry.entry_hash, head.entries + 1
    # A head that did not match its log is not re-signed: the damage stays visible to verify_chain.
    head.mac = head_mac(head.last_id, head.last_hash, head.entries, key=key) if intact else TAINTED_MAC
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
    """The id of the first entry whose chain is broken, or None when the log is intact.

    Each entry must carry the keyed hash of its content and its predecessor's hash, and the
    signed head must name the newest entry and the number of entries: a deleted tail returns the
    id the head names (or that of the newest remaining entry when the head itself was altered)."""
    key = audit_key()
    prev_hash = GENESIS_HASH
    last_id, count = 0, 0
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
            key=key,
        )
        if entry.prev_hash != prev_hash or not hmac.compare_digest(entry.entry_hash, expected):
            return entry.id
        prev_hash, last_id, count = entry.entry_hash, entry.id, count + 1
    head = session.get(AuditHead, HEAD_ID, populate_existing=True)
    if head is None:
        return last_id if count else None
    if not _head_is_valid(head, key):
        return last_id or head.last_id or 1
    if (head.last_id, head.last_hash, head.entries) != (last_id, prev_hash, count):
        return head.last_id if head.last_id > last_id else max(last_id, 1)
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
