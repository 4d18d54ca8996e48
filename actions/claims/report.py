"""The end of claim_form: the customer's fitting policies, the read-back, and registering the claim."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.claims.slots import claim_type_of, incident_at, incident_text, reset_claim_slots
from actions.common import Turn, VerifiedAction, VerifiedTurn, slot_text, utter_locked, with_verified
from bot.labels_zh import CLAIM_TYPE_ZH
from bot.models import ClaimType
from bot.services import claims, identity


def _yes_no_zh(value: Any, yes: str, no: str) -> str:
    return yes if value is True else no if value is False else "未说明"


class ActionAskClaimPolicy(Action):
    """Asked when the verified policy cannot carry the claim: offer the customer's fitting ones."""

    def name(self) -> str:
        return "action_ask_claim_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        claim_type = claim_type_of(tracker)
        type_zh = CLAIM_TYPE_ZH[claim_type] if claim_type else "该类"
        options = with_verified(
            tracker,
            lambda session, ctx: (
                [p.number for p in claims.fitting_policies(session, ctx.customer, claim_type)]
                if ctx and claim_type
                else []
            ),
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
    claim_type = claim_type_of(tracker)
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


class ActionSubmitClaim(VerifiedAction):
    def name(self) -> str:
        return "action_submit_claim"

    def closing(self, tracker: Tracker) -> list[EventType]:
        return reset_claim_slots()

    def unverified(self, turn: Turn) -> list[EventType]:
        if self.is_locked(turn):
            utter_locked(turn.dispatcher, turn.tracker)
        else:
            turn.say("utter_claim_not_submitted")
        return [*self.closing(turn.tracker), SlotSet("verified", False)]

    def verified_step(self, turn: VerifiedTurn) -> list[EventType]:
        tracker, conv, ctx = turn.tracker, turn.conversation, turn.ctx
        claim_type = claim_type_of(tracker)
        at = incident_at(slot_text(tracker, "incident_time"))
        number = slot_text(tracker, "claim_policy")
        if number and number != ctx.policy.number:
            ctx = identity.switch_policy(turn.session, conv, number) or ctx
        if tracker.get_slot("claim_confirmed") is not True or claim_type is None or at is None:
            turn.say("utter_claim_not_submitted")
            return self.closing(tracker)
        place = slot_text(tracker, "incident_place") or ""
        description = slot_text(tracker, "incident_description") or ""
        report = claims.report_claim(
            turn.session,
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
        turn.say(
            "utter_claim_reported",
            claim_number=report.claim.number,
            checklist=claims.checklist_zh(report.claim),
            next_steps=claims.next_steps_zh(report.claim),
        )
        return [*self.closing(tracker), SlotSet("claim_number", report.claim.number)]
