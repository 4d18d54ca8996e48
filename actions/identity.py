"""Identity verification in the dialogue: the identity form, and the validator base class that
puts the same three questions (policy number, policyholder's name, last six of the ID) into any
form and checks them once all three are known."""

from __future__ import annotations

from abc import ABC
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import BaseFormValidation, checked, conversation_id, db, slot_text, utter_error
from bot.errors import VerificationFailed, VerificationLocked
from bot.ids import normalize_policy_number
from bot.masking import mask_name
from bot.models import VerificationLock
from bot.services import identity
from bot.text.names import clean_name

IDENTITY_SLOTS = ["policy_number", "person_name", "id_tail"]
# Intents that mean something else even while a question is open (the rules handle them).
NOT_AN_ANSWER = frozenset({"stop", "request_human"})


def client_key(tracker: Tracker) -> str | None:
    """Who is typing, across conversations: the ``client`` the app put in the message's metadata
    ("ip:<address>" for the web chat), else the Telegram chat of the conversation."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            value = (event.get("metadata") or {}).get("client")
            if isinstance(value, str) and value:
                return value[:160]
            break
    conv = conversation_id(tracker)
    return conv[:160] if conv.startswith("telegram:") else None


def verification_lock(session: Session, tracker: Tracker) -> VerificationLock | None:
    """The lock on this conversation or its client, if one holds: the identity form and the
    request handler ask the same question, so that they cannot send the caller to each other."""
    return identity.active_lock(session, conversation_id(tracker), client_key(tracker))


def answer_to_question(
    tracker: Tracker, slot: str, not_an_answer: frozenset[str] = NOT_AN_ANSWER
) -> dict[str, Any]:
    """The customer's text as the answer to the open question ``slot``, whatever intent the NLU
    guessed ("157317" is not a goodbye), unless a slot mapping has filled it this turn already
    or the message is a stop / human request or a button payload."""
    if tracker.get_slot("requested_slot") != slot or slot in tracker.slots_to_validate():
        return {}
    latest = tracker.latest_message or {}
    text = str(latest.get("text") or "").strip()
    intent = (latest.get("intent") or {}).get("name")
    if not text or text.startswith("/") or intent in not_an_answer:
        return {}
    return {slot: text}


class IdentityFormValidation(BaseFormValidation, ABC):
    """The validator of a form that needs a verified caller: the identity questions
    (``identity_slots_needed`` goes into ``required_slots``), checked once all are known; then
    ``after_verification`` for what the form does next."""

    def identity_slots_needed(self, tracker: Tracker) -> list[str]:
        """The identity questions still to ask: none when verified, or while a lock holds (the
        request handler then explains the lock once and offers a human)."""
        conv = conversation_id(tracker)
        with db() as session:
            if identity.get_verified(session, conv) is not None:
                return []
            if verification_lock(session, tracker) is not None:
                return []
        return list(IDENTITY_SLOTS)

    async def extract_policy_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return answer_to_question(tracker, "policy_number")

    async def extract_person_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return answer_to_question(tracker, "person_name")

    async def extract_id_tail(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return answer_to_question(tracker, "id_tail")

    def validate_policy_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = normalize_policy_number(str(value)) if value else None
        if number is None:
            if tracker.get_slot("requested_slot") == "policy_number":
                dispatcher.utter_message(response="utter_invalid_policy_number")
            return {"policy_number": None}
        return {"policy_number": number}

    def validate_person_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return checked(
            dispatcher, "person_name", clean_name(str(value)) if value else None, "utter_invalid_person_name"
        )

    def validate_id_tail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        tail = identity.normalize_id_tail(str(value)) if value else None
        return checked(dispatcher, "id_tail", tail, "utter_invalid_id_tail")

    def verify_when_complete(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Once the three facts are known, check them; clear them again on a mismatch."""
        number = slot_text(tracker, "policy_number")
        name = slot_text(tracker, "person_name")
        tail = slot_text(tracker, "id_tail")
        if tracker.get_slot("verified") and self.identity_slots_needed(tracker) == []:
            return []
        if not (number and name and tail):
            return []
        cleared = [SlotSet("person_name", None), SlotSet("id_tail", None), SlotSet("policy_number", None)]
        error: VerificationFailed | VerificationLocked | None = None
        masked = ""
        # The failed attempt and the lock must be committed: catch inside the transaction.
        with db() as session:
            try:
                ctx = identity.verify(
                    session,
                    conversation_id=conversation_id(tracker),
                    policy_number=number,
                    name=name,
                    id_tail=tail,
                    client_key=client_key(tracker),
                )
                masked = mask_name(ctx.customer.name)
            except (VerificationLocked, VerificationFailed) as exc:
                error = exc
        if isinstance(error, VerificationLocked):
            utter_error(dispatcher, error, domain)
            # The form stops asking while the lock holds (identity_slots_needed).
            return [*cleared, SlotSet("identity_locked", True), SlotSet("verified", False)]
        if isinstance(error, VerificationFailed):
            remaining = int(str(error.context.get("remaining") or 0))
            dispatcher.utter_message(response="utter_verification_failed", remaining=remaining)
            return [*cleared, SlotSet("verified", False)]
        dispatcher.utter_message(response="utter_verified", customer_name=masked)
        return [
            SlotSet("verified", True),
            SlotSet("policy_number", number),
            SlotSet("identity_locked", False),
        ]

    def after_verification(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, verification: list[EventType]
    ) -> list[EventType]:
        """The form's next steps once the slots and the verification are settled (``tracker``
        has them); ``verification``: the events of ``verify_when_complete``."""
        return []

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = await super().get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(events)
        verification = self.verify_when_complete(dispatcher, tracker, domain)
        tracker.add_slots(verification)
        more = self.after_verification(dispatcher, tracker, verification)
        tracker.add_slots(more)
        return events + verification + more


class ValidateIdentityForm(IdentityFormValidation):
    def name(self) -> str:
        return "validate_identity_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return self.identity_slots_needed(tracker)
