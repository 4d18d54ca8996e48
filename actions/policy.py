"""Policy look-ups for a verified caller."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import conversation_id
from actions.requests import request_handler
from bot.ids import normalize_policy_number
from bot.services import identity, policies
from bot.services.identity import VerifiedContext


def _named_policy(tracker: Tracker) -> str | None:
    """A policy number typed in this very message ("查一下AU2024000088")."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "policy_number":
            return normalize_policy_number(str(entity.get("value") or ""))
    return None


@request_handler("query_policy")
def answer_query_policy(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    session: Session,
    ctx: VerifiedContext,
) -> list[EventType]:
    events: list[EventType] = []
    named = _named_policy(tracker)
    if named and named != ctx.policy.number:
        switched = identity.switch_policy(session, conversation_id(tracker), named)
        if switched is None:
            # Not a policy of the verified customer: say nothing about it.
            dispatcher.utter_message(response="utter_policy_not_yours")
            return []
        ctx = switched
        events.append(SlotSet("policy_number", named))
    card = policies.policy_card(session, ctx.policy)
    dispatcher.utter_message(response="utter_policy_card", policy_card=card.to_text_zh())
    return events
