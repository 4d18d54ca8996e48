"""Surrender, reinstatement, cooling-off and waiting period: answers from the policy's real state
(bot/services/policy_service.py) and the actions that answer and open tickets."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.policy_service import ActionAnswerServiceOffer, ActionPolicyServiceGeneral
from actions.requests import ActionHandleRequest
from bot.clock import local_today
from bot.errors import PolicyNotEligible
from bot.models import LineOfBusiness, PolicyStatus, Ticket, TicketType
from bot.services import identity, policy_service
from tests.actions.helpers import make_tracker, responses, run_action, slot_events
from tests.factories import make_customer, make_policy

TODAY = date(2026, 11, 23)
CONV = "web:ps-test"


@pytest.fixture
def holder(session):
    return make_customer(session, name="王芳")


def test_cooling_off_inside_and_over(session, holder):
    fresh = make_policy(
        session, holder, status=PolicyStatus.COOLING_OFF, issue_date=TODAY - timedelta(days=5)
    )
    answer = policy_service.cooling_off_answer(fresh, TODAY)
    assert "目前仍在犹豫期内(还剩10天)" in answer.text and "2026年12月3日" in answer.text
    assert answer.offer == "cooling_off_cancellation"
    old = make_policy(session, holder, issue_date=date(2023, 3, 1))
    answer = policy_service.cooling_off_answer(old, TODAY)
    assert "已于2023年3月16日届满" in answer.text and answer.offer is None


def test_surrender_states_cash_value_and_what_is_lost(session, holder):
    policy = make_policy(session, holder, issue_date=date(2023, 3, 1))
    policy.cash_value = Decimal("8600.00")
    answer = policy_service.surrender_answer(session, policy, TODAY)
    assert "8,600.00元" in answer.text and "低于已交保费" in answer.text and "保障随即终止" in answer.text
    assert answer.offer == "surrender"
    fresh = make_policy(
        session, holder, status=PolicyStatus.COOLING_OFF, issue_date=TODAY - timedelta(days=2)
    )
    assert policy_service.surrender_answer(session, fresh, TODAY).offer == "cooling_off_cancellation"


def test_reinstatement_inside_and_outside_the_two_year_window(session, holder):
    lapsed = make_policy(session, holder, status=PolicyStatus.LAPSED)
    lapsed.lapsed_on = date(2025, 6, 1)
    answer = policy_service.reinstatement_answer(lapsed, TODAY)
    assert "自2025年6月1日起效力中止" in answer.text and "2027年6月1日前" in answer.text
    assert "健康声明" in answer.text and answer.offer == "reinstatement"
    lapsed.lapsed_on = date(2024, 5, 1)
    answer = policy_service.reinstatement_answer(lapsed, TODAY)
    assert "超过复效期限" in answer.text and answer.offer is None
    with pytest.raises(PolicyNotEligible):
        policy_service.request_service(
            session, policy=lapsed, kind="reinstatement", conversation_id=CONV, today=TODAY
        )
    in_force = make_policy(session, holder)
    assert "无需办理复效" in policy_service.reinstatement_answer(in_force, TODAY).text


def test_waiting_period_from_the_effective_date(session, holder):
    health = make_policy(session, holder, line=LineOfBusiness.HEALTH, issue_date=TODAY - timedelta(days=31))
    answer = policy_service.waiting_period_answer(health, TODAY)
    assert "等待期为90天" in answer.text and "还剩60天" in answer.text
    life = make_policy(session, holder)
    assert "没有等待期" in policy_service.waiting_period_answer(life, TODAY).text


def test_cooling_off_cancellation_ticket_is_idempotent_and_refused_after_it(session, holder):
    fresh = make_policy(
        session, holder, status=PolicyStatus.COOLING_OFF, issue_date=TODAY - timedelta(days=5)
    )
    first = policy_service.request_service(
        session, policy=fresh, kind="cooling_off_cancellation", conversation_id=CONV, today=TODAY
    )
    again = policy_service.request_service(
        session, policy=fresh, kind="cooling_off_cancellation", conversation_id=CONV, today=TODAY
    )
    assert first.created and again.ticket.id == first.ticket.id
    assert first.ticket.ticket_type is TicketType.COOLING_OFF_CANCELLATION
    assert "犹豫期退保申请书" in first.checklist_zh
    with pytest.raises(PolicyNotEligible):
        policy_service.request_service(
            session,
            policy=fresh,
            kind="cooling_off_cancellation",
            conversation_id=CONV,
            today=TODAY + timedelta(days=30),
        )


# --- actions ---------------------------------------------------------------------------


@pytest.fixture
def verified_lapsed(action_session):
    holder = make_customer(action_session, name="王芳", mobile="13900001111")
    policy = make_policy(action_session, holder, number="LF2021000234", status=PolicyStatus.LAPSED)
    policy.lapsed_on = local_today() - timedelta(days=100)
    action_session.flush()
    identity.verify(
        action_session,
        conversation_id=CONV,
        policy_number=policy.number,
        name="王芳",
        id_tail=holder.id_number[-6:],
    )
    return holder, policy


def test_not_verified_gets_the_general_answer_and_an_offer_to_check(action_session):
    tracker = make_tracker(
        sender_id="web:anon", intent="ask_reinstatement", slots={"pending_request": "ask_reinstatement"}
    )
    events, dispatcher = run_action(ActionPolicyServiceGeneral(), tracker)
    assert responses(dispatcher) == ["utter_policy_service_general"]
    assert "两年内可以申请复效" in dispatcher.messages[0]["general_text"]
    slots = slot_events(events)
    assert slots["offer_open"] == "verify" and slots["pending_request"] == "ask_reinstatement"


def test_verified_reinstatement_answer_then_ticket_once(action_session, verified_lapsed):
    _, policy = verified_lapsed
    tracker = make_tracker(
        sender_id=CONV,
        intent="ask_reinstatement",
        slots={"pending_request": "ask_reinstatement", "verified": True},
    )
    events, dispatcher = run_action(ActionHandleRequest(), tracker)
    assert responses(dispatcher) == ["utter_policy_service_offer"]
    assert "效力中止" in dispatcher.messages[0]["service_text"]
    assert slot_events(events)["service_offer"] == "reinstatement"
    numbers = []
    for _ in range(2):  # the second run is a retry
        tracker = make_tracker(
            sender_id=CONV,
            intent="affirm",
            slots={"offer_open": "ticket", "service_offer": "reinstatement", "verified": True},
        )
        events, dispatcher = run_action(ActionAnswerServiceOffer(), tracker)
        assert responses(dispatcher) == ["utter_service_ticket"]
        numbers.append(dispatcher.messages[0]["ticket_number"])
        assert "健康告知" in dispatcher.messages[0]["checklist"] and dispatcher.messages[0]["timeline"]
    assert numbers[0] == numbers[1]
    tickets = action_session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).all()
    assert len(tickets) == 1 and tickets[0].ticket_type is TicketType.REINSTATEMENT


def test_surrender_offer_declined_opens_nothing(action_session, verified_lapsed):
    _, policy = verified_lapsed
    tracker = make_tracker(
        sender_id=CONV,
        intent="deny",
        slots={"offer_open": "ticket", "service_offer": "surrender", "verified": True},
    )
    events, dispatcher = run_action(ActionAnswerServiceOffer(), tracker)
    assert responses(dispatcher) == ["utter_offer_declined"]
    assert slot_events(events)["offer_open"] is None
    assert action_session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).all() == []


def test_an_ineligible_request_gets_a_friendly_reply(action_session, verified_lapsed):
    tracker = make_tracker(
        sender_id=CONV,
        intent="affirm",
        slots={"offer_open": "ticket", "service_offer": "cooling_off_cancellation"},
    )
    _, dispatcher = run_action(ActionAnswerServiceOffer(), tracker)
    assert responses(dispatcher) == ["utter_error_policy_not_eligible"]


def test_an_expired_verification_never_opens_a_ticket(action_session, verified_lapsed):
    tracker = make_tracker(
        sender_id="web:expired",
        intent="affirm",
        slots={"offer_open": "ticket", "service_offer": "surrender", "verified": True},
    )
    events, dispatcher = run_action(ActionAnswerServiceOffer(), tracker)
    assert responses(dispatcher) == ["utter_error_not_verified", "utter_offer_human"]
    assert slot_events(events)["verified"] is False


def test_only_a_clear_yes_opens_a_surrender(action_session, verified_lapsed):
    _, policy = verified_lapsed
    tracker = make_tracker(
        sender_id=CONV,
        intent="inform",
        text="LF2021000234",
        slots={"offer_open": "ticket", "service_offer": "surrender", "verified": True},
    )
    _, dispatcher = run_action(ActionAnswerServiceOffer(), tracker)
    assert responses(dispatcher) == ["utter_offer_declined"]
    assert action_session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).all() == []
