"""Requests that need a verified caller.

Each gated intent sets ``pending_request`` (a from_intent slot mapping). When the caller is
verified the rules run ``action_handle_request`` at once; otherwise ``identity_form`` runs first
and ``action_handle_request`` follows it. The action looks the handler up by ``pending_request``.
Topic modules register their handlers with ``@request_handler("<intent>")``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import Turn, VerifiedAction, VerifiedTurn, utter_locked
from actions.identity import verification_lock

logger = logging.getLogger(__name__)

Handler = Callable[[VerifiedTurn], list[EventType]]
REQUEST_HANDLERS: dict[str, Handler] = {}


def request_handler(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        REQUEST_HANDLERS[name] = func
        return func

    return register


def ran_this_turn(tracker: Tracker, action: str) -> bool:
    """Has ``action`` run since the customer's latest message?"""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == action:
            return True
    return False


class ActionHandleRequest(VerifiedAction):
    def name(self) -> str:
        return "action_handle_request"

    def closing(self, tracker: Tracker) -> list[EventType]:
        return [SlotSet("pending_request", None)]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        request = tracker.get_slot("pending_request")
        if REQUEST_HANDLERS.get(str(request)) is None:
            logger.warning("no handler for pending_request=%r", request)
            dispatcher.utter_message(response="utter_default")
            return self.closing(tracker)
        return await super().run(dispatcher, tracker, domain)

    def unverified(self, turn: Turn) -> list[EventType]:
        if verification_lock(turn.session, turn.tracker) is not None:
            # Said once, with a human offered; the request is dropped (no way back into the form).
            utter_locked(turn.dispatcher, turn.tracker)
            return [SlotSet("verified", False), SlotSet("identity_locked", True), *self.closing(turn.tracker)]
        if ran_this_turn(turn.tracker, "identity_form"):
            # The form has just ended without a verification: never send the caller round again.
            turn.say("utter_error_not_verified")
            turn.say("utter_offer_human")
            return [SlotSet("verified", False), *self.closing(turn.tracker)]
        # Verification expired (or was never completed): verify, then answer.
        turn.say("utter_error_not_verified")
        return [SlotSet("verified", False), FollowupAction("identity_form")]

    def verified_step(self, turn: VerifiedTurn) -> list[EventType]:
        handler = REQUEST_HANDLERS[str(turn.tracker.get_slot("pending_request"))]
        return [*handler(turn), *self.closing(turn.tracker)]
