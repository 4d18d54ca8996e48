"""Fallback, handover, stop, complaints, documents and the policy card — real database session."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

import actions.policy_service  # noqa: F401  (registers the query_policy handler)
from actions.documents import ActionAnswerDocuments
from actions.fallback import (
    ActionCancelForm,
    ActionDefaultFallback,
    ActionRequestHuman,
    ActionSubmitComplaint,
    ValidateComplaintForm,
    complaint_is_specific,
)
from actions.requests import ActionHandleRequest
from bot.models import Ticket, TicketType
from bot.services import identity
from tests.actions.helpers import make_tracker, responses, run_action, slot_events
from tests.factories import make_customer, make_policy, valid_id_number


def _user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def _action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def test_the_second_fallback_in_a_row_offers_a_human():
    first = [_action("action_listen"), _user("阿斯顿", "nlu_fallback")]
    _, dispatcher = run_action(ActionDefaultFallback(), make_tracker(intent="nlu_fallback", events=first))
    assert responses(dispatcher) == ["utter_default"]
    second = [
        *first,
        _action("action_default_fallback"),
        _action("action_listen"),
        _user("嗯那个", "nlu_fallback"),
    ]
    _, dispatcher = run_action(ActionDefaultFallback(), make_tracker(intent="nlu_fallback", events=second))
    assert responses(dispatcher) == ["utter_default_twice"]
    payloads = [b["payload"] for b in domain_buttons("utter_default_twice")]
    assert "/request_human" in payloads
    # Understood in between: the count starts again.
    third = [
        *second,
        _action("action_default_fallback"),
        _action("action_listen"),
        _user("你好", "greet"),
        _action("utter_greet"),
        _action("action_listen"),
        _user("呃", "nlu_fallback"),
    ]
    _, dispatcher = run_action(ActionDefaultFallback(), make_tracker(intent="nlu_fallback", events=third))
    assert responses(dispatcher) == ["utter_default"]


def test_a_fallback_predicted_by_the_policies_forgets_the_message_so_the_turn_ends():
    """No policy was sure what to do after an understood message (e.g. a bare answer with no
    question pending): the customer gets one apology, and the message is reverted so that the
    assistant listens next instead of apologising again and again in the same turn."""
    events = [_action("action_listen"), _user("住院了怎么办", "report_claim")]
    result, dispatcher = run_action(
        ActionDefaultFallback(), make_tracker(intent="report_claim", text="住院了怎么办", events=events)
    )
    assert responses(dispatcher) == ["utter_default"]
    assert [e["event"] for e in result] == ["rewind"]
    # An NLU fallback is handled by its rule, which listens next: nothing is reverted.
    result, _ = run_action(
        ActionDefaultFallback(), make_tracker(intent="nlu_fallback", text="阿斯顿", events=events)
    )
    assert result == []


def test_a_value_nobody_asked_for_gets_asked_what_it_is_for():
    """A bare policy number out of the blue is understood as a value: the customer is asked which
    business it is for (with buttons), not told that they were not understood."""
    events = [_action("action_listen"), _user("LF2021000234", "inform")]
    result, dispatcher = run_action(
        ActionDefaultFallback(), make_tracker(intent="inform", text="LF2021000234", events=events)
    )
    assert responses(dispatcher) == ["utter_ask_business_for_value"]
    assert [e["event"] for e in result] == ["rewind"]
    assert "/query_policy" in [b["payload"] for b in domain_buttons("utter_ask_business_for_value")]
    # Inside a form a value is the form's business: the plain apology stays.
    tracker = make_tracker(intent="inform", text="LF2021000234", events=events, active_loop="identity_form")
    _, dispatcher = run_action(ActionDefaultFallback(), tracker)
    assert responses(dispatcher) == ["utter_default"]


def domain_buttons(response: str) -> list[dict[str, Any]]:
    from tests.actions.helpers import domain

    return domain()["responses"][response][0]["buttons"]


def test_request_human_opens_one_handover_ticket_for_the_conversation(action_session):
    tracker = make_tracker(
        sender_id="web:h1", intent="request_human", text="转人工", events=[_user("转人工", "request_human")]
    )
    events, dispatcher = run_action(ActionRequestHuman(), tracker)
    assert responses(dispatcher) == ["utter_human_ticket"]
    number = dispatcher.messages[0]["ticket_number"]
    ticket = action_session.scalars(select(Ticket).where(Ticket.number == number)).one()
    assert ticket.ticket_type is TicketType.HUMAN_HANDOVER and ticket.conversation_id == "web:h1"
    assert events == []  # no form to leave
    _, again = run_action(ActionRequestHuman(), tracker)
    assert again.messages[0]["ticket_number"] == number
    count = action_session.scalar(
        select(func.count(Ticket.id)).where(Ticket.ticket_type == TicketType.HUMAN_HANDOVER)
    )
    assert count == 1


def test_request_human_in_a_form_leaves_the_form(action_session):
    tracker = make_tracker(
        sender_id="web:h2",
        intent="request_human",
        active_loop="claim_form",
        slots={"requested_slot": "plate_number"},
    )
    events, dispatcher = run_action(ActionRequestHuman(), tracker)
    assert responses(dispatcher) == ["utter_human_ticket"]
    assert {"event": "active_loop", "name": None} in [
        {"event": e["event"], "name": e.get("name")} for e in events
    ]
    assert slot_events(events)["requested_slot"] is None


def test_stopping_a_form_forgets_what_it_collected():
    tracker = make_tracker(active_loop="claim_form", slots={"claim_type": "motor", "incident_place": "望京"})
    events, dispatcher = run_action(ActionCancelForm(), tracker)
    assert responses(dispatcher) == ["utter_form_cancelled"]
    slots = slot_events(events)
    assert slots["claim_type"] is None and slots["incident_place"] is None and slots["requested_slot"] is None
    assert any(e["event"] == "active_loop" and e.get("name") is None for e in events)


def _complaint_turn(text: str, intent: str, requested: str | None):
    tracker = make_tracker(
        sender_id="web:cp",
        intent=intent,
        text=text,
        active_loop="complaint_form",
        slots={"requested_slot": requested},
        events=[_user(text, intent)],
    )
    events, dispatcher = run_action(ValidateComplaintForm(), tracker)
    return slot_events(events), responses(dispatcher)


def test_a_vague_complaint_is_asked_about_a_specific_one_is_taken_as_it_is():
    assert not complaint_is_specific("我要投诉!")
    slots, _ = _complaint_turn("我要投诉", "complain", None)
    assert slots.get("complaint_text") is None  # the form asks utter_ask_complaint_text next
    slots, _ = _complaint_turn("我要投诉你们的理赔员,定损拖了两个星期", "complain", None)
    assert slots["complaint_text"].startswith("我要投诉你们的理赔员")  # nothing left to ask
    slots, said = _complaint_turn("太差了", "inform", "complaint_text")
    assert slots["complaint_text"] is None and said == ["utter_invalid_complaint_text"]


def test_a_complaint_is_recorded_in_the_customers_words_once(action_session):
    words = "上个月交的理赔材料到现在都没人处理,打了三次电话也没人回复"
    tracker = make_tracker(sender_id="web:cp2", slots={"complaint_text": words})
    events, dispatcher = run_action(ActionSubmitComplaint(), tracker)
    assert responses(dispatcher) == ["utter_complaint_recorded"]
    assert dispatcher.messages[0]["sla_hours"] == 24
    number = dispatcher.messages[0]["ticket_number"]
    ticket = action_session.scalars(select(Ticket).where(Ticket.number == number)).one()
    assert ticket.ticket_type is TicketType.COMPLAINT and ticket.payload["complaint_text"] == words
    assert ticket.conversation_id == "web:cp2"
    assert slot_events(events)["complaint_text"] is None
    run_action(ActionSubmitComplaint(), tracker)
    count = action_session.scalar(
        select(func.count(Ticket.id)).where(Ticket.ticket_type == TicketType.COMPLAINT)
    )
    assert count == 1


def test_documents_for_a_claim_type_with_originals_and_copies():
    tracker = make_tracker(
        intent="ask_documents",
        text="车险理赔要准备什么材料",
        entities=[{"entity": "claim_type", "value": "车险"}],
    )
    events, dispatcher = run_action(ActionAnswerDocuments(), tracker)
    assert responses(dispatcher) == ["utter_documents_checklist"]
    message = dispatcher.messages[0]
    assert message["title"] == "车险理赔"
    assert "定损单/维修估价单(原件" in message["checklist"] and "驾驶证(复印件" in message["checklist"]
    assert slot_events(events)["documents_topic_asked"] is False


def test_documents_ask_which_business_when_not_told_then_answer():
    events, dispatcher = run_action(
        ActionAnswerDocuments(), make_tracker(intent="ask_documents", text="要带什么材料")
    )
    assert responses(dispatcher) == ["utter_ask_document_topic"]
    assert slot_events(events)["documents_topic_asked"] is True
    tracker = make_tracker(intent="inform", text="改受益人", slots={"documents_topic_asked": True})
    events, dispatcher = run_action(ActionAnswerDocuments(), tracker)
    assert dispatcher.messages[0]["title"] == "受益人变更"
    assert slot_events(events)["documents_topic_asked"] is False


def test_general_claim_documents_offer_the_list_of_a_claim_type_next():
    """ "理赔要什么材料" gets the general list, then the question which kind of claim; the answer
    ("住院") gets the medical claim's full list."""
    tracker = make_tracker(intent="ask_documents", text="请问办理理赔需要准备哪些资料")
    events, dispatcher = run_action(ActionAnswerDocuments(), tracker)
    assert responses(dispatcher) == ["utter_documents_checklist", "utter_documents_which_claim_type"]
    assert slot_events(events)["documents_topic_asked"] is True
    tracker = make_tracker(intent="inform", text="住院", slots={"documents_topic_asked": True})
    events, dispatcher = run_action(ActionAnswerDocuments(), tracker)
    assert responses(dispatcher) == ["utter_documents_checklist"]
    assert dispatcher.messages[0]["title"] == "医疗险理赔"
    assert slot_events(events)["documents_topic_asked"] is False


def test_documents_inside_the_claim_form_use_the_claim_being_reported():
    tracker = make_tracker(
        intent="ask_documents",
        text="要准备哪些材料",
        active_loop="claim_form",
        slots={"claim_type": "medical"},
    )
    _, dispatcher = run_action(ActionAnswerDocuments(), tracker)
    assert dispatcher.messages[0]["title"] == "医疗险理赔"


def test_the_policy_card_is_shown_only_verified_and_masked(action_session):
    holder = make_customer(action_session, name="张伟", id_number=valid_id_number(date(1985, 3, 15), 731))
    make_policy(action_session, holder, number="LF2023000123")
    tracker = make_tracker(sender_id="web:pc", slots={"pending_request": "query_policy"})
    _, dispatcher = run_action(ActionHandleRequest(), tracker)
    assert responses(dispatcher) == ["utter_error_not_verified"]
    identity.verify(
        action_session,
        conversation_id="web:pc",
        policy_number="LF2023000123",
        name="张伟",
        id_tail=holder.id_number[-6:],
    )
    _, dispatcher = run_action(ActionHandleRequest(), tracker)
    card = dispatcher.messages[0]["policy_card"]
    assert "LF2023000123" in card and "张*" in card and "张伟" not in card
    assert "李*" in card and "6222021234567890123" not in card  # beneficiary and bank masked
