"""report_claim (claim_form, following the claim hotline script) and ask_claim_status.

claim_form asks: claim type → identity (policy number, name, ID tail; skipped when verified) →
a policy that fits the claim type → description → time → place → police report and photos →
plate number (motor) → read-back and confirmation (deny → which item to correct).
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import (
    INVALID_COUNT_SLOT,
    BaseFormValidation,
    conversation_id,
    db,
    said_this_turn,
    slot_text,
    utter_error,
    utter_unexpected,
)
from actions.identity import NOT_AN_ANSWER, IdentityMixin, answer_to_question
from actions.requests import request_handler
from bot.config import get_settings
from bot.errors import ClaimNotFound, DomainError, InvalidInput
from bot.ids import normalize_policy_number
from bot.labels_zh import CLAIM_TYPE_ZH, LINE_ZH
from bot.models import ClaimType
from bot.services import claims, identity
from bot.services.claims import resolve_claim_type
from bot.text.claim_answers import correction_target, normalize_plate, parse_photos, parse_police_photos
from bot.text.dates import parse_incident_time
from bot.text.yes_no import parse_yes_no

logger = logging.getLogger(__name__)

INCIDENT_SLOTS = ["incident_description", "incident_time", "incident_place", "police_reported", "has_photos"]
CLAIM_SLOTS = [
    "claim_type",
    "claim_policy",
    *INCIDENT_SLOTS,
    "plate_number",
    "claim_confirmed",
    "claim_correction",
]
MIN_DESCRIPTION = 6
# Questions of the claim form answered in free text (the identity ones have their own extractors).
FREE_TEXT_SLOTS = frozenset(
    {"claim_type", "claim_policy", *INCIDENT_SLOTS, "plate_number", "claim_confirmed", "claim_correction"}
)
CLAIM_NOT_AN_ANSWER = NOT_AN_ANSWER | {"ask_documents", "bot_challenge"}


def previous_value(tracker: Tracker, name: str) -> Any:
    """The slot's value before the latest user message (what this turn may have overwritten)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == name:
            return event.get("value")
    return None


MIN_PLACE = 3


def reset_claim_slots() -> list[EventType]:
    return [SlotSet(name, None) for name in CLAIM_SLOTS] + [SlotSet(INVALID_COUNT_SLOT, 0.0)]


def _claim_type(tracker: Tracker) -> ClaimType | None:
    return resolve_claim_type(slot_text(tracker, "claim_type"))


def _latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "").strip()


def _intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def incident_at(value: str | None) -> datetime | None:
    """The stored slot value (ISO date or datetime) back as an aware datetime."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0, 0), _zone())
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def incident_text(value: str | None) -> str:
    at = incident_at(value)
    if at is None:
        return ""
    return (
        f"{at:%Y年%m月%d日}" if value and len(value) == 10 else f"{at.astimezone(_zone()):%Y年%m月%d日 %H:%M}"
    )


def _yes_no_zh(value: Any, yes: str, no: str) -> str:
    return yes if value is True else no if value is False else "未说明"


class ValidateClaimForm(IdentityMixin, BaseFormValidation):
    def name(self) -> str:
        return "validate_claim_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        needed = self.identity_slots_needed(tracker)
        if not needed and tracker.get_slot("identity_locked") and not tracker.get_slot("verified"):
            return []  # locked: the form ends, action_submit_claim explains
        slots = ["claim_type", *needed, "claim_policy", *INCIDENT_SLOTS]
        if _claim_type(tracker) is ClaimType.MOTOR:
            slots.append("plate_number")
        slots.append("claim_confirmed")
        if tracker.get_slot("claim_confirmed") is False:
            slots.append("claim_correction")
        return slots

    # --- free-text answers, whatever intent the NLU guessed for them --------------------------

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = await super().get_extraction_events(dispatcher, tracker, domain)
        requested = tracker.get_slot("requested_slot")
        if requested in FREE_TEXT_SLOTS and not any(e.get("name") == requested for e in events):
            found = answer_to_question(tracker, requested, CLAIM_NOT_AN_ANSWER)
            events += [SlotSet(k, v) for k, v in found.items()]
        return events

    # --- the claim type and the policy --------------------------------------------------------

    def validate_claim_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        asked = tracker.get_slot("requested_slot") == "claim_type"
        before = previous_value(tracker, "claim_type")
        if not asked and before:
            return {"claim_type": before}  # a later mention ("被刮了") does not change the type
        claim_type = resolve_claim_type(str(value)) or resolve_claim_type(_latest_text(tracker))
        if claim_type is None:
            if asked:
                dispatcher.utter_message(response="utter_invalid_claim_type")
            return {"claim_type": None}
        result: dict[str, Any] = {"claim_type": claim_type.value}
        if tracker.get_slot("claim_policy") and tracker.get_slot("claim_type") != claim_type.value:
            result["claim_policy"] = None  # the type changed: check the policy again
        return result

    def validate_claim_policy(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = normalize_policy_number(str(value)) if value else None
        claim_type = _claim_type(tracker)
        if number is None or claim_type is None:
            dispatcher.utter_message(response="utter_invalid_claim_policy")
            return {"claim_policy": None}
        with db() as session:
            ctx = identity.switch_policy(session, conversation_id(tracker), number)
            if ctx is None:
                dispatcher.utter_message(response="utter_invalid_claim_policy")
                return {"claim_policy": None}
            if not claims.policy_fits(ctx.policy, claim_type):
                self._utter_mismatch(dispatcher, ctx.policy.number, ctx.policy.line, claim_type)
                return {"claim_policy": None}
        return {"claim_policy": number, "policy_number": number}

    @staticmethod
    def _utter_mismatch(
        dispatcher: CollectingDispatcher, number: str, line: Any, claim_type: ClaimType
    ) -> None:
        dispatcher.utter_message(
            response="utter_claim_type_mismatch",
            policy_number=number,
            line_zh=LINE_ZH[line],
            claim_type_zh=CLAIM_TYPE_ZH[claim_type],
        )

    def _fill_policy(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Once verified, use the verified policy (or the one named) if it fits the claim type."""
        claim_type = _claim_type(tracker)
        if (
            tracker.get_slot("claim_policy")
            or claim_type is None
            or tracker.get_slot("requested_slot") == "claim_policy"
        ):
            return []
        conv = conversation_id(tracker)
        with db() as session:
            ctx = identity.get_verified(session, conv)
            if ctx is None:
                return []
            named = normalize_policy_number(slot_text(tracker, "policy_number") or "")
            if named and named != ctx.policy.number:
                ctx = identity.switch_policy(session, conv, named) or ctx
            if claims.policy_fits(ctx.policy, claim_type):
                return [
                    SlotSet("claim_policy", ctx.policy.number),
                    SlotSet("policy_number", ctx.policy.number),
                ]
            self._utter_mismatch(dispatcher, ctx.policy.number, ctx.policy.line, claim_type)
        return []

    # --- the incident -------------------------------------------------------------------------

    def validate_incident_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text) < MIN_DESCRIPTION:
            dispatcher.utter_message(response="utter_invalid_incident_description")
            return {"incident_description": None}
        result: dict[str, Any] = {"incident_description": text[:1000]}
        # "昨天下午三点在望京被追尾了": keep the time and the plate if they are in the description.
        if not tracker.get_slot("incident_time"):
            when = self._checked_time(text, tracker, None)
            if when:
                result["incident_time"] = when
        if _claim_type(tracker) is ClaimType.MOTOR and not tracker.get_slot("plate_number"):
            plate = normalize_plate(text)
            if plate:
                result["plate_number"] = plate
        return result

    def _checked_time(
        self, text: str, tracker: Tracker, dispatcher: CollectingDispatcher | None
    ) -> str | None:
        parsed = parse_incident_time(text, tz=get_settings().timezone)
        if parsed is None:
            if dispatcher:
                dispatcher.utter_message(response="utter_invalid_incident_time")
            return None
        with db() as session:
            ctx = identity.get_verified(session, conversation_id(tracker))
            policy = ctx.policy if ctx else None
            try:
                claims.check_incident_time(policy, parsed.at)
            except InvalidInput as exc:
                if dispatcher:
                    if exc.context.get("reason") == "future":
                        dispatcher.utter_message(response="utter_incident_time_future")
                    else:
                        effective = policy.effective_date if policy else None
                        dispatcher.utter_message(
                            response="utter_incident_time_before_policy",
                            effective_date=f"{effective:%Y年%m月%d日}" if effective else "",
                        )
                return None
        return parsed.at.isoformat() if parsed.has_time else parsed.at.date().isoformat()

    def validate_incident_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        if incident_at(text) is not None and tracker.get_slot("requested_slot") != "incident_time":
            return {"incident_time": text}  # already parsed (filled from the description)
        when = self._checked_time(text, tracker, dispatcher)
        if when is None and tracker.get_slot("requested_slot") != "incident_time":
            # Filled from an entity outside the question: ask for it properly, no error count.
            return {"incident_time": None}
        return {"incident_time": when}

    def validate_incident_place(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = re.sub(r"^[。.,,\s]+|[。.,,\s]+$", "", str(value or ""))
        if len(text) < MIN_PLACE or text.isdigit():
            dispatcher.utter_message(response="utter_invalid_incident_place")
            return {"incident_place": None}
        return {"incident_place": text[:255]}

    def validate_police_reported(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"police_reported": value}
        police, photos = parse_police_photos(str(value or ""))
        if police is None and _intent(tracker) in ("affirm", "deny"):
            police = _intent(tracker) == "affirm"
            photos = police if photos is None else photos
        if police is None:
            dispatcher.utter_message(response="utter_invalid_police_reported")
            return {"police_reported": None}
        result: dict[str, Any] = {"police_reported": police}
        if photos is not None and tracker.get_slot("has_photos") is None:
            result["has_photos"] = photos
        return result

    def validate_has_photos(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"has_photos": value}
        photos = parse_photos(str(value or ""))
        if photos is None and _intent(tracker) in ("affirm", "deny"):
            photos = _intent(tracker) == "affirm"
        if photos is None:
            dispatcher.utter_message(response="utter_invalid_has_photos")
            return {"has_photos": None}
        return {"has_photos": photos}

    def validate_plate_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        plate = normalize_plate(str(value or ""))
        if plate is None:
            if tracker.get_slot("requested_slot") != "plate_number":
                return {"plate_number": None}
            dispatcher.utter_message(response="utter_invalid_plate_number")
            return {"plate_number": None}
        return {"plate_number": plate}

    # --- confirmation and corrections ------------------------------------------------------------

    def validate_claim_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"claim_confirmed": value}
        text = str(value or "")
        intent = _intent(tracker)
        target = correction_target(text)
        if target is None and (intent == "affirm" or re.search(r"确认|没错|正确|无误|提交", text)):
            return {"claim_confirmed": True}
        if intent == "deny" or target or re.search(r"修改|不对|有误|错了|更正|改一下", text):
            if target:
                return self._correct(target, {"claim_confirmed": False})
            return {"claim_confirmed": False, "claim_correction": None}
        if parse_yes_no(text) is True:
            return {"claim_confirmed": True}
        dispatcher.utter_message(response="utter_invalid_claim_confirmed")
        return {"claim_confirmed": None}

    def validate_claim_correction(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        target = correction_target(str(value or ""))
        if target == "plate_number" and _claim_type(tracker) is not ClaimType.MOTOR:
            target = None
        if target is None:
            dispatcher.utter_message(response="utter_invalid_claim_correction")
            return {"claim_correction": None}
        return self._correct(target, {})

    @staticmethod
    def _correct(target: str, result: dict[str, Any]) -> dict[str, Any]:
        """Clear the item to correct; the form asks it again, then reads the summary back."""
        result = {**result, "claim_correction": target, target: None}
        if target == "police_reported":
            result["has_photos"] = None
        if target == "claim_type":
            result["claim_policy"] = None
        return result

    def _finish_correction(self, tracker: Tracker) -> list[EventType]:
        target = tracker.get_slot("claim_correction")
        if target and tracker.get_slot(target) is not None and tracker.get_slot("requested_slot") == target:
            return [SlotSet("claim_confirmed", None), SlotSet("claim_correction", None)]
        return []

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = await super().get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(events)
        extra = self.verify_when_complete(dispatcher, tracker, domain)
        tracker.add_slots(extra)
        if not extra or tracker.get_slot("verified"):
            more = self._fill_policy(dispatcher, tracker)
            tracker.add_slots(more)
            extra += more
        done = self._finish_correction(tracker)
        tracker.add_slots(done)
        return events + extra + done


class ActionAskClaimPolicy(Action):
    """Asked when the verified policy cannot carry the claim: offer the customer's fitting ones."""

    def name(self) -> str:
        return "action_ask_claim_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        claim_type = _claim_type(tracker)
        type_zh = CLAIM_TYPE_ZH[claim_type] if claim_type else "该类"
        with db() as session:
            ctx = identity.get_verified(session, conversation_id(tracker))
            options = (
                [p.number for p in claims.fitting_policies(session, ctx.customer, claim_type)]
                if ctx and claim_type
                else []
            )
        if not options:
            dispatcher.utter_message(response="utter_ask_claim_policy_none", claim_type_zh=type_zh)
            return []
        buttons = [
            {"title": number, "payload": f'/inform{{"policy_number":"{number}"}}'} for number in options[:5]
        ]
        buttons.append({"title": "转人工", "payload": "/request_human"})
        dispatcher.utter_message(
            response="utter_ask_claim_policy_list", claim_type_zh=type_zh, buttons=buttons
        )
        return []


def claim_summary(tracker: Tracker) -> str:
    claim_type = _claim_type(tracker)
    lines = [
        f"理赔类型:{CLAIM_TYPE_ZH[claim_type] if claim_type else ''}",
        f"保单号:{slot_text(tracker, 'claim_policy') or ''}",
        f"事故时间:{incident_text(slot_text(tracker, 'incident_time'))}",
        f"事故地点:{slot_text(tracker, 'incident_place') or ''}",
        f"事故经过:{slot_text(tracker, 'incident_description') or ''}",
        f"是否报警:{_yes_no_zh(tracker.get_slot('police_reported'), '已报警', '未报警')};"
        f"现场照片:{_yes_no_zh(tracker.get_slot('has_photos'), '已拍摄', '未拍摄')}",
    ]
    if claim_type is ClaimType.MOTOR:
        lines.append(f"车牌号:{slot_text(tracker, 'plate_number') or ''}")
    return "\n".join(lines)


class ActionAskClaimConfirmed(Action):
    """Reads the report back before it is registered."""

    def name(self) -> str:
        return "action_ask_claim_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_claim_summary", summary=claim_summary(tracker))
        return []


class ActionSubmitClaim(Action):
    def name(self) -> str:
        return "action_submit_claim"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        conv = conversation_id(tracker)
        claim_type = _claim_type(tracker)
        at = incident_at(slot_text(tracker, "incident_time"))
        try:
            with db() as session:
                ctx = identity.get_verified(session, conv)
                if ctx is None:
                    if tracker.get_slot("identity_locked"):
                        if not said_this_turn(tracker, "utter_error_verification_locked"):
                            dispatcher.utter_message(response="utter_error_verification_locked")
                        dispatcher.utter_message(response="utter_offer_human")
                    else:
                        dispatcher.utter_message(response="utter_claim_not_submitted")
                    return [*reset_claim_slots(), SlotSet("verified", False)]
                number = slot_text(tracker, "claim_policy")
                if number and number != ctx.policy.number:
                    ctx = identity.switch_policy(session, conv, number) or ctx
                if tracker.get_slot("claim_confirmed") is not True or claim_type is None or at is None:
                    dispatcher.utter_message(response="utter_claim_not_submitted")
                    return reset_claim_slots()
                place = slot_text(tracker, "incident_place") or ""
                description = slot_text(tracker, "incident_description") or ""
                report = claims.report_claim(
                    session,
                    policy=ctx.policy,
                    reporter=ctx.customer,
                    claim_type=claim_type,
                    incident_at=at,
                    place=place,
                    description=description,
                    police_reported=tracker.get_slot("police_reported"),
                    has_photos=tracker.get_slot("has_photos"),
                    plate_number=slot_text(tracker, "plate_number"),
                    conversation_id=conv,
                    idempotency_key=claims.report_key(conv, ctx.policy, claim_type, at, place, description),
                )
                dispatcher.utter_message(
                    response="utter_claim_reported",
                    claim_number=report.claim.number,
                    checklist=claims.checklist_zh(report.claim),
                    next_steps=claims.next_steps_zh(report.claim),
                )
                number_made = report.claim.number
        except DomainError as exc:
            utter_error(dispatcher, exc, domain)
            return reset_claim_slots()
        except Exception:
            logger.exception("claim report failed")
            utter_unexpected(dispatcher)
            return reset_claim_slots()
        return [*reset_claim_slots(), SlotSet("claim_number", number_made)]


@request_handler("ask_claim_status")
def answer_claim_status(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    session: Session,
    ctx: identity.VerifiedContext,
) -> list[EventType]:
    number = slot_text(tracker, "claim_number")
    if number:
        try:
            claim = claims.get_claim_of(session, ctx.customer, number)
        except ClaimNotFound:
            dispatcher.utter_message(response="utter_error_claim_not_found", claim_number=number.upper())
            return [SlotSet("claim_number", None)]
        dispatcher.utter_message(
            response="utter_claim_status", status_text=claims.describe_zh(session, claim)
        )
        return [SlotSet("claim_number", None)]
    found = claims.claims_of(session, ctx.customer)
    if not found:
        dispatcher.utter_message(response="utter_no_claims")
        return []
    shown = found[:3]
    header = f"您名下共有{len(found)}件理赔案件" + (",以下是最近的3件" if len(found) > 3 else "") + ":"
    text = header + "\n\n" + "\n\n".join(claims.describe_zh(session, c) for c in shown)
    dispatcher.utter_message(response="utter_claim_status", status_text=text)
    return []
