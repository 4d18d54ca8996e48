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

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import conversation_id, db, said_this_turn, utter_error, utter_unexpected
from bot.errors import DomainError
from bot.services import identity

logger = logging.getLogger(__name__)

Handler = Callable[
    [CollectingDispatcher, Tracker, DomainDict, Session, identity.VerifiedContext], list[EventType]
]
REQUEST_HANDLERS: dict[str, Handler] = {}


def request_handler(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        REQUEST_HANDLERS[name] = func
        return func

    return register


class ActionHandleRequest(Action):
    def name(self) -> str:
        return "action_handle_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        request = tracker.get_slot("pending_request")
        handler = REQUEST_HANDLERS.get(str(request)) if request else None
        if handler is None:
            logger.warning("no handler for pending_request=%r", request)
            dispatcher.utter_message(response="utter_default")
            return [SlotSet("pending_request", None)]
        try:
            with db() as session:
                ctx = identity.get_verified(session, conversation_id(tracker))
                if ctx is None:
                    if tracker.get_slot("identity_locked") and identity.active_lock(
                        session, conversation_id(tracker), None
                    ):
                        if not said_this_turn(tracker, "utter_error_verification_locked"):
                            dispatcher.utter_message(response="utter_error_verification_locked")
                        dispatcher.utter_message(response="utter_offer_human")
                        return [SlotSet("verified", False), SlotSet("pending_request", None)]
                    # Verification expired (or was never completed): verify, then answer.
                    dispatcher.utter_message(response="utter_error_not_verified")
                    return [SlotSet("verified", False), FollowupAction("identity_form")]
                events = handler(dispatcher, tracker, domain, session, ctx)
        except DomainError as exc:
            utter_error(dispatcher, exc, domain)
            return [SlotSet("pending_request", None)]
        except Exception:
            logger.exception("request %s failed", request)
            utter_unexpected(dispatcher)
            return [SlotSet("pending_request", None)]
        return [*events, SlotSet("pending_request", None)]
