"""Policy questions of a verified caller: the policy card (query_policy), surrender,
reinstatement, cooling-off and waiting period (bot/services/policies.py, policy_service.py), and
the action that answers the assistant's offers (open the ticket, or verify first).

Not verified: ``action_policy_service_general`` gives the general answer and offers to check the
customer's own policy (``offer_open: verify``; affirm runs identity_form and then
``action_handle_request`` answers ``pending_request``). Verified: the handlers answer from the
policy's real state and, where the customer can go on to apply, offer the ticket
(``offer_open: ticket``).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import Turn, VerifiedAction, VerifiedTurn
from actions.payments import (
    no_offer,
    offer,
    open_payment_issue_ticket,
    open_relief_ticket,
    option_text,
    utter_service_ticket,
)
from actions.requests import request_handler
from bot.ids import normalize_policy_number
from bot.services import identity, payments, policies, policy_service

POLICY_SERVICE_INTENTS = ("ask_surrender", "ask_reinstatement", "ask_cooling_off", "ask_waiting_period")


def _named_policy(tracker: Tracker) -> str | None:
    """A policy number typed in this very message ("查一下AU2024000088")."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "policy_number":
            return normalize_policy_number(str(entity.get("value") or ""))
    return None


@request_handler("query_policy")
def answer_query_policy(turn: VerifiedTurn) -> list[EventType]:
    events: list[EventType] = []
    ctx = turn.ctx
    named = _named_policy(turn.tracker)
    if named and named != ctx.policy.number:
        switched = identity.switch_policy(turn.session, turn.conversation, named)
        if switched is None:
            # Not a policy of the verified customer: say nothing about it.
            turn.say("utter_policy_not_yours")
            return []
        ctx = switched
        events.append(SlotSet("policy_number", named))
    card = policies.policy_card(turn.session, ctx.policy)
    turn.say("utter_policy_card", policy_card=card.to_text_zh())
    return events


def _reply(turn: Turn, answer: policy_service.ServiceAnswer) -> list[EventType]:
    if answer.offer:
        turn.say("utter_policy_service_offer", service_text=answer.text)
        return offer(answer.offer)
    turn.say("utter_policy_service_info", service_text=answer.text)
    return no_offer()


@request_handler("ask_surrender")
def answer_surrender(turn: VerifiedTurn) -> list[EventType]:
    return _reply(turn, policy_service.surrender_answer(turn.session, turn.ctx.policy))


@request_handler("ask_reinstatement")
def answer_reinstatement(turn: VerifiedTurn) -> list[EventType]:
    return _reply(turn, policy_service.reinstatement_answer(turn.ctx.policy))


@request_handler("ask_cooling_off")
def answer_cooling_off(turn: VerifiedTurn) -> list[EventType]:
    return _reply(turn, policy_service.cooling_off_answer(turn.ctx.policy))


@request_handler("ask_waiting_period")
def answer_waiting_period(turn: VerifiedTurn) -> list[EventType]:
    return _reply(turn, policy_service.waiting_period_answer(turn.ctx.policy))


class ActionPolicyServiceGeneral(Action):
    """The general answer for a caller who is not verified, with an offer to check their policy."""

    def name(self) -> str:
        return "action_policy_service_general"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent not in POLICY_SERVICE_INTENTS:
            intent = tracker.get_slot("pending_request")
        if intent not in POLICY_SERVICE_INTENTS:
            intent = "ask_surrender"
        text = policy_service.general_answer(str(intent))
        if tracker.get_slot("identity_locked"):
            dispatcher.utter_message(response="utter_policy_service_info", service_text=text)
            return [SlotSet("pending_request", None), *no_offer()]
        dispatcher.utter_message(response="utter_policy_service_general", general_text=text)
        return [
            SlotSet("pending_request", intent),
            SlotSet("offer_open", "verify"),
            SlotSet("service_offer", None),
        ]


class ActionAnswerServiceOffer(VerifiedAction):
    """The customer answers an offer: deny → fine; accept → open the ticket (idempotent)."""

    def name(self) -> str:
        return "action_answer_service_offer"

    def closing(self, tracker: Tracker) -> list[EventType]:
        return [*no_offer(), SlotSet("pending_request", None)]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        kind = tracker.get_slot("service_offer")
        if intent in ("deny", "stop") or not kind:
            dispatcher.utter_message(response="utter_offer_declined")
            return self.closing(tracker)
        if kind == "payment_relief":
            if payments.relief_option_of(option_text(tracker)) is None:
                dispatcher.utter_message(response="utter_payment_relief_choose")
                return [SlotSet("offer_open", "ticket")]  # the offer stays open
        elif intent != "affirm":
            # Only a clear yes opens a surrender / reinstatement / follow-up ticket.
            dispatcher.utter_message(response="utter_offer_declined")
            return self.closing(tracker)
        return await super().run(dispatcher, tracker, domain)

    def is_locked(self, turn: Turn) -> bool:
        return False  # offers go to verified callers: when that has expired, verify again

    def verified_step(self, turn: VerifiedTurn) -> list[EventType]:
        kind = turn.tracker.get_slot("service_offer")
        option = payments.relief_option_of(option_text(turn.tracker))
        if kind == "payment_relief" and option:
            open_relief_ticket(turn, option)
        elif kind == "payment_issue":
            open_payment_issue_ticket(turn)
        elif kind in policy_service.SERVICE_KINDS:
            result = policy_service.request_service(
                turn.session, policy=turn.ctx.policy, kind=str(kind), conversation_id=turn.conversation
            )
            utter_service_ticket(turn, result)
        else:
            turn.say("utter_offer_declined")
        return self.closing(turn.tracker)
