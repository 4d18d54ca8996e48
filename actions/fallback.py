"""The ways out of the happy path: fallback (a general question is answered from the knowledge
base first; the second miss in a row offers a human), handing over to a human, stopping a form,
and complaints (complaint_form asks what happened when the first message is vague)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    EventType,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.claims.slots import reset_claim_slots
from actions.common import (
    INVALID_COUNT_SLOT,
    BaseFormValidation,
    ServiceAction,
    Turn,
    conversation_id,
    db,
)
from actions.knowledge import ANSWERED_KIND, KIND_KEY, Outcome, reply_from_knowledge
from bot.models import Ticket, TicketType
from bot.services import identity
from bot.services.tickets.create import create_ticket, open_tickets_for_conversation
from bot.services.tickets.rules import TICKET_RULES

FALLBACK_ACTION = "action_default_fallback"
NLU_FALLBACK_INTENT = "nlu_fallback"
MIN_COMPLAINT_CHARS = 6
# What is left of "我要投诉!" once these are taken out says whether the customer told us anything.
_VAGUE_COMPLAINT = re.compile(
    r"我要|我想|我需要|想要|要|投诉|举报|你们|客服|一下|请问|怎么|在哪|哪里|可以|吗|呢|啊|了|的|"
    r"[\s,,。.!!??~、]"
)


def _message_key(tracker: Tracker) -> str:
    """Identifies the customer's latest message (a retried action sees the same one)."""
    latest = tracker.latest_message or {}
    message_id = latest.get("message_id")
    if message_id:
        return str(message_id)
    user_turns = sum(1 for e in tracker.events if e.get("event") == "user")
    return f"turn{user_turns}"


def previous_turn_was_fallback(tracker: Tracker) -> bool:
    """Did the assistant miss the customer's previous message too (the fallback ran and did not
    answer it from the knowledge base)?"""
    users_seen = 0
    fallback_ran = answered = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            users_seen += 1
            if users_seen > 1:
                break
        elif kind == "action" and users_seen == 1:
            name = event.get("name")
            if name == FALLBACK_ACTION:
                fallback_ran = True
                break
            if name not in ("action_listen", None):
                return False
        elif kind == "bot" and users_seen == 1:
            answered = answered or (event.get("metadata") or {}).get(KIND_KEY) == ANSWERED_KIND
    return fallback_ran and not answered


class ActionDefaultFallback(Action):
    def name(self) -> str:
        return FALLBACK_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        in_form = bool((tracker.active_loop or {}).get("name"))
        missed_before = previous_turn_was_fallback(tracker)
        # A general question the intent model could not place: the knowledge base first. A
        # clarifying question is still a miss: after a miss the human offer comes instead.
        if (
            intent == NLU_FALLBACK_INTENT
            and not in_form
            and reply_from_knowledge(dispatcher, tracker, clarify=not missed_before) is not Outcome.NOTHING
        ):
            return []
        if missed_before:
            dispatcher.utter_message(response="utter_default_twice")
        elif intent == "inform" and not in_form:
            # a value nobody asked for ("LF2023000123" out of the blue): understood, but for
            # what? Ask for the business instead of apologising for not understanding.
            dispatcher.utter_message(response="utter_ask_business_for_value")
        else:
            dispatcher.utter_message(response="utter_default")
        if intent == NLU_FALLBACK_INTENT:
            return []  # the rule "nlu_fallback → this action" goes on to listen
        # Predicted by RulePolicy because no policy was confident about the next action: like
        # Rasa's own fallback, forget the message so that the next prediction is to listen
        # (without this the policies predict this action again, up to ten times in one turn).
        return [UserUtteranceReverted()]


def _open_ticket(
    turn: Turn, ticket_type: TicketType, subject: str, payload: dict[str, Any], *, idempotency_key: str
) -> Ticket:
    """A ticket for this conversation, with the verified customer and policy when there are."""
    ctx = identity.get_verified(turn.session, turn.conversation)
    ticket, _ = create_ticket(
        turn.session,
        ticket_type=ticket_type,
        subject=subject,
        customer_id=ctx.customer.id if ctx else None,
        policy_id=ctx.policy.id if ctx else None,
        conversation_id=turn.conversation,
        payload=payload,
        idempotency_key=idempotency_key,
    )
    return ticket


def _leave_form(tracker: Tracker) -> list[EventType]:
    if not (tracker.active_loop or {}).get("name"):
        return []
    return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet(INVALID_COUNT_SLOT, 0.0)]


class ActionRequestHuman(ServiceAction):
    """Opens (or reuses) a human-handover ticket with the conversation id; the channel layer queues
    the conversation for a live agent (bot/channels/inbound.py) and links this ticket."""

    def name(self) -> str:
        return "action_request_human"

    def closing(self, tracker: Tracker) -> list[EventType]:
        return _leave_form(tracker)

    def step(self, turn: Turn) -> list[EventType]:
        conv, tracker = turn.conversation, turn.tracker
        ticket = next(
            (
                t
                for t in open_tickets_for_conversation(turn.session, conv)
                if t.ticket_type == TicketType.HUMAN_HANDOVER
            ),
            None,
        )
        if ticket is None:
            ticket = _open_ticket(
                turn,
                TicketType.HUMAN_HANDOVER,
                "转人工服务:客户要求转人工",
                {"reason": "request_human", "active_form": (tracker.active_loop or {}).get("name")},
                idempotency_key=f"{conv}:handover:{_message_key(tracker)}"[:200],
            )
        turn.say("utter_human_ticket", ticket_number=ticket.number)
        return self.closing(tracker)


class ActionCancelForm(Action):
    """The customer confirmed that they want to stop: leave the form, forget what it collected."""

    def name(self) -> str:
        return "action_cancel_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_form_cancelled")
        events: list[EventType] = [*reset_claim_slots(), SlotSet("complaint_text", None)]
        if not tracker.get_slot("verified"):
            events += [SlotSet("person_name", None), SlotSet("id_tail", None)]
        events.append(SlotSet("pending_request", None))
        return [*events, ActiveLoop(None), SlotSet("requested_slot", None)]


# Slots that say or hold who the caller is: cleared when the verification ends.
IDENTITY_STATE_SLOTS = ("verified", "policy_number", "person_name", "id_tail", "pending_request")


def end_verification(tracker: Tracker) -> list[EventType]:
    """End the conversation's verification (the database row and the slots). Locks stay."""
    with db() as session:
        identity.forget(session, conversation_id(tracker))
    return [SlotSet(name, False if name == "verified" else None) for name in IDENTITY_STATE_SLOTS]


class ActionGoodbye(Action):
    """Goodbye ends the verification: on a shared browser or phone the next person must verify."""

    def name(self) -> str:
        return "action_goodbye"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        events = end_verification(tracker)
        dispatcher.utter_message(response="utter_goodbye")
        return [*events, ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionSessionStart(Action):
    """A new Rasa session (after ``session_expiration_time`` idle minutes) starts unverified."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        with db() as session:
            identity.forget(session, conversation_id(tracker))
        return [SessionStarted(), ActionExecuted("action_listen")]


def complaint_is_specific(text: str) -> bool:
    return len(_VAGUE_COMPLAINT.sub("", text or "")) >= MIN_COMPLAINT_CHARS


class ValidateComplaintForm(BaseFormValidation):
    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return ["complaint_text"]

    async def extract_complaint_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        latest = tracker.latest_message or {}
        text = str(latest.get("text") or "").strip()
        intent = (latest.get("intent") or {}).get("name")
        if tracker.get_slot("requested_slot") == "complaint_text":
            if intent in ("stop", "request_human") or text.startswith("/"):
                return {}
            return {"complaint_text": text}
        if (
            tracker.get_slot("complaint_text") is None
            and intent == "complain"
            and complaint_is_specific(text)
        ):
            return {"complaint_text": text}
        return {}

    def validate_complaint_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not complaint_is_specific(text):
            dispatcher.utter_message(response="utter_invalid_complaint_text")
            return {"complaint_text": None}
        return {"complaint_text": text[:2000]}


class ActionSubmitComplaint(ServiceAction):
    def name(self) -> str:
        return "action_submit_complaint"

    def closing(self, tracker: Tracker) -> list[EventType]:
        return [SlotSet("complaint_text", None)]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if not str(tracker.get_slot("complaint_text") or "").strip():
            dispatcher.utter_message(response="utter_ask_complaint_text")
            return []
        return await super().run(dispatcher, tracker, domain)

    def step(self, turn: Turn) -> list[EventType]:
        conv = turn.conversation
        text = str(turn.tracker.get_slot("complaint_text") or "").strip()
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        ticket = _open_ticket(
            turn,
            TicketType.COMPLAINT,
            "客户投诉:" + text[:40],
            {"complaint_text": text, "channel_conversation": conv},
            idempotency_key=f"{conv}:complaint:{digest}",
        )
        sla = TICKET_RULES[TicketType.COMPLAINT].sla_hours
        turn.say("utter_complaint_recorded", ticket_number=ticket.number, sla_hours=sla)
        return self.closing(turn.tracker)
