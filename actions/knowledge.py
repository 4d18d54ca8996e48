"""General insurance questions answered from the knowledge base (bot.services.knowledge): a
confident match gets the answer, its source and a way into the matching flow; an unsure one a
clarifying question with the two best topics and a human; nothing close, the caller's usual reply.

Two ways in: ``action_answer_from_knowledge`` for messages the intent model reads as
``out_of_scope``, and ``action_default_fallback`` (actions/fallback.py), which asks
``reply_from_knowledge`` first for an ``nlu_fallback``; both only outside forms. Answers are
general rules only: nothing of the customer's policy is read or shown; where the real answer
depends on the policy, the button offers the matching flow, which verifies the caller before it
looks anything up.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.services import knowledge
from bot.services.knowledge.retrieval import ANSWER_THRESHOLD, CLARIFY_THRESHOLD

logger = logging.getLogger(__name__)

# Sent as text, not as domain responses, so that the Rasa server needs no new responses to show them
# (the wording is the knowledge base's); the message's metadata says what it was ("knowledge":
# "answer" / "clarify"), which the fallback reads to count misses.
KIND_KEY = "knowledge"
ANSWERED_KIND = "answer"
CLARIFY_KIND = "clarify"
SOURCE_LINE = "（依据：{label}）"
HUMAN_BUTTON = {"title": "转人工客服", "payload": "/request_human"}
LOOKUP_TITLE = "核实身份后查询我的保单"
VERIFY_SUFFIX = "（需核实身份）"
LOOKUP_PAYLOAD = "/query_policy"


class Outcome(Enum):
    ANSWERED = "answered"  # a confident answer was sent
    CLARIFIED = "clarified"  # a clarifying question was sent (the customer was not understood)
    NOTHING = "nothing"  # nothing was sent: the caller replies as before


def warm_up() -> None:
    """Build the knowledge index now (~1.2 s) instead of on the first question; a launcher may
    call it before serving. Not called at import: importing the actions must stay cheap."""
    knowledge.get_index()


def _latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "").strip()


def _buttons(result: knowledge.KnowledgeAnswer, verified: bool) -> list[dict[str, str]]:
    flow = result.button
    if not result.policy_specific:
        return [{"title": flow.title, "payload": flow.payload}] if flow else []
    # The real answer depends on the customer's policy: offer the flow that verifies first (its
    # unverified rules run identity_form or offer the verification), or the policy look-up.
    if flow is None:
        return [{"title": LOOKUP_TITLE, "payload": LOOKUP_PAYLOAD}]
    return [{"title": flow.title if verified else flow.title + VERIFY_SUFFIX, "payload": flow.payload}]


def reply_from_knowledge(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    answer_threshold: float = ANSWER_THRESHOLD,
    clarify: bool = True,
) -> Outcome:
    """Answer the latest message from the knowledge base when it can (``clarify``: or ask back
    when unsure); send nothing otherwise."""
    text = _latest_text(tracker)
    if not text or text.startswith("/"):
        return Outcome.NOTHING  # a button payload, not a question
    try:
        result = knowledge.get_index().answer(
            text,
            answer_threshold=answer_threshold,
            clarify_threshold=CLARIFY_THRESHOLD if clarify else answer_threshold,
        )
    except Exception:  # a broken knowledge folder must not break the turn: reply as before
        logger.exception("knowledge base unavailable")
        return Outcome.NOTHING
    if isinstance(result, knowledge.KnowledgeAnswer):
        text = result.text + "\n" + SOURCE_LINE.format(label=result.source.customer_label)
        dispatcher.utter_message(
            text=text,
            buttons=_buttons(result, bool(tracker.get_slot("verified"))),
            **{KIND_KEY: ANSWERED_KIND, "knowledge_entry": result.entry.id},
        )
        return Outcome.ANSWERED
    if isinstance(result, knowledge.Clarify) and clarify:
        buttons = [{"title": b.title, "payload": b.payload} for b in result.buttons[:2]]
        dispatcher.utter_message(
            text=result.text, buttons=[*buttons, dict(HUMAN_BUTTON)], **{KIND_KEY: CLARIFY_KIND}
        )
        return Outcome.CLARIFIED
    return Outcome.NOTHING


class ActionAnswerFromKnowledge(Action):
    """A message read as out_of_scope: a close knowledge answer, else (and in any form) the
    out-of-scope reply."""

    def name(self) -> str:
        return "action_answer_from_knowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        # The intent model was sure the message is out of scope (product advice, social insurance,
        # other trades): answer a close match, never ask back about insurance topics. In a form:
        # today's reply, then the form goes on.
        outcome = Outcome.NOTHING
        if not (tracker.active_loop or {}).get("name"):
            outcome = reply_from_knowledge(dispatcher, tracker, clarify=False)
        if outcome is Outcome.NOTHING:
            dispatcher.utter_message(response="utter_out_of_scope")
        return []
