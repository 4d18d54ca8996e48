"""The base classes of actions (actions/common.py): ``VerifiedAction`` answers an unverified caller
with the verification prompt instead of running its step, and ``ServiceAction`` turns a
DomainError into ``utter_error_<code>`` (anything else into ``utter_error_internal``), returning
the action's closing events either way."""

from __future__ import annotations

from datetime import date

import pytest
from rasa_sdk.events import EventType, SlotSet

from actions.common import ServiceAction, Turn, VerifiedAction, VerifiedTurn
from bot.errors import ClaimNotFound, DomainError
from bot.services import identity
from tests.actions.helpers import domain, make_tracker, responses, run_action, slot_events
from tests.factories import make_customer, make_policy, valid_id_number

CONV = "web:base-test"


class _Errorless(DomainError):
    code = "no_such_response"
    message_zh = "这句话没有对应的回复模板。"


class ActionProbeVerified(VerifiedAction):
    """Raises what the slot ``complaint_text`` names, else answers with the verified policy."""

    def name(self) -> str:
        return "action_probe_verified"

    def closing(self, tracker) -> list[EventType]:
        return [SlotSet("pending_request", None)]

    def verified_step(self, turn: VerifiedTurn) -> list[EventType]:
        failure = turn.tracker.get_slot("complaint_text")
        if failure == "domain":
            raise ClaimNotFound("LP000")
        if failure == "uncoded":
            raise _Errorless()
        if failure == "bug":
            raise RuntimeError("not the customer's doing")
        turn.say("utter_policy_card", policy_card=turn.ctx.policy.number)
        return [SlotSet("policy_number", turn.ctx.policy.number), *self.closing(turn.tracker)]


class ActionProbeService(ServiceAction):
    def name(self) -> str:
        return "action_probe_service"

    def step(self, turn: Turn) -> list[EventType]:
        raise ClaimNotFound("LP000")


def probe(slots: dict | None = None):
    tracker = make_tracker(sender_id=CONV, slots={"pending_request": "x", **(slots or {})})
    events, dispatcher = run_action(ActionProbeVerified(), tracker)
    return events, responses(dispatcher), dispatcher


@pytest.fixture
def verified(action_session):
    holder = make_customer(action_session, name="李娜", id_number=valid_id_number(date(1990, 7, 22), 482))
    policy = make_policy(action_session, holder, number="HE2024000321")
    identity.verify(
        action_session,
        conversation_id=CONV,
        policy_number=policy.number,
        name="李娜",
        id_tail=holder.id_number[-6:],
    )
    return policy


def test_an_unverified_caller_gets_the_verification_prompt_not_the_step(action_session):
    events, said, _ = probe()
    assert said == ["utter_error_not_verified", "utter_offer_human"]
    assert events == [SlotSet("pending_request", None), SlotSet("verified", False)]


def test_a_locked_caller_is_told_of_the_lock(action_session):
    events, said, _ = probe({"identity_locked": True})
    assert said == ["utter_error_verification_locked", "utter_offer_human"]
    assert slot_events(events)["verified"] is False


def test_a_verified_caller_gets_the_step(verified):
    events, said, dispatcher = probe()
    assert said == ["utter_policy_card"] and dispatcher.messages[0]["policy_card"] == verified.number
    assert events == [SlotSet("policy_number", verified.number), SlotSet("pending_request", None)]


def test_a_domain_error_becomes_utter_error_code_and_the_closing_events(verified):
    events, said, _ = probe({"complaint_text": "domain"})
    assert said == ["utter_error_claim_not_found"]
    assert events == [SlotSet("pending_request", None)]
    # Without a response of its own the error's Chinese message is sent.
    events, said, _ = probe({"complaint_text": "uncoded"})
    assert said == [_Errorless.message_zh] and events == [SlotSet("pending_request", None)]


def test_any_other_failure_apologises_without_details(verified):
    events, said, _ = probe({"complaint_text": "bug"})
    assert said == ["utter_error_internal"]
    assert events == [SlotSet("pending_request", None)]


def test_a_service_action_has_the_same_epilogue(action_session):
    events, dispatcher = run_action(ActionProbeService(), make_tracker(sender_id=CONV))
    assert responses(dispatcher) == ["utter_error_claim_not_found"] and events == []


def test_the_action_server_registers_exactly_the_actions_of_the_domain():
    """Every module of the package is imported and the abstract bases are not actions themselves."""
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    ours = {
        name
        for name, run in executor.actions.items()
        if type(getattr(run, "__self__", None)).__module__.startswith("actions.")
    }
    assert ours == set(domain()["actions"])
