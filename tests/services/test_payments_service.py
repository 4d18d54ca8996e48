"""Premium schedule answers, failed debits, relief tickets and reminder preferences
(bot/services/payments.py, bot/services/reminder_prefs.py) on a real database session."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.errors import RemindersNotSupported
from bot.models import (
    ChannelBinding,
    DebitAttempt,
    PolicyStatus,
    PremiumDue,
    PremiumStatus,
    Ticket,
    TicketType,
)
from bot.services import payments, reminder_prefs
from tests.factories import make_customer, make_policy

TODAY = date(2026, 11, 23)


@pytest.fixture
def holder(session):
    return make_customer(session, name="李娜")


def add_failed_debit(session, policy, due: date, reason: str, when: datetime) -> PremiumDue:
    premium = session.scalars(select(PremiumDue).where(PremiumDue.policy_id == policy.id)).first()
    premium.status = PremiumStatus.FAILED
    session.add(
        DebitAttempt(
            premium_id=premium.id,
            attempted_at=when,
            amount=premium.amount,
            succeeded=False,
            failure_reason=reason,
        )
    )
    session.flush()
    return premium


def test_next_due_date_amount_and_grace_end(session, holder):
    policy = make_policy(session, holder, premium=Decimal("5280.00"), next_due=date(2026, 11, 30))
    info = payments.premium_status(session, policy, TODAY)
    text = payments.premium_due_text(info)
    assert "2026年11月30日" in text and "5,280.00元" in text and "还有7天" in text
    # grace end = due date + the policy's grace period (60 days)
    assert info.grace_end == date(2027, 1, 29)
    assert "2027年1月29日" in text


def test_an_overdue_premium_is_in_the_grace_period_then_lapses(session, holder):
    policy = make_policy(session, holder, next_due=date(2026, 11, 1))
    policy.grace_period_days = 30
    info = payments.premium_status(session, policy, TODAY)
    assert info.in_grace and not info.lapsed
    assert "宽限期至2026年12月1日" in payments.premium_due_text(info)
    later = payments.premium_status(session, policy, date(2026, 12, 2))
    assert later.lapsed
    assert "效力已中止" in payments.grace_text(later, policy)


def test_nothing_due_says_so(session, holder):
    policy = make_policy(session, holder)
    info = payments.premium_status(session, policy, TODAY)
    assert "没有待交的保费" in payments.premium_due_text(info)
    text, can_follow_up = payments.failure_text(info)
    assert not can_follow_up and "无需处理" in text


def test_the_last_failed_debit_is_explained_in_plain_chinese_with_what_to_do(session, holder):
    policy = make_policy(session, holder, next_due=date(2026, 11, 30))
    add_failed_debit(
        session, policy, date(2026, 11, 30), "账户冻结", datetime(2026, 11, 20, 2, tzinfo=timezone.utc)
    )
    add_failed_debit(
        session, policy, date(2026, 11, 30), "余额不足", datetime(2026, 11, 22, 2, tzinfo=timezone.utc)
    )
    info = payments.premium_status(session, policy, TODAY)
    text, can_follow_up = payments.failure_text(info)
    assert can_follow_up
    assert "扣款账户余额不足" in text and "2026年11月22日" in text  # the latest attempt, not the first
    assert "存入足额资金" in text


def test_an_unknown_failure_reason_still_gets_advice(session, holder):
    policy = make_policy(session, holder, next_due=date(2026, 11, 30))
    add_failed_debit(
        session, policy, date(2026, 11, 30), "系统错误X", datetime(2026, 11, 22, tzinfo=timezone.utc)
    )
    text, _ = payments.failure_text(payments.premium_status(session, policy, TODAY))
    assert "银行扣款未成功" in text and "系统错误X" not in text


def test_relief_options_name_the_four_ways_and_the_cash_value(session, holder):
    policy = make_policy(session, holder, next_due=date(2026, 11, 30))
    policy.cash_value = Decimal("12345.60")
    text = payments.relief_intro_text(payments.premium_status(session, policy, TODAY), policy)
    for word in ("缓交", "减额交清", "保单贷款", "变更扣款账户", "12,345.60元"):
        assert word in text


@pytest.mark.parametrize(
    ("said", "option"),
    [
        ("我选缓交", "premium_deferral"),
        ("减额缴清吧", "reduced_paid_up"),
        ("保单借款", "policy_loan"),
        ("随便", None),
    ],
)
def test_relief_option_words(said, option):
    assert payments.relief_option_of(said) == option


def test_a_relief_request_opens_one_ticket_with_the_option(session, holder):
    policy = make_policy(session, holder, next_due=date(2026, 11, 30))
    first = payments.request_relief(
        session, policy=policy, option="premium_deferral", conversation_id="web:r", today=TODAY
    )
    again = payments.request_relief(
        session, policy=policy, option="premium_deferral", conversation_id="web:r", today=TODAY
    )
    assert first.created and not again.created and again.ticket.id == first.ticket.id
    ticket = first.ticket
    assert ticket.ticket_type is TicketType.PAYMENT_RELIEF
    assert ticket.payload["option"] == "premium_deferral" and ticket.payload["due_date"] == "2026-11-30"
    assert "保费缓交申请书" in first.checklist_zh and first.timeline_zh
    other = payments.request_relief(
        session, policy=policy, option="policy_loan", conversation_id="web:r", today=TODAY
    )
    assert other.ticket.id != ticket.id


def test_a_failed_debit_follow_up_is_one_ticket_per_instalment(session, holder):
    policy = make_policy(session, holder, next_due=date(2026, 11, 30))
    add_failed_debit(
        session, policy, date(2026, 11, 30), "余额不足", datetime(2026, 11, 22, tzinfo=timezone.utc)
    )
    t1 = payments.request_payment_followup(session, policy=policy, conversation_id="web:f", today=TODAY)
    t2 = payments.request_payment_followup(session, policy=policy, conversation_id="web:f", today=TODAY)
    assert t1.id == t2.id and t1.ticket_type is TicketType.PAYMENT_ISSUE
    assert t1.payload["failure_reason"] == "余额不足"
    assert session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).all() == [t1]


def test_no_relief_ticket_on_a_terminated_policy(session, holder):
    policy = make_policy(session, holder, status=PolicyStatus.TERMINATED)
    with pytest.raises(payments.PolicyNotEligible):
        payments.request_relief(session, policy=policy, option="policy_loan", conversation_id="web:t")


def test_reminder_preference_creates_then_flips_the_binding_of_this_channel(session, holder):
    holder.reminders_enabled = False
    binding = reminder_prefs.set_reminders(session, holder, "telegram:4242", True)
    assert binding.channel.value == "telegram" and binding.external_id == "4242"
    assert binding.reminders_enabled and holder.reminders_enabled
    again = reminder_prefs.set_reminders(session, holder, "telegram:4242", False)
    assert again.id == binding.id and not again.reminders_enabled
    rows = session.scalars(select(ChannelBinding).where(ChannelBinding.customer_id == holder.id)).all()
    assert len(rows) == 1


def test_a_chat_bound_to_someone_else_moves_to_the_verified_customer(session, holder):
    other = make_customer(session, name="王芳", mobile="13900001111")
    reminder_prefs.set_reminders(session, other, "web:s1", True)
    binding = reminder_prefs.set_reminders(session, holder, "web:s1", False)
    assert binding.customer_id == holder.id and not binding.reminders_enabled


def test_the_hotline_has_no_reminder_binding(session, holder):
    with pytest.raises(RemindersNotSupported):
        reminder_prefs.set_reminders(session, holder, "hotline:77", True)


@pytest.mark.parametrize(
    ("text", "applies"),
    [
        ("我想申请缓交", True),
        ("帮我办理保单贷款", True),
        ("保费能不能晚点交", False),
        ("我想申请缓交可以吗", False),
    ],
)
def test_asking_about_an_option_is_not_applying_for_it(text, applies):
    assert payments.asks_to_apply(text) is applies
