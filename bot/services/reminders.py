"""Premium reminders, the database side: which reminders are due, and their records.

Reminders go out 30, 15 and 7 days before the due date, on the due date, and once in the grace
period, to policyholders who have a channel binding and have not opted out. Selection is
set-based: one SQL query per stage finds every unpaid premium whose due date falls in that
stage's window for the run date and that has no record for the stage yet. The windows tile the
calendar, so a run that was missed is caught up by the next one with only the stage that is
current (a customer never gets three stale reminders at once):

    d30: due in (D+15, D+30]   d15: due in (D+7, D+15]   d7: due in (D, D+7]
    d0:  due == D              grace: due < D <= due + grace_period_days

``claim`` takes a (premium, stage) slot before sending and ``finish`` records the outcome; the
sending itself is ``bot.jobs.reminders``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, exists, func, literal, not_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.models import (
    Channel,
    ChannelBinding,
    Customer,
    Policy,
    PolicyStatus,
    PremiumDue,
    PremiumStatus,
    ReminderRecord,
    ReminderStage,
    ReminderStatus,
)
from bot.models.base import utcnow

INTENT = "EXTERNAL_premium_reminder"
UNPAID = (PremiumStatus.PENDING, PremiumStatus.FAILED)
ACTIVE_POLICY = (PolicyStatus.IN_FORCE, PolicyStatus.GRACE_PERIOD, PolicyStatus.COOLING_OFF)
REMINDER_CHANNELS = (Channel.TELEGRAM, Channel.WEB)
RETRY_PREFIX = "retry:"
SENDING = "sending"
STAGES = (
    ReminderStage.DAYS_30,
    ReminderStage.DAYS_15,
    ReminderStage.DAYS_7,
    ReminderStage.DUE_DAY,
    ReminderStage.GRACE,
)


@dataclass(frozen=True)
class DueReminder:
    premium_id: int
    stage: ReminderStage
    due_date: date
    amount: Decimal
    policy_number: str
    grace_period_days: int
    customer_id: int
    conversation_id: str

    def entities(self) -> dict[str, Any]:
        grace_end = self.due_date + timedelta(days=self.grace_period_days)
        return {
            "reminder_stage": self.stage.value,
            "masked_policy_number": mask_policy_number(self.policy_number),
            "premium_amount": f"{self.amount:,.2f}",
            "premium_due_date": f"{self.due_date.year}年{self.due_date.month}月{self.due_date.day}日",
            "grace_end_date": f"{grace_end.year}年{grace_end.month}月{grace_end.day}日",
        }


def mask_policy_number(number: str) -> str:
    """``LF2023000123`` → ``LF2023****23``."""
    return number[:6] + "*" * max(len(number) - 8, 0) + number[-2:] if len(number) > 8 else number


def _plus_days(session: Session, day_col: Any, days_col: Any) -> ColumnElement[Any]:
    """``day_col + days_col`` days, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(day_col, literal("+") + cast(days_col, String) + literal(" days"))
    return day_col + days_col  # date + integer is a date in PostgreSQL


def stage_window(session: Session, stage: ReminderStage, on: date) -> ColumnElement[bool]:
    due = PremiumDue.due_date
    if stage is ReminderStage.DAYS_30:
        return and_(due > on + timedelta(days=15), due <= on + timedelta(days=30))
    if stage is ReminderStage.DAYS_15:
        return and_(due > on + timedelta(days=7), due <= on + timedelta(days=15))
    if stage is ReminderStage.DAYS_7:
        return and_(due > on, due <= on + timedelta(days=7))
    if stage is ReminderStage.DUE_DAY:
        return due == on
    # grace: the longest grace period bounds the range so the index on due_date is used
    return and_(
        due < on,
        due >= on - timedelta(days=366),
        _plus_days(session, due, Policy.grace_period_days) >= on,
    )


def due_query(session: Session, stage: ReminderStage, on: date) -> Any:
    """One set-based query: every (premium, binding) due for ``stage`` on ``on``."""
    already = exists().where(
        ReminderRecord.premium_id == PremiumDue.id,
        ReminderRecord.stage == stage,
        not_(
            and_(
                ReminderRecord.status == ReminderStatus.FAILED, ReminderRecord.detail.like(RETRY_PREFIX + "%")
            )
        ),
    )
    channel_rank = case((ChannelBinding.channel == Channel.TELEGRAM, 0), else_=1)
    return (
        select(
            PremiumDue.id,
            PremiumDue.due_date,
            PremiumDue.amount,
            Policy.number,
            Policy.grace_period_days,
            Customer.id,
            ChannelBinding.channel,
            ChannelBinding.external_id,
        )
        .join(Policy, Policy.id == PremiumDue.policy_id)
        .join(Customer, Customer.id == Policy.policyholder_id)
        .join(ChannelBinding, ChannelBinding.customer_id == Customer.id)
        .where(
            PremiumDue.status.in_(UNPAID),
            stage_window(session, stage, on),
            Policy.status.in_(ACTIVE_POLICY),
            Customer.reminders_enabled.is_(True),
            ChannelBinding.reminders_enabled.is_(True),
            ChannelBinding.channel.in_(REMINDER_CHANNELS),
            not_(already),
        )
        .order_by(PremiumDue.id, channel_rank, ChannelBinding.bound_at.desc())
    )


def select_due(session: Session, on: date, stages: tuple[ReminderStage, ...] = STAGES) -> list[DueReminder]:
    """The due set for ``on``: one query per stage, one reminder per premium (Telegram preferred)."""
    result: list[DueReminder] = []
    for stage in stages:
        seen: set[int] = set()
        for row in session.execute(due_query(session, stage, on)):
            premium_id = row[0]
            if premium_id in seen:
                continue
            seen.add(premium_id)
            channel = row[6].value if isinstance(row[6], Channel) else str(row[6])
            result.append(
                DueReminder(
                    premium_id=premium_id,
                    stage=stage,
                    due_date=row[1],
                    amount=row[2],
                    policy_number=row[3],
                    grace_period_days=row[4],
                    customer_id=row[5],
                    conversation_id=f"{channel}:{row[7]}",
                )
            )
    return result


def claim(session: Session, item: DueReminder) -> bool:
    """Take the (premium, stage) slot before sending; False when it is taken already."""
    try:
        with session.begin_nested():
            session.add(
                ReminderRecord(
                    premium_id=item.premium_id,
                    stage=item.stage,
                    customer_id=item.customer_id,
                    conversation_id=item.conversation_id,
                    status=ReminderStatus.FAILED,
                    detail=SENDING,
                )
            )
    except IntegrityError:
        taken = session.execute(
            update(ReminderRecord)
            .where(
                ReminderRecord.premium_id == item.premium_id,
                ReminderRecord.stage == item.stage,
                ReminderRecord.status == ReminderStatus.FAILED,
                ReminderRecord.detail.like(RETRY_PREFIX + "%"),
            )
            .values(detail=SENDING, conversation_id=item.conversation_id, created_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(taken, "rowcount", 0) == 1)
    return True


def finish(session: Session, item: DueReminder, status: ReminderStatus, detail: str | None) -> None:
    session.execute(
        update(ReminderRecord)
        .where(ReminderRecord.premium_id == item.premium_id, ReminderRecord.stage == item.stage)
        .values(status=status, detail=detail, sent_at=utcnow() if status is ReminderStatus.SENT else None)
        .execution_options(synchronize_session=False)
    )
