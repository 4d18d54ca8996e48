"""identity_form (actions/identity.py): the three facts checked at once, cleared on a mismatch."""

from __future__ import annotations

import pytest

from actions.identity import ValidateIdentityForm
from tests.actions.helpers import make_tracker, responses, run_action, slot_events
from tests.factories import make_customer, make_policy


@pytest.fixture
def holder_and_policy(session):
    holder = make_customer(session, name="张伟")
    policy = make_policy(session, holder, number="LF2023000123")
    return holder, policy


def test_identity_form_verifies_when_all_three_are_given(action_session, holder_and_policy):
    holder, _ = holder_and_policy
    tracker = make_tracker(
        sender_id="web:form1",
        slots={
            "policy_number": "LF2023000123",
            "person_name": "张伟",
            "id_tail": holder.id_number[-6:],
            "requested_slot": "id_tail",
        },
        active_loop="identity_form",
    )
    events, dispatcher = run_action(ValidateIdentityForm(), tracker)
    slots = slot_events(events)
    assert slots["verified"] is True
    assert slots["requested_slot"] is None
    assert "utter_verified" in responses(dispatcher)
    # The reply masks the name.
    assert dispatcher.messages[-1]["customer_name"] == "张*"


def test_identity_form_clears_the_facts_on_a_mismatch(action_session, holder_and_policy):
    tracker = make_tracker(
        sender_id="web:form2",
        slots={
            "policy_number": "LF2023000123",
            "person_name": "张伟",
            "id_tail": "999999",
            "requested_slot": "id_tail",
        },
        active_loop="identity_form",
    )
    events, dispatcher = run_action(ValidateIdentityForm(), tracker)
    slots = slot_events(events)
    assert slots["verified"] is False
    assert slots["policy_number"] is None and slots["id_tail"] is None
    # Rasa then asks the first empty slot of the form again: the policy number.
    assert slots.get("requested_slot", "policy_number") == "policy_number"
    assert "utter_verification_failed" in responses(dispatcher)
