"""Policies, beneficiaries, the premium schedule and debit attempts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, TimestampMixin, enum_column, utcnow
from bot.models.enums import LineOfBusiness, PaymentFrequency, PolicyStatus, PremiumStatus

if TYPE_CHECKING:
    from bot.models.customer import Customer


class Policy(TimestampMixin, Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)  # e.g. LF2023000123
    line: Mapped[LineOfBusiness] = mapped_column(enum_column(LineOfBusiness, 16))
    product_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[PolicyStatus] = mapped_column(enum_column(PolicyStatus, 16), index=True)

    issue_date: Mapped[date]  # 承保日
    effective_date: Mapped[date]  # 生效日
    cooling_off_days: Mapped[int] = mapped_column(default=15)  # 犹豫期 (from receipt of the policy)
    waiting_period_days: Mapped[int] = mapped_column(default=0)  # 等待期, health cover
    grace_period_days: Mapped[int] = mapped_column(default=60)  # 宽限期
    expiry_date: Mapped[date | None]  # None: whole life
    lapsed_on: Mapped[date | None]  # 效力中止日
    terminated_on: Mapped[date | None]
    termination_reason: Mapped[str | None] = mapped_column(String(64))

    sum_insured: Mapped[Decimal]
    premium: Mapped[Decimal]  # per instalment
    payment_frequency: Mapped[PaymentFrequency] = mapped_column(enum_column(PaymentFrequency, 16))
    payment_years: Mapped[int] = mapped_column(default=1)
    bank_name: Mapped[str | None] = mapped_column(String(64))
    bank_account: Mapped[str | None] = mapped_column(String(32))  # full number, masked on display
    plate_number: Mapped[str | None] = mapped_column(String(10))  # motor only
    cash_value: Mapped[Decimal | None]  # illustrative 现金价值 at the last anniversary

    policyholder_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    insured_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)

    policyholder: Mapped[Customer] = relationship(
        back_populates="policies_held", foreign_keys=[policyholder_id]
    )
    insured: Mapped[Customer] = relationship(foreign_keys=[insured_id])
    beneficiaries: Mapped[list[Beneficiary]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", order_by="Beneficiary.order"
    )
    premiums: Mapped[list[PremiumDue]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", order_by="PremiumDue.due_date"
    )


class Beneficiary(Base):
    """A named death-benefit beneficiary (身故受益人); same order shares the benefit by share_pct."""

    __tablename__ = "beneficiaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    relationship_to_insured: Mapped[str] = mapped_column(String(16))  # 配偶/子女/父母/兄弟姐妹/其他
    id_number: Mapped[str] = mapped_column(String(18))
    share_pct: Mapped[Decimal]  # 0-100, shares of one order total 100
    order: Mapped[int] = mapped_column(default=1)  # 受益顺序

    policy: Mapped[Policy] = relationship(back_populates="beneficiaries")


class PremiumDue(Base):
    """One instalment of the premium schedule."""

    __tablename__ = "premium_schedule"
    __table_args__ = (
        UniqueConstraint("policy_id", "due_date"),
        Index("ix_premium_schedule_status_due_date", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), index=True)
    due_date: Mapped[date]
    amount: Mapped[Decimal]
    status: Mapped[PremiumStatus] = mapped_column(enum_column(PremiumStatus, 16))
    paid_on: Mapped[date | None]

    policy: Mapped[Policy] = relationship(back_populates="premiums")
    debit_attempts: Mapped[list[DebitAttempt]] = relationship(
        back_populates="premium", cascade="all, delete-orphan", order_by="DebitAttempt.attempted_at"
    )


class DebitAttempt(Base):
    """An automatic debit of a premium from the policy's bank account."""

    __tablename__ = "debit_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    premium_id: Mapped[int] = mapped_column(ForeignKey("premium_schedule.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    amount: Mapped[Decimal]
    succeeded: Mapped[bool]
    failure_reason: Mapped[str | None] = mapped_column(String(64))  # 余额不足/账户冻结/卡已注销/授权失效

    premium: Mapped[PremiumDue] = relationship(back_populates="debit_attempts")
