"""Beneficiary change (beneficiary_form): one or several beneficiaries (name, relationship,
resident ID, share), the running total in ``bf_total``, a masked read-back, then the ticket."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.changes.base import BF_SLOTS, ChangeFormValidation, ReadBack, SubmitChange, check_or_explain
from actions.common import VerifiedTurn, checked, slot_text
from bot.errors import ChangeRequestInvalid
from bot.services.changes import beneficiary
from bot.services.tickets.create import ServiceTicket
from bot.text import zh_input
from bot.text.names import clean_name


def rows_of(tracker: Tracker) -> list[beneficiary.NewBeneficiary]:
    return [beneficiary.NewBeneficiary.from_payload(r) for r in (tracker.get_slot("bf_list") or [])]


class ValidateBeneficiaryForm(ChangeFormValidation):
    own_slots = BF_SLOTS

    def name(self) -> str:
        return "validate_beneficiary_form"

    def validate_bf_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return checked(
            dispatcher, "bf_name", clean_name(str(value)) if value else None, "utter_invalid_bf_name"
        )

    def validate_bf_relationship(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        relationship = zh_input.canonical_relationship(str(value)) if value else None
        return checked(dispatcher, "bf_relationship", relationship, "utter_invalid_bf_relationship")

    def validate_bf_id_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return check_or_explain(
            dispatcher,
            tracker,
            "bf_id_number",
            lambda session, ctx: beneficiary.check_id_number(
                str(value), insured=ctx.policy.insured if ctx else None, taken=rows_of(tracker)
            ),
        )

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


class ActionAskBfConfirm(ReadBack):
    response = "utter_beneficiary_readback"

    def name(self) -> str:
        return "action_ask_bf_confirm"

    def readback(self, tracker: Tracker) -> str:
        return beneficiary.readback_beneficiaries_zh(rows_of(tracker))


class ActionSubmitBeneficiaryChange(SubmitChange):
    confirm_slot = "bf_confirm"
    kind = "beneficiary"
    title = "受益人变更"

    def name(self) -> str:
        return "action_submit_beneficiary_change"

    def create(self, turn: VerifiedTurn) -> ServiceTicket:
        return beneficiary.request_beneficiary_change(
            turn.session,
            policy=turn.ctx.policy,
            rows=rows_of(turn.tracker),
            conversation_id=turn.conversation,
        )
