"""Staff accounts: creation (CLI and tests), authentication and look-ups."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import InvalidInput, NotFound
from bot.labels_zh import ROLE_LABELS_ZH, TEAM_LABELS_ZH
from bot.models import StaffRole, StaffUser, Team
from bot.models.base import utcnow
from bot.security import hash_password, needs_rehash, verify_password

MIN_PASSWORD_LENGTH = 8
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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password too short", message_zh=f"密码至少需要{MIN_PASSWORD_LENGTH}位。")
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
