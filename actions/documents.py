"""ask_documents: the checklist of a claim type or a policy service from the document catalog."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import utter_unexpected
from bot import catalog

logger = logging.getLogger(__name__)
GENERAL_CLAIM = "claim"  # the catalog entry for a claim of no particular type


def document_topic(tracker: Tracker) -> str | None:
    """The catalog key asked about: an entity of this message, the message's wording, or — inside
    the claim form — the claim type being reported."""
    latest = tracker.latest_message or {}
    for entity in latest.get("entities") or []:
        if entity.get("entity") in ("business_type", "claim_type"):
            key = catalog.resolve_business_type(str(entity.get("value") or ""))
            if key:
                return key
    text = str(latest.get("text") or "")
    if not text.startswith("/"):
        key = catalog.resolve_business_type(text)
        if key and key != "claim":
            return key
        from bot.services.claims import resolve_claim_type

        claim_type = resolve_claim_type(text)
        if claim_type is not None:
            return claim_type.value
        if key:
            return key
    if (tracker.active_loop or {}).get("name") == "claim_form":
        from bot.services.claims import resolve_claim_type

        claim_type = resolve_claim_type(str(tracker.get_slot("claim_type") or ""))
        if claim_type is not None:
            return claim_type.value
    return None


class ActionAnswerDocuments(Action):
    def name(self) -> str:
        return "action_answer_documents"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        key = document_topic(tracker)
        if key is None:
            dispatcher.utter_message(response="utter_ask_document_topic")
            return [SlotSet("documents_topic_asked", True)]
        try:
            item = catalog.entry(key)
            if item.kind == "claim":
                police = tracker.get_slot("police_reported")
                reqs = catalog.claim_requirements(
                    key, police_reported=police if isinstance(police, bool) else None
                )
            else:
                reqs = catalog.service_requirements(key)
            dispatcher.utter_message(
                response="utter_documents_checklist",
                title=item.title,
                checklist=catalog.format_checklist_zh(reqs),
                timeline=item.timeline,
                next_steps=item.next_steps,
            )
        except Exception:
            logger.exception("documents for %s failed", key)
            utter_unexpected(dispatcher)
            return [SlotSet("documents_topic_asked", False)]
        if key == GENERAL_CLAIM:
            # the general list only says "proof of the incident": offer the type's own list
            dispatcher.utter_message(response="utter_documents_which_claim_type")
            return [SlotSet("documents_topic_asked", True)]
        return [SlotSet("documents_topic_asked", False)]
