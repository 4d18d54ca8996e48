"""What the change forms share: their slots, the form validator with identity inside, the submit
action (not verified / not confirmed / open the ticket; always clear the form) and stopping."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import (
    VerifiedAction,
    VerifiedTurn,
    ticket_details,
    utter_error,
    with_verified,
)
from actions.identity import IdentityFormValidation
from bot.errors import ChangeRequestInvalid, DomainError
from bot.models import Customer
from bot.services.identity import VerifiedContext
from bot.services.tickets.create import ServiceTicket

BF_SLOTS = ["bf_name", "bf_relationship", "bf_id_number", "bf_share", "bf_more", "bf_confirm"]
CC_SLOTS = ["cc_field", "cc_value", "cc_confirm"]
PA_SLOTS = ["pa_bank", "pa_card", "pa_holder", "pa_confirm"]
# Responses sent under names built at run time (BaseFormValidation's utter_help_<slot>,
# utter_error_<code>, utter_change_not_confirmed_<kind>): listed so that scripts/validate_data.py
# knows a custom action sends them.
DYNAMIC_RESPONSES = (
    "utter_help_bf_id_number",
    "utter_help_bf_share",
    "utter_help_pa_card",
    "utter_change_not_confirmed_beneficiary",
    "utter_change_not_confirmed_contact",
    "utter_change_not_confirmed_payment_account",
    "utter_error_reminders_channel",
    "utter_error_policy_not_eligible",
)


def clear_change_slots() -> list[EventType]:
    events: list[EventType] = [SlotSet(s, None) for s in (*BF_SLOTS, *CC_SLOTS, *PA_SLOTS)]
    events += [
        SlotSet("bf_list", None),
        SlotSet("bf_total", "0%"),
        SlotSet("invalid_attempts", 0.0),
        SlotSet("offer_open", None),
        SlotSet("service_offer", None),
    ]
    return events


def policyholder(session: Session, ctx: VerifiedContext | None) -> Customer | None:
    """The verified policy's holder (whose contact details and debit account change)."""
    return session.get(Customer, ctx.policy.policyholder_id) if ctx else None


def check_or_explain(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    slot: str,
    check: Callable[[Session, VerifiedContext | None], Any],
) -> dict[str, Any]:
    """``{slot: check(session, verified context)}``; when the service refuses the value,
    ``{slot: None}`` and the reason it gives."""
    try:
        return {slot: with_verified(tracker, check)}
    except ChangeRequestInvalid as exc:
        dispatcher.utter_message(text=exc.message_zh)
        return {slot: None}


class ChangeFormValidation(IdentityFormValidation, ABC):
    """Identity questions first, then the form's own slots; stops at once when locked."""

    own_slots: list[str] = []

    @abstractmethod
    def name(self) -> str: ...

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("identity_locked") and not tracker.get_slot("verified"):
            return []  # the submit action explains the lock and offers a human
        return self.identity_slots_needed(tracker) + list(self.own_slots)

    def after_verification(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, verification: list[EventType]
    ) -> list[EventType]:
        if tracker.get_slot("requested_slot") is None and tracker.get_slot("offer_open"):
            # The form starts (e.g. "变更扣款账户" from the relief options): the offer is answered.
            return [SlotSet("offer_open", None), SlotSet("service_offer", None)]
        return []


class ReadBack(Action, ABC):
    """Asks for the confirmation: the change read back, masked, in ``response``."""

    response = ""

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def readback(self, tracker: Tracker) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response=self.response, readback=self.readback(tracker))
        return []


class SubmitChange(VerifiedAction, ABC):
    """Shared submit logic: not verified / not confirmed / open the ticket; always clear the form."""

    confirm_slot = ""
    kind = ""  # beneficiary / contact / payment_account
    title = ""

    @abstractmethod
    def create(self, turn: VerifiedTurn) -> ServiceTicket: ...

    def closing(self, tracker: Tracker) -> list[EventType]:
        return [*clear_change_slots(), SlotSet("requested_slot", None)]

    def reply_to_error(
        self, dispatcher: CollectingDispatcher, error: DomainError, domain: DomainDict
    ) -> None:
        if isinstance(error, ChangeRequestInvalid):
            dispatcher.utter_message(response="utter_change_invalid", reason=error.message_zh)
            dispatcher.utter_message(response="utter_offer_human")
        else:
            utter_error(dispatcher, error, domain)

    def verified_step(self, turn: VerifiedTurn) -> list[EventType]:
        if turn.tracker.get_slot(self.confirm_slot) is not True:
            turn.say(f"utter_change_not_confirmed_{self.kind}")
            return self.closing(turn.tracker)
        result = self.create(turn)
        turn.say("utter_change_submitted", change_title=self.title, **ticket_details(result))
        return self.closing(turn.tracker)


class ActionCancelChange(Action):
    """Stop confirmed in a change form: nothing is submitted, the form's answers are dropped."""

    def name(self) -> str:
        return "action_cancel_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_form_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *clear_change_slots()]
