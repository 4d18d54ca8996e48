"""Contact-details change (contact_form): which detail, the new value checked, a masked
read-back, confirmation, then a maker-checker ticket."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.changes.base import (
    CC_SLOTS,
    ChangeFormValidation,
    ReadBack,
    SubmitChange,
    check_or_explain,
    policyholder,
)
from actions.common import VerifiedTurn, checked, slot_text, with_verified
from bot.services.changes import contact
from bot.services.tickets.create import ServiceTicket

# Intents that are never an answer to "which contact detail?" (digressions and stops).
NOT_AN_ANSWER = {
    "stop",
    "request_human",
    "deny",
    "complain",
    "goodbye",
    "bot_challenge",
    "out_of_scope",
    "ask_payment_methods",
    "ask_documents",
}


class ValidateContactForm(ChangeFormValidation):
    own_slots = CC_SLOTS

    def name(self) -> str:
        return "validate_contact_form"

    async def extract_cc_field(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("cc_field"):
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = str(tracker.latest_message.get("text") or "")
        if tracker.get_slot("requested_slot") == "cc_field":
            return {} if intent in NOT_AN_ANSWER or not text else {"cc_field": text}
        if intent == "change_contact_info":  # "我换手机号了" already says which detail
            hint = contact.contact_field_of(text)
            return {"cc_field": hint} if hint else {}
        return {}

    def validate_cc_field(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        field = contact.contact_field_of(str(value)) if value else None
        return checked(dispatcher, "cc_field", field, "utter_invalid_cc_field")

    def validate_cc_value(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        field = slot_text(tracker, "cc_field") or "mobile"
        return check_or_explain(
            dispatcher,
            tracker,
            "cc_value",
            lambda s, ctx: contact.check_contact_value(field, str(value), policyholder(s, ctx)),
        )

    def validate_cc_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"cc_confirm": bool(value)}


class ActionAskCcConfirm(ReadBack):
    response = "utter_contact_readback"

    def name(self) -> str:
        return "action_ask_cc_confirm"

    def readback(self, tracker: Tracker) -> str:
        field = slot_text(tracker, "cc_field") or "mobile"
        value = slot_text(tracker, "cc_value") or ""
        return with_verified(
            tracker, lambda s, ctx: contact.readback_contact_zh(field, value, policyholder(s, ctx))
        )


class ActionSubmitContactChange(SubmitChange):
    confirm_slot = "cc_confirm"
    kind = "contact"
    title = "联系方式变更"

    def name(self) -> str:
        return "action_submit_contact_change"

    def create(self, turn: VerifiedTurn) -> ServiceTicket:
        return contact.request_contact_change(
            turn.session,
            policy=turn.ctx.policy,
            field_name=slot_text(turn.tracker, "cc_field") or "mobile",
            value=slot_text(turn.tracker, "cc_value") or "",
            conversation_id=turn.conversation,
        )
