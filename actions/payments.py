"""Premiums and renewals for a verified caller (bot/services/payments.py, reminder_prefs.py).

Gated intents (two rules each in data/rules/payments.yml) are answered by ``action_handle_request``
through the handlers below. Offers the assistant makes ("需要专人跟进吗?", the relief options) set
``offer_open: ticket`` and ``service_offer``; ``action_answer_service_offer``
(actions/policy_service.py) opens the ticket when the customer accepts.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import conversation_id
from actions.requests import request_handler
from bot.services import payments, reminder_prefs
from bot.services.identity import VerifiedContext


def offer(kind: str) -> list[EventType]:
    return [SlotSet("offer_open", "ticket"), SlotSet("service_offer", kind)]


def no_offer() -> list[EventType]:
    return [SlotSet("offer_open", None), SlotSet("service_offer", None)]


@request_handler("ask_premium_due")
def answer_premium_due(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    session: Session,
    ctx: VerifiedContext,
) -> list[EventType]:
    info = payments.premium_status(session, ctx.policy)
    dispatcher.utter_message(
        response="utter_premium_due_answer", premium_text=payments.premium_due_text(info)
    )
    return no_offer()


@request_handler("ask_grace_period")
def answer_grace_period(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    session: Session,
    ctx: VerifiedContext,
) -> list[EventType]:
    info = payments.premium_status(session, ctx.policy)
    dispatcher.utter_message(
        response="utter_grace_period_answer", grace_text=payments.grace_text(info, ctx.policy)
    )
    return no_offer()


@request_handler("report_payment_failed")
def answer_payment_failed(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    session: Session,
    ctx: VerifiedContext,
) -> list[EventType]:
    info = payments.premium_status(session, ctx.policy)
    text, can_follow_up = payments.failure_text(info)
    dispatcher.utter_message(response="utter_payment_failed_answer", failure_text=text)
    if can_follow_up:
        dispatcher.utter_message(response="utter_offer_payment_followup")
        return offer("payment_issue")
    return no_offer()


@request_handler("request_payment_relief")
def answer_payment_relief(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    session: Session,
    ctx: VerifiedContext,
) -> list[EventType]:
    named = payments.relief_option_of(option_text(tracker))
    text = str(tracker.latest_message.get("text") or "")
    # The menu was just shown and the customer names an option ("缓交", "那就减额交清吧"): that is
    # the choice, whichever intent the words were read as. Outside the menu "我想申请缓交" asks for
    # one too; a question ("能缓交吗", "缓交是什么意思") gets the menu.
    menu_open = tracker.get_slot("service_offer") == "payment_relief"
    if named is not None and (payments.asks_to_apply(text) or (menu_open and not payments.is_question(text))):
        open_relief_ticket(dispatcher, session, ctx, named, conversation_id(tracker))
        return no_offer()
    info = payments.premium_status(session, ctx.policy)
    dispatcher.utter_message(
        response="utter_payment_relief_options", relief_text=payments.relief_intro_text(info, ctx.policy)
    )
    return offer("payment_relief")


def option_text(tracker: Tracker) -> str:
    """The relief option named in the latest message: a business_type entity, else the text."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "business_type" and entity.get("value"):
            return str(entity["value"])
    return str(tracker.latest_message.get("text") or "")


def open_relief_ticket(
    dispatcher: CollectingDispatcher, session: Session, ctx: VerifiedContext, option: str, conversation: str
) -> None:
    result = payments.request_relief(session, policy=ctx.policy, option=option, conversation_id=conversation)
    dispatcher.utter_message(
        response="utter_service_ticket",
        service_title=result.title_zh,
        ticket_number=result.ticket.number,
        next_steps=result.next_steps_zh,
        checklist=result.checklist_zh,
        timeline=result.timeline_zh,
    )


def open_payment_issue_ticket(
    dispatcher: CollectingDispatcher, session: Session, ctx: VerifiedContext, conversation: str
) -> None:
    ticket = payments.request_payment_followup(session, policy=ctx.policy, conversation_id=conversation)
    dispatcher.utter_message(response="utter_payment_issue_ticket", ticket_number=ticket.number)


def _set_reminders(
    dispatcher: CollectingDispatcher, tracker: Tracker, session: Session, ctx: VerifiedContext, enabled: bool
) -> list[EventType]:
    reminder_prefs.set_reminders(session, ctx.customer, conversation_id(tracker), enabled)
    dispatcher.utter_message(
        response="utter_reminders_subscribed" if enabled else "utter_reminders_unsubscribed"
    )
    return no_offer()


@request_handler("subscribe_reminders")
def answer_subscribe_reminders(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    session: Session,
    ctx: VerifiedContext,
) -> list[EventType]:
    return _set_reminders(dispatcher, tracker, session, ctx, True)


@request_handler("unsubscribe_reminders")
def answer_unsubscribe_reminders(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    session: Session,
    ctx: VerifiedContext,
) -> list[EventType]:
    return _set_reminders(dispatcher, tracker, session, ctx, False)
