"""Premiums and renewals for a verified caller (bot/services/payments.py, reminder_prefs.py).

Gated intents (two rules each in data/rules/payments.yml) are answered by ``action_handle_request``
through the handlers below. Offers the assistant makes ("需要专人跟进吗?", the relief options) set
``offer_open: ticket`` and ``service_offer``; ``action_answer_service_offer``
(actions/policy_service.py) opens the ticket when the customer accepts.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.common import Turn, VerifiedTurn, ticket_details
from actions.requests import request_handler
from bot.services import payments, reminder_prefs


def offer(kind: str) -> list[EventType]:
    return [SlotSet("offer_open", "ticket"), SlotSet("service_offer", kind)]


def no_offer() -> list[EventType]:
    return [SlotSet("offer_open", None), SlotSet("service_offer", None)]


@request_handler("ask_premium_due")
def answer_premium_due(turn: VerifiedTurn) -> list[EventType]:
    info = payments.premium_status(turn.session, turn.ctx.policy)
    turn.say("utter_premium_due_answer", premium_text=payments.premium_due_text(info))
    return no_offer()


@request_handler("ask_grace_period")
def answer_grace_period(turn: VerifiedTurn) -> list[EventType]:
    info = payments.premium_status(turn.session, turn.ctx.policy)
    turn.say("utter_grace_period_answer", grace_text=payments.grace_text(info, turn.ctx.policy))
    return no_offer()


@request_handler("report_payment_failed")
def answer_payment_failed(turn: VerifiedTurn) -> list[EventType]:
    info = payments.premium_status(turn.session, turn.ctx.policy)
    text, can_follow_up = payments.failure_text(info)
    turn.say("utter_payment_failed_answer", failure_text=text)
    if can_follow_up:
        turn.say("utter_offer_payment_followup")
        return offer("payment_issue")
    return no_offer()


@request_handler("request_payment_relief")
def answer_payment_relief(turn: VerifiedTurn) -> list[EventType]:
    tracker = turn.tracker
    named = payments.relief_option_of(option_text(tracker))
    text = str(tracker.latest_message.get("text") or "")
    # The menu was just shown and the customer names an option ("缓交", "那就减额交清吧"): that is
    # the choice, whichever intent the words were read as. Outside the menu "我想申请缓交" asks for
    # one too; a question ("能缓交吗", "缓交是什么意思") gets the menu.
    menu_open = tracker.get_slot("service_offer") == "payment_relief"
    if named is not None and (payments.asks_to_apply(text) or (menu_open and not payments.is_question(text))):
        open_relief_ticket(turn, named)
        return no_offer()
    info = payments.premium_status(turn.session, turn.ctx.policy)
    turn.say("utter_payment_relief_options", relief_text=payments.relief_intro_text(info, turn.ctx.policy))
    return offer("payment_relief")


def option_text(tracker: Tracker) -> str:
    """The relief option named in the latest message: a business_type entity, else the text."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "business_type" and entity.get("value"):
            return str(entity["value"])
    return str(tracker.latest_message.get("text") or "")


def utter_service_ticket(turn: Turn, result: payments.ServiceTicket) -> None:
    """The ticket opened for a policy service or a payment relief: number, documents, timeline."""
    turn.say("utter_service_ticket", service_title=result.title_zh, **ticket_details(result))


def open_relief_ticket(turn: VerifiedTurn, option: str) -> None:
    result = payments.request_relief(
        turn.session, policy=turn.ctx.policy, option=option, conversation_id=turn.conversation
    )
    utter_service_ticket(turn, result)


def open_payment_issue_ticket(turn: VerifiedTurn) -> None:
    ticket = payments.request_payment_followup(
        turn.session, policy=turn.ctx.policy, conversation_id=turn.conversation
    )
    turn.say("utter_payment_issue_ticket", ticket_number=ticket.number)


def _set_reminders(turn: VerifiedTurn, enabled: bool) -> list[EventType]:
    reminder_prefs.set_reminders(turn.session, turn.ctx.customer, turn.conversation, enabled)
    turn.say("utter_reminders_subscribed" if enabled else "utter_reminders_unsubscribed")
    return no_offer()


@request_handler("subscribe_reminders")
def answer_subscribe_reminders(turn: VerifiedTurn) -> list[EventType]:
    return _set_reminders(turn, True)


@request_handler("unsubscribe_reminders")
def answer_unsubscribe_reminders(turn: VerifiedTurn) -> list[EventType]:
    return _set_reminders(turn, False)
