"""Premium and renewal requests through action_handle_request and the offers they make
(actions/payments.py, action_answer_service_offer) against a real (rolled-back) session."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.policy_service import ActionAnswerServiceOffer
from actions.requests import ActionHandleRequest
from bot.clock import local_today
from bot.models import ChannelBinding, DebitAttempt, PremiumDue, PremiumStatus, Ticket, TicketType
from bot.services import identity
from tests.actions.helpers import make_tracker, responses, run_action, slot_events
from tests.factories import make_customer, make_policy, valid_id_number

CONV = "telegram:5550001"


@pytest.fixture
def li(action_session):
    holder = make_customer(action_session, name="李娜", id_number=valid_id_number(date(1990, 7, 22), 482))
    due = local_today() + timedelta(days=7)
    policy = make_policy(
        action_session, holder, number="HE2024000321", premium=Decimal("6880.00"), next_due=due
    )
    identity.verify(
        action_session,
        conversation_id=CONV,
        policy_number=policy.number,
        name="李娜",
        id_tail=holder.id_number[-6:],
    )
    return holder, policy, due


def handle(request: str, sender: str = CONV, intent: str | None = None):
    tracker = make_tracker(
        sender_id=sender, slots={"pending_request": request, "verified": True}, intent=intent or request
    )
    events, dispatcher = run_action(ActionHandleRequest(), tracker)
    return slot_events(events), responses(dispatcher), dispatcher.messages


def answer_offer(kind: str, intent: str, text: str = "", entities=None, sender: str = CONV):
    tracker = make_tracker(
        sender_id=sender,
        slots={"offer_open": "ticket", "service_offer": kind, "verified": True},
        intent=intent,
        text=text,
        entities=entities,
    )
    events, dispatcher = run_action(ActionAnswerServiceOffer(), tracker)
    return slot_events(events), responses(dispatcher), dispatcher.messages


def fail_debit(session, policy, reason: str) -> None:
    premium = session.scalars(select(PremiumDue).where(PremiumDue.policy_id == policy.id)).one()
    premium.status = PremiumStatus.FAILED
    session.add(
        DebitAttempt(
            premium_id=premium.id,
            amount=premium.amount,
            succeeded=False,
            failure_reason=reason,
            attempted_at=datetime.now(timezone.utc) - timedelta(days=1),
        )
    )
    session.flush()


def zh(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def test_premium_due_answers_date_amount_and_grace_end(li):
    _, _, due = li
    slots, said, messages = handle("ask_premium_due")
    assert said == ["utter_premium_due_answer"]
    text = messages[0]["premium_text"]
    assert zh(due) in text and "6,880.00元" in text and "还有7天" in text
    assert zh(due + timedelta(days=60)) in text  # grace end = due + policy.grace_period_days
    assert slots["pending_request"] is None


def test_nothing_is_disclosed_before_verification(li):
    slots, said, messages = handle("ask_premium_due", sender="web:stranger")
    assert said == ["utter_error_not_verified"]
    assert not any("premium_text" in m for m in messages)
    assert slots["verified"] is False


def test_grace_period_answer(li):
    _, _, due = li
    _, said, messages = handle("ask_grace_period")
    assert said == ["utter_grace_period_answer"]
    assert (
        "宽限期为60天" in messages[0]["grace_text"]
        and zh(due + timedelta(days=60)) in messages[0]["grace_text"]
    )


def test_failed_debit_reason_then_follow_up_ticket_created_once(action_session, li):
    _, policy, _ = li
    fail_debit(action_session, policy, "代扣授权失效")
    slots, said, messages = handle("report_payment_failed")
    assert said == ["utter_payment_failed_answer", "utter_offer_payment_followup"]
    assert "银行代扣授权已失效" in messages[0]["failure_text"] and "转账授权书" in messages[0]["failure_text"]
    assert slots["offer_open"] == "ticket" and slots["service_offer"] == "payment_issue"
    slots, said, messages = answer_offer("payment_issue", "affirm")
    assert said == ["utter_payment_issue_ticket"] and slots["offer_open"] is None
    number = messages[0]["ticket_number"]
    _, _, retried = answer_offer("payment_issue", "affirm")  # a retried action returns the same ticket
    assert retried[0]["ticket_number"] == number
    tickets = action_session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).all()
    assert [t.ticket_type for t in tickets] == [TicketType.PAYMENT_ISSUE]


def test_no_failed_debit_offers_nothing(li):
    slots, said, messages = handle("report_payment_failed")
    assert said == ["utter_payment_failed_answer"] and "还没有扣款失败的记录" in messages[0]["failure_text"]
    assert slots["offer_open"] is None


def test_relief_options_then_the_chosen_one_opens_a_ticket(action_session, li):
    _, policy, _ = li
    slots, said, messages = handle("request_payment_relief")
    assert said == ["utter_payment_relief_options"]
    assert all(w in messages[0]["relief_text"] for w in ("缓交", "减额交清", "保单贷款", "变更扣款账户"))
    assert slots["offer_open"] == "ticket" and slots["service_offer"] == "payment_relief"
    # "好的" without an option: ask which one, the offer stays open.
    slots, said, _ = answer_offer("payment_relief", "affirm", text="好的")
    assert said == ["utter_payment_relief_choose"] and slots["offer_open"] == "ticket"
    slots, said, messages = answer_offer(
        "payment_relief", "inform", text="我选缓交", entities=[{"entity": "business_type", "value": "缓交"}]
    )
    assert said == ["utter_service_ticket"] and slots["offer_open"] is None
    assert messages[0]["service_title"] == "保费缓交" and "保费缓交申请书" in messages[0]["checklist"]
    ticket = action_session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).one()
    assert ticket.ticket_type is TicketType.PAYMENT_RELIEF and ticket.payload["option"] == "premium_deferral"
    assert ticket.number == messages[0]["ticket_number"]


def test_relief_declined(li):
    slots, said, _ = answer_offer("payment_relief", "deny", text="暂时不需要")
    assert said == ["utter_offer_declined"] and slots["offer_open"] is None


def test_reminders_on_and_off_flip_this_channels_binding(action_session, li):
    holder, _, _ = li
    _, said, _ = handle("unsubscribe_reminders")
    assert said == ["utter_reminders_unsubscribed"]
    binding = action_session.scalars(
        select(ChannelBinding).where(ChannelBinding.customer_id == holder.id)
    ).one()
    assert (binding.channel.value, binding.external_id, binding.reminders_enabled) == (
        "telegram",
        "5550001",
        False,
    )
    _, said, _ = handle("subscribe_reminders")
    assert said == ["utter_reminders_subscribed"]
    action_session.refresh(binding)
    assert binding.reminders_enabled is True


def test_reminders_on_the_hotline_get_a_friendly_answer(action_session, li):
    holder, policy, _ = li
    identity.verify(
        action_session,
        conversation_id="hotline:1",
        policy_number=policy.number,
        name="李娜",
        id_tail=holder.id_number[-6:],
    )
    _, said, _ = handle("subscribe_reminders", sender="hotline:1")
    assert said == ["utter_error_reminders_channel"]


def test_a_relief_named_in_the_request_opens_the_ticket_at_once(action_session, li):
    _, policy, _ = li
    tracker = make_tracker(
        sender_id=CONV,
        slots={"pending_request": "request_payment_relief", "verified": True},
        intent="request_payment_relief",
        text="交不起了 想申请保单贷款",
        entities=[{"entity": "business_type", "value": "保单贷款"}],
    )
    events, dispatcher = run_action(ActionHandleRequest(), tracker)
    assert responses(dispatcher) == ["utter_service_ticket"]
    assert dispatcher.messages[0]["service_title"] == "保单贷款"
    ticket = action_session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).one()
    assert ticket.payload["option"] == "policy_loan"
    assert slot_events(events)["offer_open"] is None


def test_an_option_named_right_after_the_menu_is_the_choice_whatever_the_intent(action_session, li):
    """After the relief menu a bare "减额交清" may be read as request_payment_relief rather than
    inform: it still chooses the option (one ticket), while a question about it shows the menu."""
    _, policy, _ = li
    menu = {"pending_request": "request_payment_relief", "verified": True, "service_offer": "payment_relief"}
    asked = make_tracker(
        sender_id=CONV, slots=menu, intent="request_payment_relief", text="减额交清是什么意思"
    )
    _, dispatcher = run_action(ActionHandleRequest(), asked)
    assert responses(dispatcher) == ["utter_payment_relief_options"]
    chosen = make_tracker(sender_id=CONV, slots=menu, intent="request_payment_relief", text="那就减额交清吧")
    events, dispatcher = run_action(ActionHandleRequest(), chosen)
    assert responses(dispatcher) == ["utter_service_ticket"]
    assert dispatcher.messages[0]["service_title"] == "减额交清"
    ticket = action_session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).one()
    assert ticket.payload["option"] == "reduced_paid_up"
    assert slot_events(events)["offer_open"] is None
