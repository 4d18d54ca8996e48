"""Contact-details change (contact_form) and debit-account change (payment_account_form).

Same pattern as the beneficiary change (actions/changes.py): identity inside the form, the new
value checked, a masked read-back, confirmation, then a maker-checker ticket.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.changes import CC_SLOTS, PA_SLOTS, ChangeFormValidation, SubmitChange, with_verified
from actions.common import conversation_id, slot_text
from actions.identity import clean_name
from bot.errors import ChangeRequestInvalid
from bot.models import Customer
from bot.services.changes import contact, payment_account
from bot.services.identity import VerifiedContext
from bot.services.tickets.create import ServiceTicket
from bot.text import zh_input

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


def _holder(session: Session, ctx: VerifiedContext | None) -> Customer | None:
    return session.get(Customer, ctx.policy.policyholder_id) if ctx else None


def _holder_name(session: Session, ctx: VerifiedContext | None) -> str | None:
    holder = _holder(session, ctx)
    return holder.name if holder else None


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
        if field is None:
            dispatcher.utter_message(response="utter_invalid_cc_field")
        return {"cc_field": field}

    def validate_cc_value(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        field = slot_text(tracker, "cc_field") or "mobile"
        try:
            checked = with_verified(
                tracker, lambda s, ctx: contact.check_contact_value(field, str(value), _holder(s, ctx))
            )
        except ChangeRequestInvalid as exc:
            dispatcher.utter_message(text=exc.message_zh)
            return {"cc_value": None}
        return {"cc_value": checked}

    def validate_cc_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"cc_confirm": bool(value)}


class ActionAskCcConfirm(Action):
    def name(self) -> str:
        return "action_ask_cc_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        field = slot_text(tracker, "cc_field") or "mobile"
        value = slot_text(tracker, "cc_value") or ""
        text = with_verified(
            tracker, lambda s, ctx: contact.readback_contact_zh(field, value, _holder(s, ctx))
        )
        dispatcher.utter_message(response="utter_contact_readback", readback=text)
        return []


class ActionSubmitContactChange(SubmitChange):
    confirm_slot = "cc_confirm"
    kind = "contact"
    title = "联系方式变更"

    def name(self) -> str:
        return "action_submit_contact_change"

    def create(self, session: Session, ctx: VerifiedContext, tracker: Tracker) -> ServiceTicket:
        return contact.request_contact_change(
            session,
            policy=ctx.policy,
            field_name=slot_text(tracker, "cc_field") or "mobile",
            value=slot_text(tracker, "cc_value") or "",
            conversation_id=conversation_id(tracker),
        )


class ValidatePaymentAccountForm(ChangeFormValidation):
    own_slots = PA_SLOTS

    def name(self) -> str:
        return "validate_payment_account_form"

    def validate_pa_bank(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        bank = zh_input.canonical_bank(str(value)) if value else None
        if bank is None:
            dispatcher.utter_message(response="utter_invalid_pa_bank")
        return {"pa_bank": bank}

    def validate_pa_card(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            number = with_verified(
                tracker,
                lambda s, ctx: payment_account.check_card_number(str(value), ctx.policy if ctx else None),
            )
        except ChangeRequestInvalid as exc:
            dispatcher.utter_message(text=exc.message_zh)
            return {"pa_card": None}
        return {"pa_card": number}

    def validate_pa_holder(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        name = clean_name(str(value)) if value else None
        if name is None:
            dispatcher.utter_message(response="utter_invalid_person_name")
            return {"pa_holder": None}
        holder_name = with_verified(tracker, _holder_name)
        if holder_name is not None and not zh_input.names_match(name, holder_name):
            dispatcher.utter_message(
                text="扣款账户须为投保人本人名下的银行卡。请提供投保人本人的银行卡,或输入投保人本人的姓名确认开户人。"
            )
            return {"pa_holder": None}
        return {"pa_holder": name}

    def validate_pa_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"pa_confirm": bool(value)}


class ActionAskPaConfirm(Action):
    def name(self) -> str:
        return "action_ask_pa_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        text = payment_account.readback_payment_account_zh(
            slot_text(tracker, "pa_bank") or "",
            slot_text(tracker, "pa_card") or "",
            slot_text(tracker, "pa_holder") or "",
        )
        dispatcher.utter_message(response="utter_payment_account_readback", readback=text)
        return []


class ActionSubmitPaymentAccountChange(SubmitChange):
    confirm_slot = "pa_confirm"
    kind = "payment_account"
    title = "扣款账户变更"

    def name(self) -> str:
        return "action_submit_payment_account_change"

    def create(self, session: Session, ctx: VerifiedContext, tracker: Tracker) -> ServiceTicket:
        return payment_account.request_payment_account_change(
            session,
            policy=ctx.policy,
            bank_name=slot_text(tracker, "pa_bank") or "",
            card_number=slot_text(tracker, "pa_card") or "",
            holder_name=slot_text(tracker, "pa_holder") or "",
            conversation_id=conversation_id(tracker),
        )
