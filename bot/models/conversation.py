"""Identity verification, lockouts and reminder records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, enum_column, utcnow
from bot.models.enums import ReminderStage, ReminderStatus


class VerificationAttempt(Base):
    """One try at proving who the customer is (policy number, name, last six of the ID)."""

    __tablename__ = "verification_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(160), index=True)
    # Who tried, across conversations: "ip:<address>" (web) or "telegram:<chat>"; None if unknown.
    client_key: Mapped[str | None] = mapped_column(String(160), index=True)
    policy_number: Mapped[str] = mapped_column(String(16), index=True)
    succeeded: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class VerificationLock(Base):
    """A lock on a policy number or a conversation after repeated failures."""

    __tablename__ = "verification_locks"

    id: Mapped[int] = mapped_column(primary_key=True)
    lock_key: Mapped[str] = mapped_column(String(180), unique=True)  # "conv:..." / "client:..."
    locked_until: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VerifiedSession(Base):
    """A conversation whose caller proved to be a policy's policyholder, until expires_at."""

    __tablename__ = "verified_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(160), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class ReminderRecord(Base):
    """A premium reminder: each (premium, stage) goes out at most once."""

    __tablename__ = "reminder_records"
    __table_args__ = (UniqueConstraint("premium_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    premium_id: Mapped[int] = mapped_column(ForeignKey("premium_schedule.id", ondelete="CASCADE"))
    stage: Mapped[ReminderStage] = mapped_column(enum_column(ReminderStage, 8))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(160))
    status: Mapped[ReminderStatus] = mapped_column(enum_column(ReminderStatus, 16))
    detail: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
