"""claim_form's validator: free-text answers, the claim type and a policy that fits it, the
incident (description, time, place, police report and photos, plate), read-back and corrections."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.claims.slots import INCIDENT_SLOTS, claim_type_of, incident_at
from actions.common import conversation_id, db, slot_text
from actions.identity import NOT_AN_ANSWER, IdentityFormValidation, answer_to_question
from bot.config import get_settings
from bot.errors import InvalidInput
from bot.ids import normalize_policy_number
from bot.labels_zh import CLAIM_TYPE_ZH, LINE_ZH
from bot.models import ClaimType
from bot.services import claims, identity
from bot.services.claims import resolve_claim_type
from bot.text.claim_answers import correction_target, normalize_plate, parse_photos, parse_police_photos
from bot.text.dates import parse_incident_time
from bot.text.yes_no import parse_yes_no

MIN_DESCRIPTION = 6
MIN_PLACE = 3
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


def _latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "").strip()


def _intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


class ValidateClaimForm(IdentityFormValidation):
    def name(self) -> str:
        return "validate_claim_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        needed = self.identity_slots_needed(tracker)
        if not needed and tracker.get_slot("identity_locked") and not tracker.get_slot("verified"):
            return []  # locked: the form ends, action_submit_claim explains
        slots = ["claim_type", *needed, "claim_policy", *INCIDENT_SLOTS]
        if claim_type_of(tracker) is ClaimType.MOTOR:
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
        claim_type = claim_type_of(tracker)
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
        claim_type = claim_type_of(tracker)
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
        if claim_type_of(tracker) is ClaimType.MOTOR and not tracker.get_slot("plate_number"):
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
        if target == "plate_number" and claim_type_of(tracker) is not ClaimType.MOTOR:
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

    def after_verification(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, verification: list[EventType]
    ) -> list[EventType]:
        more: list[EventType] = []
        if not verification or tracker.get_slot("verified"):
            more = self._fill_policy(dispatcher, tracker)
            tracker.add_slots(more)
        done = self._finish_correction(tracker)
        return more + done
