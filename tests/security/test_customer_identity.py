"""Issue 12 items 6, 7 and 8: goodbye ends the verification; a stranger's wrong tries do not lock
the policyholder out; a locked caller is told once (no form/handler loop)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.policy_service  # noqa: F401  (registers the query_policy handler)
from actions.identity import ValidateIdentityForm
from actions.requests import ActionHandleRequest
from bot.errors import VerificationFailed, VerificationLocked
from bot.services import identity
from tests.actions.helpers import domain, make_tracker, responses, run_action, slot_events
from tests.factories import make_customer, make_policy

VICTIM = "web:victim-session"


@pytest.fixture
def zhang(action_session):
    holder = make_customer(action_session, name="张伟")
    make_policy(action_session, holder, number="LF2023000123")
    return holder


def test_three_wrong_tries_from_a_stranger_do_not_lock_the_policyholder(action_session, zhang) -> None:
    for _ in range(3):
        with pytest.raises((VerificationFailed, VerificationLocked)):
            identity.verify(
                action_session,
                conversation_id="web:attacker",
                policy_number="LF2023000123",
                name="张伟",
                id_tail="000000",
                client_key="ip:203.0.113.5",
            )
    ctx = identity.verify(
        action_session,
        conversation_id=VICTIM,
        policy_number="LF2023000123",
        name="张伟",
        id_tail=zhang.id_number[-6:],
        client_key="ip:198.51.100.7",
    )
    assert ctx.customer.id == zhang.id


def test_a_stranger_cannot_rotate_cookies_to_try_more_policies(action_session, zhang) -> None:
    errors: list[Exception] = []
    for i in range(8):
        try:
            identity.verify(
                action_session,
                conversation_id=f"web:cookie-{i}",
                policy_number=f"LF20230001{i:02d}",
                name="张伟",
                id_tail="000000",
                client_key="ip:203.0.113.5",
            )
        except (VerificationFailed, VerificationLocked) as exc:
            errors.append(exc)
    assert any(isinstance(e, VerificationLocked) for e in errors)


def test_goodbye_ends_the_verification(action_session, zhang) -> None:
    identity.verify(
        action_session,
        conversation_id=VICTIM,
        policy_number="LF2023000123",
        name="张伟",
        id_tail=zhang.id_number[-6:],
    )
    from actions.fallback import ActionGoodbye  # absent before the fix

    tracker = make_tracker(sender_id=VICTIM, slots={"verified": True}, intent="goodbye", text="再见")
    events, dispatcher = run_action(ActionGoodbye(), tracker)
    assert "utter_goodbye" in responses(dispatcher)
    assert slot_events(events)["verified"] is False
    assert identity.get_verified(action_session, VICTIM) is None
    # the next person on the same browser asks for the policy: verification first, no card
    ask = make_tracker(
        sender_id=VICTIM, slots={"verified": False, "pending_request": "query_policy"}, intent="query_policy"
    )
    events, dispatcher = run_action(ActionHandleRequest(), ask)
    assert "utter_policy_card" not in responses(dispatcher)
    assert "utter_error_not_verified" in responses(dispatcher)


def _turn(
    tracker_kwargs: dict[str, Any], client: str | None = None, max_rounds: int = 5
) -> tuple[int, list[str]]:
    """One customer turn the way Rasa runs it: identity_form (with its required slots), then
    action_handle_request, and identity_form again whenever the handler asks for it."""
    said: list[str] = []
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "帮我查一下我的保单", "metadata": {"client": client} if client else {}}
    ]
    rounds = 0
    for rounds in range(1, max_rounds + 1):
        tracker = make_tracker(events=list(events), **tracker_kwargs)
        form = ValidateIdentityForm()
        dispatcher = CollectingDispatcher()
        required = asyncio.run(form.required_slots([], dispatcher, tracker, domain()))
        assert required == []  # the lock holds: the form asks nothing and ends
        events.append({"event": "action", "name": "identity_form"})
        tracker = make_tracker(events=list(events), **tracker_kwargs)
        out, dispatcher = run_action(ActionHandleRequest(), tracker)
        said += responses(dispatcher)
        events.append({"event": "action", "name": "action_handle_request"})
        if not any(e.get("event") == "followup" and e.get("name") == "identity_form" for e in out):
            break
    return rounds, said


def test_a_locked_caller_is_told_once_and_offered_a_human(action_session, zhang) -> None:
    client = "ip:203.0.113.5"
    for i in range(6):  # this client locked itself, across conversations
        with pytest.raises((VerificationFailed, VerificationLocked)):
            identity.verify(
                action_session,
                conversation_id=f"web:other-{i}",
                policy_number="LF2023000123",
                name="李四",
                id_tail="000000",
                client_key=client,
            )
    rounds, said = _turn(
        {
            "sender_id": "web:new-cookie",
            "slots": {"pending_request": "query_policy"},
            "intent": "query_policy",
        },
        client=client,
    )
    assert rounds == 1
    assert said.count("utter_error_not_verified") + said.count("utter_error_verification_locked") == 1
    assert "utter_offer_human" in said


def test_the_form_and_the_handler_never_send_each_other_round(action_session, zhang) -> None:
    # Locked in this conversation: the lock comes from the conversation, not a slot.
    for _ in range(3):
        with pytest.raises((VerificationFailed, VerificationLocked)):
            identity.verify(
                action_session,
                conversation_id=VICTIM,
                policy_number="LF2023000124",
                name="李四",
                id_tail="000000",
            )
    rounds, said = _turn(
        {"sender_id": VICTIM, "slots": {"pending_request": "query_policy"}, "intent": "query_policy"}
    )
    assert rounds == 1 and said.count("utter_error_verification_locked") == 1
    assert "utter_offer_human" in said
