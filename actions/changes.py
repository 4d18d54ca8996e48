"""Beneficiary change (beneficiary_form) and what all change forms share (bot/services/changes/).

The form asks the identity questions first (IdentityMixin, skipped when already verified), then
one or several beneficiaries (name, relationship, resident ID, share), keeps the running total in
``bf_total``, reads everything back masked and asks for confirmation; the submit action opens a
maker-checker ticket (idempotent) and replies with its number, the documents and the timeline.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import BaseFormValidation, conversation_id, db, slot_text, utter_error, utter_unexpected
from actions.identity import IdentityMixin, clean_name
from bot.errors import ChangeRequestInvalid, DomainError
from bot.services import identity
from bot.services.changes import beneficiary
from bot.services.identity import VerifiedContext
from bot.services.tickets.create import ServiceTicket
from bot.text import zh_input

logger = logging.getLogger(__name__)
T = TypeVar("T")

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


def with_verified(tracker: Tracker, fn: Callable[[Session, VerifiedContext | None], T]) -> T:
    """Run ``fn`` with the conversation's verified context (None when not verified)."""
    with db() as session:
        return fn(session, identity.get_verified(session, conversation_id(tracker)))


class ChangeFormValidation(IdentityMixin, BaseFormValidation, ABC):
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

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(events)
        extra = self.verify_when_complete(dispatcher, tracker, domain)
        if tracker.get_slot("requested_slot") is None and tracker.get_slot("offer_open"):
            # The form starts (e.g. "变更扣款账户" from the relief options): the offer is answered.
            extra += [SlotSet("offer_open", None), SlotSet("service_offer", None)]
        tracker.add_slots(extra)
        return events + extra


def rows_of(tracker: Tracker) -> list[beneficiary.NewBeneficiary]:
    return [beneficiary.NewBeneficiary.from_payload(r) for r in (tracker.get_slot("bf_list") or [])]


class ValidateBeneficiaryForm(ChangeFormValidation):
    own_slots = BF_SLOTS

    def name(self) -> str:
        return "validate_beneficiary_form"

    def validate_bf_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        name = clean_name(str(value)) if value else None
        if name is None:
            dispatcher.utter_message(response="utter_invalid_bf_name")
        return {"bf_name": name}

    def validate_bf_relationship(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        relationship = zh_input.canonical_relationship(str(value)) if value else None
        if relationship is None:
            dispatcher.utter_message(response="utter_invalid_bf_relationship")
        return {"bf_relationship": relationship}

    def validate_bf_id_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        def check(session: Session, ctx: VerifiedContext | None) -> str:
            insured = ctx.policy.insured if ctx else None
            return beneficiary.check_id_number(str(value), insured=insured, taken=rows_of(tracker))

        try:
            return {"bf_id_number": with_verified(tracker, check)}
        except ChangeRequestInvalid as exc:
            dispatcher.utter_message(text=exc.message_zh)
            return {"bf_id_number": None}

    def validate_bf_share(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        rows = rows_of(tracker)
        try:
            share = beneficiary.check_share(zh_input.parse_share(str(value)), taken=rows)
            left = zh_input.HUNDRED - beneficiary.total_share(rows)
            if len(rows) + 1 >= beneficiary.MAX_BENEFICIARIES and share != left:
                raise ChangeRequestInvalid(
                    f"每张保单最多可指定{beneficiary.MAX_BENEFICIARIES}位受益人,"
                    f"这是最后一位,受益比例须为剩余的{beneficiary.format_pct(left)}。"
                )
        except ChangeRequestInvalid as exc:
            dispatcher.utter_message(text=exc.message_zh)
            return {"bf_share": None}
        name, relationship, id_number = (
            slot_text(tracker, s) for s in ("bf_name", "bf_relationship", "bf_id_number")
        )
        if not (name and relationship and id_number):  # a share given before the person: ask again later
            return {"bf_share": None}
        rows.append(beneficiary.NewBeneficiary(name, relationship, id_number, share, order=1))
        total = beneficiary.total_share(rows)
        return {
            "bf_share": str(share),
            "bf_list": [r.as_payload() for r in rows],
            "bf_total": beneficiary.format_pct(total),
            # The list is complete at 100%: skip "还需要添加其他受益人吗?".
            "bf_more": False if total == zh_input.HUNDRED else None,
        }

    def validate_bf_more(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        rows = rows_of(tracker)
        total = beneficiary.total_share(rows)
        if value:
            # Another beneficiary: clear the person's slots; bf_more stays set until the next share.
            return {
                "bf_more": True,
                "bf_name": None,
                "bf_relationship": None,
                "bf_id_number": None,
                "bf_share": None,
            }
        if total == zh_input.HUNDRED:
            return {"bf_more": False}
        dispatcher.utter_message(
            response="utter_beneficiary_share_incomplete",
            bf_total=beneficiary.format_pct(total),
            bf_missing=beneficiary.format_pct(zh_input.HUNDRED - total),
        )
        return {"bf_more": None}

    def validate_bf_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"bf_confirm": bool(value)}


class ActionAskBfConfirm(Action):
    def name(self) -> str:
        return "action_ask_bf_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            response="utter_beneficiary_readback",
            readback=beneficiary.readback_beneficiaries_zh(rows_of(tracker)),
        )
        return []


def utter_submitted(dispatcher: CollectingDispatcher, title: str, result: ServiceTicket) -> None:
    dispatcher.utter_message(
        response="utter_change_submitted",
        change_title=title,
        ticket_number=result.ticket.number,
        checklist=result.checklist_zh,
        timeline=result.timeline_zh,
        next_steps=result.next_steps_zh,
    )


class SubmitChange(Action, ABC):
    """Shared submit logic: not verified / not confirmed / open the ticket; always clear the form."""

    confirm_slot = ""
    kind = ""  # beneficiary / contact / payment_account
    title = ""

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def create(self, session: Session, ctx: VerifiedContext, tracker: Tracker) -> ServiceTicket: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        done = [*clear_change_slots(), SlotSet("requested_slot", None)]
        try:
            with db() as session:
                ctx = identity.get_verified(session, conversation_id(tracker))
                if ctx is None:
                    locked = bool(tracker.get_slot("identity_locked"))
                    dispatcher.utter_message(
                        response="utter_error_verification_locked" if locked else "utter_error_not_verified"
                    )
                    dispatcher.utter_message(response="utter_offer_human")
                    return [*done, SlotSet("verified", False)]
                if tracker.get_slot(self.confirm_slot) is not True:
                    dispatcher.utter_message(response=f"utter_change_not_confirmed_{self.kind}")
                    return done
                result = self.create(session, ctx, tracker)
                utter_submitted(dispatcher, self.title, result)
        except ChangeRequestInvalid as exc:
            dispatcher.utter_message(response="utter_change_invalid", reason=exc.message_zh)
            dispatcher.utter_message(response="utter_offer_human")
        except DomainError as exc:
            utter_error(dispatcher, exc, domain)
        except Exception:
            logger.exception("%s change failed", self.kind)
            utter_unexpected(dispatcher)
        return done


class ActionSubmitBeneficiaryChange(SubmitChange):
    confirm_slot = "bf_confirm"
    kind = "beneficiary"
    title = "受益人变更"

    def name(self) -> str:
        return "action_submit_beneficiary_change"

    def create(self, session: Session, ctx: VerifiedContext, tracker: Tracker) -> ServiceTicket:
        return beneficiary.request_beneficiary_change(
            session, policy=ctx.policy, rows=rows_of(tracker), conversation_id=conversation_id(tracker)
        )


class ActionCancelChange(Action):
    """Stop confirmed in a change form: nothing is submitted, the form's answers are dropped."""

    def name(self) -> str:
        return "action_cancel_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_form_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *clear_change_slots()]
