"""Back-office and hotline staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, TimestampMixin, enum_column
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
