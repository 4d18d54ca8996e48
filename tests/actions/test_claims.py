"""claim_form validation, the read-back, submitting a claim, and ask_claim_status — actions run
as the Rasa server runs them, against a real (rolled-back) database session."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

import actions.claims.status  # noqa: F401  (registers the ask_claim_status handler)
from actions.claims.report import ActionAskClaimConfirmed, ActionAskClaimPolicy, ActionSubmitClaim
from actions.claims.report_form import ValidateClaimForm
from actions.requests import ActionHandleRequest
from bot.errors import VerificationFailed, VerificationLocked
from bot.models import Claim, ClaimStatus, LineOfBusiness, Ticket, TicketType
from bot.models.base import utcnow
from bot.services import identity
from tests.actions.helpers import make_tracker, responses, run_action, slot_events
from tests.factories import make_customer, make_policy, valid_id_number

CONV = "web:claim-test"


@pytest.fixture
def zhang(action_session):
    holder = make_customer(action_session, name="张伟", id_number=valid_id_number(date(1985, 3, 15), 731))
    life = make_policy(action_session, holder, number="LF2023000123")
    motor = make_policy(
        action_session,
        holder,
        number="AU2024000088",
        line=LineOfBusiness.MOTOR,
        issue_date=date(2024, 1, 10),
        with_beneficiary=False,
    )
    return holder, life, motor


def verify(session, holder, number: str, conv: str = CONV) -> None:
    identity.verify(
        session, conversation_id=conv, policy_number=number, name=holder.name, id_tail=holder.id_number[-6:]
    )


def form_turn(
    slots: dict[str, Any],
    new: dict[str, Any],
    *,
    text: str = "",
    intent: str = "inform",
    sender: str = CONV,
    entities: list[dict[str, Any]] | None = None,
):
    """One user turn in claim_form: ``new`` are the values Rasa extracted from this message."""
    merged = {**slots, **new}
    events = [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}]
    events += [{"event": "slot", "name": k, "value": v} for k, v in new.items()]
    tracker = make_tracker(
        sender_id=sender,
        slots=merged,
        intent=intent,
        text=text,
        entities=entities,
        active_loop="claim_form",
        events=events,
    )
    events_out, dispatcher = run_action(ValidateClaimForm(), tracker)
    return slot_events(events_out), responses(dispatcher), dispatcher


def test_the_form_asks_identity_after_the_claim_type_and_verifies(zhang):
    holder, _, _ = zhang
    slots, said, _ = form_turn({"requested_slot": "claim_type"}, {"claim_type": "追尾"}, text="追尾")
    assert slots["claim_type"] == "motor"
    assert slots["requested_slot"] == "policy_number"  # the script: product, then who you are
    state = {"claim_type": "motor", "requested_slot": "policy_number"}
    slots, _, _ = form_turn(
        state, {"policy_number": "au2024000088", "person_name": "张伟"}, text="张伟 au2024000088"
    )
    assert slots["policy_number"] == "AU2024000088" and slots["requested_slot"] == "id_tail"
    state.update(policy_number="AU2024000088", person_name="张伟", requested_slot="id_tail")
    slots, said, dispatcher = form_turn(state, {"id_tail": holder.id_number[-6:]}, text=holder.id_number[-6:])
    assert slots["verified"] is True
    assert slots["claim_policy"] == "AU2024000088"  # the verified motor policy fits a motor claim
    assert slots["requested_slot"] == "incident_description"
    assert "utter_verified" in said
    assert dispatcher.messages[0]["customer_name"] == "张*"  # masked


def test_a_claim_on_a_policy_of_another_line_is_refused_politely_and_the_right_one_offered(
    action_session, zhang
):
    holder, _, _ = zhang
    verify(action_session, holder, "LF2023000123")
    slots, said, dispatcher = form_turn(
        {"requested_slot": "claim_type", "verified": True}, {"claim_type": "车险"}, text="车险"
    )
    assert "utter_claim_type_mismatch" in said
    assert dispatcher.messages[-1]["line_zh"] == "寿险"
    assert slots["requested_slot"] == "claim_policy"
    ask = make_tracker(sender_id=CONV, slots={"claim_type": "motor", "verified": True})
    _, asked = run_action(ActionAskClaimPolicy(), ask)
    assert responses(asked) == ["utter_ask_claim_policy_list"]
    assert asked.messages[0]["buttons"][0]["title"] == "AU2024000088"
    slots, said, _ = form_turn(
        {"claim_type": "motor", "verified": True, "requested_slot": "claim_policy"},
        {"claim_policy": "AU2024000088"},
        text="AU2024000088",
    )
    assert slots["claim_policy"] == "AU2024000088" and slots["requested_slot"] == "incident_description"
    assert identity.get_verified(action_session, CONV).policy.number == "AU2024000088"


def test_somebody_elses_policy_is_not_accepted_for_the_claim(action_session, zhang):
    holder, _, _ = zhang
    other = make_customer(action_session, name="李四", id_number=valid_id_number(date(1990, 2, 2), 12))
    make_policy(action_session, other, number="AU2025000777", line=LineOfBusiness.MOTOR)
    verify(action_session, holder, "LF2023000123")
    slots, said, _ = form_turn(
        {"claim_type": "motor", "verified": True, "requested_slot": "claim_policy"},
        {"claim_policy": "AU2025000777"},
        text="AU2025000777",
    )
    assert slots["claim_policy"] is None and "utter_invalid_claim_policy" in said


VERIFIED_MOTOR = {
    "claim_type": "motor",
    "verified": True,
    "claim_policy": "AU2024000088",
    "policy_number": "AU2024000088",
}


def test_incident_time_is_parsed_and_checked(action_session, zhang):
    holder, _, _ = zhang
    verify(action_session, holder, "AU2024000088")
    state = {**VERIFIED_MOTOR, "incident_description": "被追尾", "requested_slot": "incident_time"}
    slots, _, _ = form_turn(state, {"incident_time": "昨天下午三点"}, text="昨天下午三点")
    assert slots["incident_time"].endswith("15:00:00+08:00")
    assert slots["requested_slot"] == "incident_place"
    slots, said, _ = form_turn(state, {"incident_time": "2023年5月1日"}, text="2023年5月1日")
    assert slots["incident_time"] is None and "utter_incident_time_before_policy" in said
    tomorrow = (utcnow() + timedelta(days=2)).strftime("%Y年%m月%d日")
    slots, said, _ = form_turn(state, {"incident_time": tomorrow}, text=tomorrow)
    assert slots["incident_time"] is None and "utter_incident_time_future" in said


def test_the_description_can_carry_the_time_and_the_plate(action_session, zhang):
    holder, _, _ = zhang
    verify(action_session, holder, "AU2024000088")
    text = "前天晚上八点在望京被后车追尾,车牌京A8K2J6"
    slots, _, _ = form_turn(
        {**VERIFIED_MOTOR, "requested_slot": "incident_description"},
        {"incident_description": text},
        text=text,
    )
    assert slots["incident_description"] == text
    assert "T20:00:00" in slots["incident_time"] and slots["plate_number"] == "京A8K2J6"
    assert slots["requested_slot"] == "incident_place"


def test_one_question_for_police_and_photos(action_session, zhang):
    holder, _, _ = zhang
    verify(action_session, holder, "AU2024000088")
    state = {
        **VERIFIED_MOTOR,
        "incident_description": "被追尾了车尾受损",
        "incident_time": "2026-11-01",
        "incident_place": "望京西路",
        "requested_slot": "police_reported",
    }
    slots, _, _ = form_turn(state, {"police_reported": "没报警,拍了照片"}, text="没报警,拍了照片")
    assert (slots["police_reported"], slots["has_photos"]) == (False, True)
    assert slots["requested_slot"] == "plate_number"
    slots, _, _ = form_turn(state, {"police_reported": "报警了"}, text="报警了")
    assert slots["police_reported"] is True and slots["requested_slot"] == "has_photos"


def test_invalid_plate_twice_explains_and_offers_a_human(action_session, zhang):
    holder, _, _ = zhang
    verify(action_session, holder, "AU2024000088")
    state = {
        **VERIFIED_MOTOR,
        "incident_description": "被追尾了车尾受损",
        "incident_time": "2026-11-01",
        "incident_place": "望京西路",
        "police_reported": True,
        "has_photos": True,
        "requested_slot": "plate_number",
    }
    slots, said, _ = form_turn(state, {"plate_number": "不记得"}, text="不记得")
    assert said == ["utter_invalid_plate_number"] and slots["invalid_attempts"] == 1
    slots, said, _ = form_turn({**state, "invalid_attempts": 1.0}, {"plate_number": "A123"}, text="A123")
    assert said == ["utter_invalid_plate_number", "utter_help_plate_number", "utter_invalid_twice"]
    assert slots["invalid_attempts"] == 0


FILLED = {
    **VERIFIED_MOTOR,
    "incident_description": "等红灯时被后车追尾,车尾受损",
    "incident_time": "2026-11-01T15:00:00+08:00",
    "incident_place": "北京市朝阳区望京西路",
    "police_reported": True,
    "has_photos": True,
    "plate_number": "京A8K2J6",
}


def test_the_summary_is_read_back_before_submitting(zhang):
    _, dispatcher = run_action(ActionAskClaimConfirmed(), make_tracker(sender_id=CONV, slots=FILLED))
    assert responses(dispatcher) == ["utter_claim_summary"]
    summary = dispatcher.messages[0]["summary"]
    assert "2026年11月01日 15:00" in summary and "京A8K2J6" in summary and "已报警" in summary


def test_deny_at_confirmation_asks_what_to_correct_then_reads_back_again(action_session, zhang):
    holder, _, _ = zhang
    verify(action_session, holder, "AU2024000088")
    state = {**FILLED, "requested_slot": "claim_confirmed"}
    slots, _, _ = form_turn(state, {"claim_confirmed": "不对"}, text="不对", intent="deny")
    assert slots["claim_confirmed"] is False and slots["requested_slot"] == "claim_correction"
    state.update(claim_confirmed=False, requested_slot="claim_correction")
    slots, _, _ = form_turn(state, {"claim_correction": "地点说错了"}, text="地点说错了")
    assert slots["incident_place"] is None and slots["requested_slot"] == "incident_place"
    state.update(claim_correction="incident_place", incident_place=None, requested_slot="incident_place")
    slots, _, _ = form_turn(state, {"incident_place": "望京街道阜通东大街"}, text="望京街道阜通东大街")
    assert slots["incident_place"] == "望京街道阜通东大街"
    assert slots["claim_confirmed"] is None and slots["requested_slot"] == "claim_confirmed"
    slots, _, _ = form_turn(
        {**FILLED, "requested_slot": "claim_confirmed"},
        {"claim_confirmed": "确认"},
        text="确认",
        intent="affirm",
    )
    assert slots["claim_confirmed"] is True and slots["requested_slot"] is None


def test_submitting_creates_the_claim_once_and_lists_the_documents(action_session, zhang):
    holder, _, motor = zhang
    verify(action_session, holder, "AU2024000088")
    tracker = make_tracker(sender_id=CONV, slots={**FILLED, "claim_confirmed": True})
    events, dispatcher = run_action(ActionSubmitClaim(), tracker)
    assert responses(dispatcher) == ["utter_claim_reported"]
    message = dispatcher.messages[0]
    number = message["claim_number"]
    assert number.startswith("CL") and slot_events(events)["claim_number"] == number
    assert "报警回执" in message["checklist"] and "事故情况说明" not in message["checklist"]
    assert "张伟" not in str(message)
    # A retried action (same conversation, same report) returns the same claim.
    _, dispatcher2 = run_action(ActionSubmitClaim(), tracker)
    assert dispatcher2.messages[0]["claim_number"] == number
    assert action_session.scalar(select(func.count(Claim.id)).where(Claim.policy_id == motor.id)) == 1
    tickets = action_session.scalars(select(Ticket).where(Ticket.ticket_type == TicketType.CLAIM)).all()
    assert len(tickets) == 1 and tickets[0].conversation_id == CONV
    assert slot_events(events)["claim_type"] is None  # the form's slots are cleared


def test_submitting_when_locked_says_so_and_offers_a_human(action_session, zhang):
    for tail in ("000001", "000002", "000003"):
        with contextlib.suppress(VerificationFailed, VerificationLocked):
            identity.verify(
                action_session, conversation_id=CONV, policy_number="AU2024000088", name="张伟", id_tail=tail
            )
    tracker = make_tracker(
        sender_id=CONV, slots={**FILLED, "verified": False, "identity_locked": True, "claim_confirmed": None}
    )
    _, dispatcher = run_action(ActionSubmitClaim(), tracker)
    assert responses(dispatcher) == ["utter_error_verification_locked", "utter_offer_human"]
    assert action_session.scalar(select(func.count(Claim.id))) == 0


def _status(sender: str, slots: dict[str, Any]):
    tracker = make_tracker(sender_id=sender, slots={"pending_request": "ask_claim_status", **slots})
    return run_action(ActionHandleRequest(), tracker)


def test_claim_status_by_number_in_plain_words(action_session, zhang):
    holder, _, _ = zhang
    verify(action_session, holder, "AU2024000088")
    run_action(ActionSubmitClaim(), make_tracker(sender_id=CONV, slots={**FILLED, "claim_confirmed": True}))
    claim = action_session.scalars(select(Claim)).one()
    claim.status = ClaimStatus.DOCUMENTS_PENDING
    action_session.flush()
    events, dispatcher = _status(CONV, {"claim_number": claim.number.lower(), "verified": True})
    assert responses(dispatcher) == ["utter_claim_status"]
    text = dispatcher.messages[0]["status_text"]
    assert claim.number in text and "材料待补充" in text and "定损单" in text and "下一步" in text
    assert slot_events(events)["claim_number"] is None


def test_claim_status_lists_the_customers_claims_or_says_there_are_none(action_session, zhang):
    holder, _, _ = zhang
    verify(action_session, holder, "AU2024000088")
    _, dispatcher = _status(CONV, {"verified": True})
    assert responses(dispatcher) == ["utter_no_claims"]
    run_action(ActionSubmitClaim(), make_tracker(sender_id=CONV, slots={**FILLED, "claim_confirmed": True}))
    _, dispatcher = _status(CONV, {"verified": True})
    assert "共有1件理赔案件" in dispatcher.messages[0]["status_text"]


def test_claim_status_of_somebody_elses_claim_is_not_disclosed(action_session, zhang):
    holder, _, _ = zhang
    verify(action_session, holder, "AU2024000088")
    run_action(ActionSubmitClaim(), make_tracker(sender_id=CONV, slots={**FILLED, "claim_confirmed": True}))
    number = action_session.scalars(select(Claim.number)).one()
    other = make_customer(action_session, name="李四", id_number=valid_id_number(date(1990, 2, 2), 12))
    make_policy(action_session, other, number="LF2025000777")
    verify(action_session, other, "LF2025000777", conv="web:other")
    _, dispatcher = _status("web:other", {"claim_number": number, "verified": True})
    assert responses(dispatcher) == ["utter_error_claim_not_found"]


def test_claim_status_before_verification_discloses_nothing(action_session, zhang):
    events, dispatcher = _status("web:nobody", {"claim_number": "CL2600000088"})
    assert responses(dispatcher) == ["utter_error_not_verified"]
    assert any(e.get("event") == "followup" and e.get("name") == "identity_form" for e in events)


def test_three_wrong_answers_in_the_form_lock_and_the_lock_is_stored(action_session, zhang):
    said: list[str] = []
    for tail in ("000001", "000002", "000003"):
        state = {
            "claim_type": "motor",
            "policy_number": "AU2024000088",
            "person_name": "张伟",
            "requested_slot": "id_tail",
        }
        slots, said, _ = form_turn(state, {"id_tail": tail}, text=tail)
    assert slots["identity_locked"] is True and slots["verified"] is False
    assert "utter_error_verification_locked" in said
    assert slots["requested_slot"] is None  # the form ends; action_submit_claim explains
    assert identity.active_lock(action_session, CONV, "AU2024000088") is not None


def test_an_id_tail_the_nlu_took_for_a_goodbye_is_still_the_answer(zhang):
    holder, _, _ = zhang
    tail = holder.id_number[-6:]
    tracker = make_tracker(
        sender_id=CONV,
        intent="goodbye",
        text=tail,
        active_loop="claim_form",
        slots={
            "claim_type": "motor",
            "policy_number": "AU2024000088",
            "person_name": "张伟",
            "requested_slot": "id_tail",
        },
        events=[{"event": "user", "text": tail, "parse_data": {"intent": {"name": "goodbye"}}}],
    )
    events, _ = run_action(ValidateClaimForm(), tracker)
    assert slot_events(events)["verified"] is True


def test_a_later_mention_does_not_change_the_claim_type(action_session, zhang):
    holder, _, _ = zhang
    verify(action_session, holder, "AU2024000088")
    text = "下班路上在小区门口被一辆电动车刮了,左前门有划痕"
    events = [
        {"event": "slot", "name": "claim_type", "value": "motor"},
        {"event": "user", "text": text, "parse_data": {"intent": {"name": "report_claim"}}},
        {"event": "slot", "name": "claim_type", "value": "刮了"},
    ]
    tracker = make_tracker(
        sender_id=CONV,
        slots={**VERIFIED_MOTOR, "claim_type": "刮了", "requested_slot": "incident_description"},
        intent="report_claim",
        text=text,
        active_loop="claim_form",
        events=events,
    )
    out, dispatcher = run_action(ValidateClaimForm(), tracker)
    slots = slot_events(out)
    assert slots["claim_type"] == "motor" and slots["incident_description"] == text
    assert slots["requested_slot"] == "incident_time" and "utter_invalid_claim_type" not in responses(
        dispatcher
    )
