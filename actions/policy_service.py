"""Surrender, reinstatement, cooling-off and waiting period (bot/services/policy_service.py), and
the action that answers the assistant's offers (open the ticket, or verify first).

Not verified: ``action_policy_service_general`` gives the general answer and offers to check the
customer's own policy (``offer_open: verify``; affirm runs identity_form and then
``action_handle_request`` answers ``pending_request``). Verified: the handlers answer from the
policy's real state and, where the customer can go on to apply, offer the ticket
(``offer_open: ticket``).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import conversation_id, db, utter_error, utter_unexpected
from actions.payments import no_offer, offer, open_payment_issue_ticket, open_relief_ticket, option_text
from actions.requests import request_handler
from bot.errors import DomainError
from bot.services import identity, payments, policy_service
from bot.services.identity import VerifiedContext

logger = logging.getLogger(__name__)

POLICY_SERVICE_INTENTS = ("ask_surrender", "ask_reinstatement", "ask_cooling_off", "ask_waiting_period")


def _reply(dispatcher: CollectingDispatcher, answer: policy_service.ServiceAnswer) -> list[EventType]:
    if answer.offer:
        dispatcher.utter_message(response="utter_policy_service_offer", service_text=answer.text)
        return offer(answer.offer)
    dispatcher.utter_message(response="utter_policy_service_info", service_text=answer.text)
    return no_offer()


@request_handler("ask_surrender")
def answer_surrender(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    session: Session,
    ctx: VerifiedContext,
) -> list[EventType]:
    return _reply(dispatcher, policy_service.surrender_answer(session, ctx.policy))


@request_handler("ask_reinstatement")
def answer_reinstatement(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    session: Session,
    ctx: VerifiedContext,
) -> list[EventType]:
    return _reply(dispatcher, policy_service.reinstatement_answer(ctx.policy))


@request_handler("ask_cooling_off")
def answer_cooling_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    session: Session,
    ctx: VerifiedContext,
) -> list[EventType]:
    return _reply(dispatcher, policy_service.cooling_off_answer(ctx.policy))


@request_handler("ask_waiting_period")
def answer_waiting_period(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    session: Session,
    ctx: VerifiedContext,
) -> list[EventType]:
    return _reply(dispatcher, policy_service.waiting_period_answer(ctx.policy))


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


class ActionAnswerServiceOffer(Action):
    """The customer answers an offer: deny → fine; accept → open the ticket (idempotent)."""

    def name(self) -> str:
        return "action_answer_service_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        kind = tracker.get_slot("service_offer")
        done = [*no_offer(), SlotSet("pending_request", None)]
        if intent in ("deny", "stop") or not kind:
            dispatcher.utter_message(response="utter_offer_declined")
            return done
        option = None
        if kind == "payment_relief":
            option = payments.relief_option_of(option_text(tracker))
            if option is None:
                dispatcher.utter_message(response="utter_payment_relief_choose")
                return [SlotSet("offer_open", "ticket")]  # the offer stays open
        elif intent != "affirm":
            # Only a clear yes opens a surrender / reinstatement / follow-up ticket.
            dispatcher.utter_message(response="utter_offer_declined")
            return done
        try:
            with db() as session:
                ctx = identity.get_verified(session, conversation_id(tracker))
                if ctx is None:
                    dispatcher.utter_message(response="utter_error_not_verified")
                    dispatcher.utter_message(response="utter_offer_human")
                    return [*done, SlotSet("verified", False)]
                conversation = conversation_id(tracker)
                if kind == "payment_relief" and option:
                    open_relief_ticket(dispatcher, session, ctx, option, conversation)
                elif kind == "payment_issue":
                    open_payment_issue_ticket(dispatcher, session, ctx, conversation)
                elif kind in policy_service.SERVICE_KINDS:
                    result = policy_service.request_service(
                        session, policy=ctx.policy, kind=str(kind), conversation_id=conversation
                    )
                    dispatcher.utter_message(
                        response="utter_service_ticket",
                        service_title=result.title_zh,
                        ticket_number=result.ticket.number,
                        next_steps=result.next_steps_zh,
                        checklist=result.checklist_zh,
                        timeline=result.timeline_zh,
                    )
                else:
                    dispatcher.utter_message(response="utter_offer_declined")
        except DomainError as exc:
            utter_error(dispatcher, exc, domain)
        except Exception:
            logger.exception("service offer %s failed", kind)
            utter_unexpected(dispatcher)
        return done
