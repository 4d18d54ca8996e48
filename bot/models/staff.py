"""Back-office and hotline staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, TimestampMixin, enum_column, utcnow
from bot.models.enums import StaffRole, Team


class StaffUser(TimestampMixin, Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole, 16))
    team: Mapped[Team | None] = mapped_column(enum_column(Team, 24))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]


class StaffSession(Base):
    """A signed-in staff session: the cookie carries a random token, only its SHA-256 is kept.
    Logout and a password change revoke it; it ends at ``expires_at`` anyway."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """A failed staff login, counted per username and per client address (``kind``: user / client),
    in the database so that every app process and a restart see the same count."""

    __tablename__ = "staff_login_failures"
    __table_args__ = (Index("ix_staff_login_failures_kind_key_at", "kind", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(default=utcnow)
