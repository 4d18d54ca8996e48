"""Claims and the documents customers send for claims and tickets."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, TimestampMixin, enum_column, utcnow
from bot.models.enums import ClaimStatus, ClaimType

if TYPE_CHECKING:
    from bot.models.customer import Customer
    from bot.models.policy import Policy


class Claim(TimestampMixin, Base):
    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)  # CL + 10 digits
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    claim_type: Mapped[ClaimType] = mapped_column(enum_column(ClaimType, 24))
    status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus, 24), index=True)

    incident_at: Mapped[datetime]
    incident_place: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    police_reported: Mapped[bool | None]
    has_photos: Mapped[bool | None]
    plate_number: Mapped[str | None] = mapped_column(String(10))

    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_amount: Mapped[Decimal | None]
    approved_amount: Mapped[Decimal | None]
    paid_amount: Mapped[Decimal | None]
    paid_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(255))

    conversation_id: Mapped[str | None] = mapped_column(String(160), index=True)
    # Idempotency: a retried report from the same conversation returns this claim.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)

    policy: Mapped[Policy] = relationship()
    reporter: Mapped[Customer | None] = relationship()
    documents: Mapped[list[Document]] = relationship(back_populates="claim", order_by="Document.received_at")


class Document(Base):
    """A document received (a file, or a paper original logged by staff) for a claim or a ticket."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_code: Mapped[str] = mapped_column(String(64))  # key in the document catalog
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    file_name: Mapped[str | None] = mapped_column(String(255))
    stored_path: Mapped[str | None] = mapped_column(String(500))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    claim: Mapped[Claim | None] = relationship(back_populates="documents")
