"""Customers (投保人/被保险人/受益人 when they are customers) and their channel bindings."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, TimestampMixin, enum_column, utcnow
from bot.models.enums import Channel

if TYPE_CHECKING:
    from bot.models.policy import Policy


class Customer(TimestampMixin, Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)  # resident ID, GB 11643
    gender: Mapped[str] = mapped_column(String(1))  # "M" / "F", from the ID number
    birth_date: Mapped[date]
    mobile: Mapped[str] = mapped_column(String(11), index=True)
    email: Mapped[str | None] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(255))
    # Global preference; a binding can still opt out on its own channel.
    reminders_enabled: Mapped[bool] = mapped_column(default=True)

    bindings: Mapped[list[ChannelBinding]] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )
    policies_held: Mapped[list[Policy]] = relationship(
        back_populates="policyholder", foreign_keys="Policy.policyholder_id"
    )


class ChannelBinding(Base):
    """A customer reachable on a channel: ``telegram`` + chat id, ``web`` + session id."""

    __tablename__ = "channel_bindings"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, 16))
    external_id: Mapped[str] = mapped_column(String(128))
    reminders_enabled: Mapped[bool] = mapped_column(default=True)
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="bindings")

    @property
    def conversation_id(self) -> str:
        return f"{self.channel.value}:{self.external_id}"
