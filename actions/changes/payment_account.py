"""Debit-account change (payment_account_form): bank, card (checked), the holder (the
policyholder), a masked read-back, confirmation, then a maker-checker ticket."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.changes.base import (
    PA_SLOTS,
    ChangeFormValidation,
    ReadBack,
    SubmitChange,
    check_or_explain,
    policyholder,
)
from actions.common import VerifiedTurn, checked, slot_text, with_verified
from bot.services.changes import payment_account
from bot.services.identity import VerifiedContext
from bot.services.tickets.create import ServiceTicket
from bot.text import zh_input
from bot.text.names import clean_name


def _holder_name(session: Session, ctx: VerifiedContext | None) -> str | None:
    holder = policyholder(session, ctx)
    return holder.name if holder else None


class ValidatePaymentAccountForm(ChangeFormValidation):
    own_slots = PA_SLOTS

    def name(self) -> str:
        return "validate_payment_account_form"

    def validate_pa_bank(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        bank = zh_input.canonical_bank(str(value)) if value else None
        return checked(dispatcher, "pa_bank", bank, "utter_invalid_pa_bank")

    def validate_pa_card(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return check_or_explain(
            dispatcher,
            tracker,
            "pa_card",
            lambda s, ctx: payment_account.check_card_number(str(value), ctx.policy if ctx else None),
        )

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


class ActionAskPaConfirm(ReadBack):
    response = "utter_payment_account_readback"

    def name(self) -> str:
        return "action_ask_pa_confirm"

    def readback(self, tracker: Tracker) -> str:
        return payment_account.readback_payment_account_zh(
            slot_text(tracker, "pa_bank") or "",
            slot_text(tracker, "pa_card") or "",
            slot_text(tracker, "pa_holder") or "",
        )


class ActionSubmitPaymentAccountChange(SubmitChange):
    confirm_slot = "pa_confirm"
    kind = "payment_account"
    title = "扣款账户变更"

    def name(self) -> str:
        return "action_submit_payment_account_change"

    def create(self, turn: VerifiedTurn) -> ServiceTicket:
        tracker = turn.tracker
        return payment_account.request_payment_account_change(
            turn.session,
            policy=turn.ctx.policy,
            bank_name=slot_text(tracker, "pa_bank") or "",
            card_number=slot_text(tracker, "pa_card") or "",
            holder_name=slot_text(tracker, "pa_holder") or "",
            conversation_id=turn.conversation,
        )
