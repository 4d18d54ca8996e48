"""ask_claim_status for a verified caller: one claim by its number, or the latest three."""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet

from actions.common import VerifiedTurn, slot_text
from actions.requests import request_handler
from bot.errors import ClaimNotFound
from bot.services import claims


@request_handler("ask_claim_status")
def answer_claim_status(turn: VerifiedTurn) -> list[EventType]:
    number = slot_text(turn.tracker, "claim_number")
    if number:
        try:
            claim = claims.get_claim_of(turn.session, turn.ctx.customer, number)
        except ClaimNotFound:
            turn.say("utter_error_claim_not_found", claim_number=number.upper())
            return [SlotSet("claim_number", None)]
        turn.say("utter_claim_status", status_text=claims.describe_zh(turn.session, claim))
        return [SlotSet("claim_number", None)]
    found = claims.claims_of(turn.session, turn.ctx.customer)
    if not found:
        turn.say("utter_no_claims")
        return []
    shown = found[:3]
    header = f"您名下共有{len(found)}件理赔案件" + (",以下是最近的3件" if len(found) > 3 else "") + ":"
    text = header + "\n\n" + "\n\n".join(claims.describe_zh(turn.session, c) for c in shown)
    turn.say("utter_claim_status", status_text=text)
    return []
