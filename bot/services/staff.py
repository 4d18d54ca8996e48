"""Staff accounts: creation (CLI and tests), the password policy, authentication, server-side
sessions, the login throttle (in the database: every app process and a restart see it) and
look-ups."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.errors import InvalidInput, NotFound
from bot.labels_zh import ROLE_LABELS_ZH, TEAM_LABELS_ZH
from bot.models import LoginAttempt, StaffRole, StaffSession, StaffUser, Team
from bot.models.base import utcnow
from bot.security import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, password_problem, verify_password

__all__ = ["MIN_PASSWORD_LENGTH"]
# Verified against when the username is unknown, so that a miss costs as long as a hit.
_DUMMY_HASH: str | None = None


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: StaffRole,
    display_name: str,
    team: Team | None = None,
) -> StaffUser:
    username = username.strip().lower()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise InvalidInput("username", message_zh="用户名只能包含字母、数字、下划线和点,且不超过64个字符。")
    check_password(password, username)
    if role is StaffRole.PROCESSOR and team is None:
        raise InvalidInput("a processor needs a team", message_zh="后台经办必须指定所属小组(--team)。")
    if session.scalars(select(StaffUser.id).where(StaffUser.username == username)).first() is not None:
        raise InvalidInput("username taken", message_zh="该用户名已被使用。")
    user = StaffUser(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password),
        role=role,
        team=team,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def check_password(password: str, username: str) -> None:
    """Raise InvalidInput when the password breaks the policy (``bot.security.password_problem``)."""
    problem = password_problem(password, username)
    if problem is not None:
        raise InvalidInput("weak password", message_zh=problem)


def set_password(session: Session, user: StaffUser, password: str) -> None:
    """A new password (policy checked); every session of the user ends."""
    check_password(password, user.username)
    user.password_hash = hash_password(password)
    revoke_all_sessions(session, user.id)
    session.flush()


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    """The active user with this username and password, or None (same cost either way)."""
    global _DUMMY_HASH
    user = session.scalars(select(StaffUser).where(StaffUser.username == username.strip().lower())).first()
    if user is None or not user.active:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password("not-a-real-password")
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def get_active(session: Session, user_id: int) -> StaffUser | None:
    user = session.get(StaffUser, user_id)
    return user if user is not None and user.active else None


def list_users(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.role, StaffUser.username)))


def team_members(session: Session, team: Team) -> list[StaffUser]:
    return list(
        session.scalars(
            select(StaffUser)
            .where(StaffUser.team == team, StaffUser.active.is_(True), StaffUser.role == StaffRole.PROCESSOR)
            .order_by(StaffUser.username)
        )
    )


def role_label(user: StaffUser) -> str:
    label = ROLE_LABELS_ZH[user.role]
    if user.team is not None:
        label = f"{TEAM_LABELS_ZH[user.team]}·{label}"
    return label


def by_username(session: Session, username: str) -> StaffUser:
    """The staff member a person named (e.g. the assignee typed at the desk); NotFound otherwise."""
    found = session.scalars(select(StaffUser).where(StaffUser.username == username.strip().lower())).first()
    if found is None:
        raise NotFound(username, message_zh="未找到该员工。")
    return found


# ---------------------------------------------------------------- sessions


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    session: Session, user: StaffUser, *, minutes: int, now: datetime | None = None
) -> tuple[str, StaffSession]:
    """A new session; returns the cookie's token (only its hash is stored) and the row."""
    now = now or utcnow()
    session.execute(
        delete(StaffSession).where(StaffSession.user_id == user.id, StaffSession.expires_at < now)
    )
    token = secrets.token_urlsafe(32)
    row = StaffSession(
        token_hash=_token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(row)
    session.flush()
    return token, row


def session_for_token(
    session: Session, token: str, *, now: datetime | None = None
) -> tuple[StaffSession, StaffUser] | None:
    """The live session a cookie names and its (active) user, or None."""
    if not token:
        return None
    row = session.scalars(select(StaffSession).where(StaffSession.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= (now or utcnow()):
        return None
    user = get_active(session, row.user_id)
    return (row, user) if user is not None else None


def end_session(session: Session, token: str, *, now: datetime | None = None) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _token_hash(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )


def revoke_all_sessions(session: Session, user_id: int, *, now: datetime | None = None) -> int:
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------- login throttle


@dataclass(frozen=True)
class LoginLimits:
    per_user: int
    per_client: int
    window_minutes: int


def _throttle_keys(username: str, client: str) -> list[tuple[str, str]]:
    return [("user", username.strip().lower()[:128]), ("client", client[:128])]


def login_throttled(
    session: Session, username: str, client: str, limits: LoginLimits, *, now: datetime | None = None
) -> bool:
    """Too many failed logins for this username or from this client within the window."""
    since = (now or utcnow()) - timedelta(minutes=limits.window_minutes)
    for kind, key in _throttle_keys(username, client):
        limit = limits.per_user if kind == "user" else limits.per_client
        count = session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.kind == kind, LoginAttempt.key == key, LoginAttempt.at >= since)
        )
        if int(count or 0) >= limit:
            return True
    return False


def record_login_failure(
    session: Session, username: str, client: str, limits: LoginLimits, *, now: datetime | None = None
) -> None:
    now = now or utcnow()
    old = now - timedelta(minutes=limits.window_minutes)
    for kind, key in _throttle_keys(username, client):
        session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.kind == kind, LoginAttempt.key == key, LoginAttempt.at < old
            )
        )
        session.add(LoginAttempt(kind=kind, key=key, at=now))
    session.flush()


def clear_login_failures(session: Session, username: str) -> None:
    """A successful login clears the username's count (the client's stays: it may be guessing others)."""
    session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.kind == "user", LoginAttempt.key == username.strip().lower()[:128]
        )
    )


# ---------------------------------------------------------------- demo logins


def demo_logins_with_published_password(session: Session, usernames: list[str], password: str) -> list[str]:
    """The active accounts among ``usernames`` whose password is still ``password``."""
    users = session.scalars(
        select(StaffUser).where(StaffUser.username.in_(usernames), StaffUser.active.is_(True))
    )
    verdicts: dict[str, bool] = {}  # the seed gives every demo login the same hash: verify each once
    found = []
    for u in users:
        if u.password_hash not in verdicts:
            verdicts[u.password_hash] = verify_password(u.password_hash, password)
        if verdicts[u.password_hash]:
            found.append(u.username)
    return found
