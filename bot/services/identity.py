"""Identity verification: policy number + policyholder's name + last six characters of the ID.

Nothing about a policy is disclosed before this succeeds. Three failures lock the policy number
and the conversation for ``verification_lock_minutes``; the lock lives in the database so that it
survives restarts and holds across channels. A success lasts ``verification_ttl_minutes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.config import get_settings
from bot.errors import VerificationFailed, VerificationLocked
from bot.ids import normalize_policy_number
from bot.models import Customer, Policy, VerificationAttempt, VerificationLock, VerifiedSession
from bot.models.base import utcnow

ID_TAIL_LENGTH = 6


@dataclass(frozen=True)
class VerifiedContext:
    """Who the conversation proved to be and which policy it proved it on."""

    customer: Customer
    policy: Policy
    expires_at: datetime


def normalize_id_tail(text: str | None) -> str | None:
    """The last six characters of a resident ID as typed (``12345x`` → ``12345X``), or None."""
    if not text:
        return None
    cleaned = "".join(ch for ch in text.strip().upper() if ch.isdigit() or ch == "X")
    if len(cleaned) < ID_TAIL_LENGTH:
        return None
    tail = cleaned[-ID_TAIL_LENGTH:]
    if "X" in tail[:-1]:
        return None
    return tail


def _names_match(given: str, on_file: str) -> bool:
    return "".join(given.split()) == "".join(on_file.split())


def _lock_keys(conversation_id: str, policy_number: str | None) -> list[str]:
    keys = [f"conv:{conversation_id}"]
    if policy_number:
        keys.append(f"policy:{policy_number}")
    return keys


def active_lock(
    session: Session, conversation_id: str, policy_number: str | None, now: datetime | None = None
) -> VerificationLock | None:
    now = now or utcnow()
    return session.scalars(
        select(VerificationLock)
        .where(
            VerificationLock.lock_key.in_(_lock_keys(conversation_id, policy_number)),
            VerificationLock.locked_until > now,
        )
        .order_by(VerificationLock.locked_until.desc())
    ).first()


def _recent_failures(
    session: Session, key_column: InstrumentedAttribute[str], value: str, since: datetime
) -> int:
    count = session.scalar(
        select(func.count(VerificationAttempt.id)).where(
            key_column == value,
            VerificationAttempt.succeeded.is_(False),
            VerificationAttempt.at > since,
        )
    )
    return int(count or 0)


def _lock(session: Session, key: str, until: datetime) -> None:
    existing = session.scalars(select(VerificationLock).where(VerificationLock.lock_key == key)).first()
    if existing is None:
        session.add(VerificationLock(lock_key=key, locked_until=until))
    else:
        existing.locked_until = max(existing.locked_until, until)


def verify(
    session: Session,
    *,
    conversation_id: str,
    policy_number: str,
    name: str,
    id_tail: str,
    now: datetime | None = None,
) -> VerifiedContext:
    """Check the three facts; on success remember the conversation as verified.

    Raises ``VerificationLocked`` while a lock holds, ``VerificationFailed`` on a mismatch (and
    locks after ``verification_max_failures`` failures within the lock window). The error never
    says which of the three facts was wrong.
    """
    settings = get_settings()
    now = now or utcnow()
    number = normalize_policy_number(policy_number) or policy_number.strip().upper()
    lock = active_lock(session, conversation_id, number, now)
    if lock is not None:
        raise VerificationLocked(locked_until=lock.locked_until)

    policy = session.scalars(select(Policy).where(Policy.number == number)).first()
    tail = normalize_id_tail(id_tail)
    holder = session.get(Customer, policy.policyholder_id) if policy else None
    ok = (
        holder is not None
        and tail is not None
        and _names_match(name, holder.name)
        and holder.id_number.upper().endswith(tail)
    )
    session.add(
        VerificationAttempt(
            conversation_id=conversation_id,
            policy_number=number,
            succeeded=ok,
            reason=None if ok else ("unknown_policy" if policy is None else "mismatch"),
            at=now,
        )
    )
    session.flush()

    if not ok or policy is None or holder is None:
        window_start = now - timedelta(minutes=settings.verification_lock_minutes)
        failures = max(
            _recent_failures(session, VerificationAttempt.conversation_id, conversation_id, window_start),
            _recent_failures(session, VerificationAttempt.policy_number, number, window_start),
        )
        if failures >= settings.verification_max_failures:
            until = now + timedelta(minutes=settings.verification_lock_minutes)
            for key in _lock_keys(conversation_id, number):
                _lock(session, key, until)
            session.flush()
            raise VerificationLocked(locked_until=until)
        raise VerificationFailed(remaining=settings.verification_max_failures - failures)

    expires = now + timedelta(minutes=settings.verification_ttl_minutes)
    existing = session.scalars(
        select(VerifiedSession).where(VerifiedSession.conversation_id == conversation_id)
    ).first()
    if existing is None:
        session.add(
            VerifiedSession(
                conversation_id=conversation_id,
                customer_id=holder.id,
                policy_id=policy.id,
                verified_at=now,
                expires_at=expires,
            )
        )
    else:
        existing.customer_id = holder.id
        existing.policy_id = policy.id
        existing.verified_at = now
        existing.expires_at = expires
    session.flush()
    return VerifiedContext(customer=holder, policy=policy, expires_at=expires)


def get_verified(
    session: Session, conversation_id: str, now: datetime | None = None
) -> VerifiedContext | None:
    """The conversation's verified customer and policy, or None when unverified or expired."""
    now = now or utcnow()
    vs = session.scalars(
        select(VerifiedSession).where(
            VerifiedSession.conversation_id == conversation_id, VerifiedSession.expires_at > now
        )
    ).first()
    if vs is None:
        return None
    customer = session.get(Customer, vs.customer_id)
    policy = session.get(Policy, vs.policy_id)
    if customer is None or policy is None:
        return None
    return VerifiedContext(customer=customer, policy=policy, expires_at=vs.expires_at)


def switch_policy(
    session: Session, conversation_id: str, policy_number: str, now: datetime | None = None
) -> VerifiedContext | None:
    """Move a verified conversation to another policy held by the same customer.

    A customer verified on one policy may ask about another of their own policies without
    verifying again; a policy of somebody else is refused (None).
    """
    ctx = get_verified(session, conversation_id, now)
    number = normalize_policy_number(policy_number)
    if ctx is None or number is None:
        return None
    policy = session.scalars(select(Policy).where(Policy.number == number)).first()
    if policy is None or policy.policyholder_id != ctx.customer.id:
        return None
    vs = session.scalars(
        select(VerifiedSession).where(VerifiedSession.conversation_id == conversation_id)
    ).one()
    vs.policy_id = policy.id
    session.flush()
    return VerifiedContext(customer=ctx.customer, policy=policy, expires_at=ctx.expires_at)


def forget(session: Session, conversation_id: str) -> None:
    """End the verification of a conversation (e.g. the customer says goodbye or restarts)."""
    session.execute(delete(VerifiedSession).where(VerifiedSession.conversation_id == conversation_id))
