"""Identity verification: policy number + policyholder's name + last six characters of the ID.

Nothing about a policy is disclosed before this succeeds. Wrong tries lock the conversation (and,
across conversations and policies, the client: web IP or Telegram chat) with an exponential
back-off, never the policy itself (see ``verify``); the locks live in the database so that they
survive restarts. A success lasts ``verification_ttl_minutes``; goodbye ends it (``forget``).
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


def _lock_keys(conversation_id: str, client_key: str | None) -> list[str]:
    """Locks hold per conversation and per client (web: IP; Telegram: chat), never per policy
    alone: a stranger's wrong tries must not lock the real policyholder out of their own chat."""
    keys = [f"conv:{conversation_id}"]
    if client_key:
        keys.append(f"client:{client_key}")
    return keys


def active_lock(
    session: Session,
    conversation_id: str,
    client_key: str | None = None,
    now: datetime | None = None,
) -> VerificationLock | None:
    """The lock that holds for this conversation or its client right now, or None."""
    now = now or utcnow()
    return session.scalars(
        select(VerificationLock)
        .where(
            VerificationLock.lock_key.in_(_lock_keys(conversation_id, client_key)),
            VerificationLock.locked_until > now,
        )
        .order_by(VerificationLock.locked_until.desc())
    ).first()


def _recent_failures(
    session: Session, key_column: InstrumentedAttribute[str | None], value: str, since: datetime
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


def lock_minutes(failures_today: int, threshold: int) -> int:
    """Exponential back-off: the first lock of the day lasts ``verification_lock_minutes``, each
    further one twice as long as the one before, capped at ``verification_max_lock_minutes``."""
    settings = get_settings()
    earlier_locks = max(failures_today // max(threshold, 1) - 1, 0)
    minutes = settings.verification_lock_minutes * (2 ** min(earlier_locks, 16))
    return min(minutes, settings.verification_max_lock_minutes)


def _lock_if_over(
    session: Session,
    key: str,
    column: InstrumentedAttribute[str | None],
    value: str,
    threshold: int,
    now: datetime,
) -> tuple[datetime | None, int]:
    """Lock ``key`` when ``value`` reached ``threshold`` failures in the current window; returns
    (locked until or None, failures in the window)."""
    settings = get_settings()
    failures = _recent_failures(
        session, column, value, now - timedelta(minutes=settings.verification_lock_minutes)
    )
    if failures < threshold:
        return None, failures
    today = _recent_failures(session, column, value, now - timedelta(days=1))
    until = now + timedelta(minutes=lock_minutes(today, threshold))
    _lock(session, key, until)
    return until, failures


def verify(
    session: Session,
    *,
    conversation_id: str,
    policy_number: str,
    name: str,
    id_tail: str,
    client_key: str | None = None,
    now: datetime | None = None,
) -> VerifiedContext:
    """Check the three facts; on success remember the conversation as verified.

    Raises ``VerificationLocked`` while a lock holds, ``VerificationFailed`` on a mismatch. Wrong
    tries are counted per conversation and per client (``client_key``: web IP, Telegram chat),
    across policies: ``verification_max_failures`` in a conversation lock that conversation,
    ``verification_max_failures_per_client`` from one client lock that client; each further lock
    within a day lasts twice as long. Nothing is locked per policy, so nobody can lock a
    policyholder out of their own chat. The error never says which of the three facts was wrong.
    """
    settings = get_settings()
    now = now or utcnow()
    number = normalize_policy_number(policy_number) or policy_number.strip().upper()[:16]
    lock = active_lock(session, conversation_id, client_key, now)
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
            client_key=client_key,
            policy_number=number,
            succeeded=ok,
            reason=None if ok else ("unknown_policy" if policy is None else "mismatch"),
            at=now,
        )
    )
    session.flush()

    if not ok or policy is None or holder is None:
        conv_until, conv_failures = _lock_if_over(
            session,
            f"conv:{conversation_id}",
            VerificationAttempt.conversation_id,
            conversation_id,
            settings.verification_max_failures,
            now,
        )
        client_until = None
        if client_key:
            client_until, _ = _lock_if_over(
                session,
                f"client:{client_key}",
                VerificationAttempt.client_key,
                client_key,
                settings.verification_max_failures_per_client,
                now,
            )
        session.flush()
        until = max((u for u in (conv_until, client_until) if u is not None), default=None)
        if until is not None:
            raise VerificationLocked(locked_until=until)
        raise VerificationFailed(remaining=settings.verification_max_failures - conv_failures)

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
