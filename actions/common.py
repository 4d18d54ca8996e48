"""What every action module shares: a database session, error replies, the verified context, and
the base class of form validators (two failed tries → explain and offer a human)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.errors import DomainError

logger = logging.getLogger(__name__)

# Tests replace this with a provider that yields their rolled-back session.
session_provider: Callable[[], AbstractContextManager[Session]] = session_scope

INVALID_COUNT_SLOT = "invalid_attempts"
MAX_INVALID_TRIES = 2


@contextmanager
def db() -> Iterator[Session]:
    """One transaction for the action: committed when the action's work succeeds."""
    with session_provider() as session:
        yield session


def conversation_id(tracker: Tracker) -> str:
    return str(tracker.sender_id)


def utter_error(dispatcher: CollectingDispatcher, error: DomainError, domain: DomainDict) -> None:
    """Reply to a domain error with ``utter_error_<code>`` (or the error's own Chinese text)."""
    template = f"utter_error_{error.code}"
    if template in (domain.get("responses") or {}):
        dispatcher.utter_message(response=template)
    else:
        dispatcher.utter_message(text=error.message_zh)


def utter_unexpected(dispatcher: CollectingDispatcher) -> None:
    """Something broke that is not the customer's doing: apologise and offer a way forward."""
    dispatcher.utter_message(response="utter_error_internal")


class BaseFormValidation(FormValidationAction, ABC):
    """Counts invalid values per requested slot; after two, explains what is needed and offers
    to stop or hand over to a human (response ``utter_invalid_twice``, or
    ``utter_help_<slot>`` when the domain has one).

    Abstract (``name``), so that the action server does not register it as an action itself."""

    @abstractmethod
    def name(self) -> str:  # pragma: no cover - subclasses name themselves
        raise NotImplementedError

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        given = tracker.slots_to_validate()
        events: list[EventType] = await super().get_validation_events(dispatcher, tracker, domain)
        if requested and requested in given and given[requested] is not None:
            result = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
            if result.get(requested) is None:
                count = int(tracker.get_slot(INVALID_COUNT_SLOT) or 0) + 1
                if count >= MAX_INVALID_TRIES:
                    help_template = f"utter_help_{requested}"
                    responses = domain.get("responses") or {}
                    if help_template in responses:
                        dispatcher.utter_message(response=help_template)
                    dispatcher.utter_message(response="utter_invalid_twice")
                    count = 0
                events.append(SlotSet(INVALID_COUNT_SLOT, float(count)))
            else:
                events.append(SlotSet(INVALID_COUNT_SLOT, 0.0))
        return events


def slot_text(tracker: Tracker, name: str) -> str | None:
    value: Any = tracker.get_slot(name)
    if value is None:
        return None
    if isinstance(value, list):
        value = value[-1] if value else None
    return str(value).strip() if value is not None else None


def said_this_turn(tracker: Tracker, response: str) -> bool:
    """Has the assistant already sent this response since the customer's latest message?"""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == response:
            return True
    return False
