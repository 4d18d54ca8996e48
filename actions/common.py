"""What every action module shares: a database session, error replies, the verified context, the
base classes of actions that call a service (``ServiceAction``, ``VerifiedAction``: one
transaction, the verified-caller prologue, one error epilogue) and of form validators (two failed
tries → explain and offer a human)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.errors import DomainError
from bot.models import Ticket
from bot.services import identity
from bot.services.identity import VerifiedContext

logger = logging.getLogger(__name__)
T = TypeVar("T")

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


def with_verified(tracker: Tracker, fn: Callable[[Session, VerifiedContext | None], T]) -> T:
    """Run ``fn`` with the conversation's verified context (None when not verified)."""
    with db() as session:
        return fn(session, identity.get_verified(session, conversation_id(tracker)))


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


def checked(dispatcher: CollectingDispatcher, slot: str, value: Any, invalid_response: str) -> dict[str, Any]:
    """A validator's result ``{slot: value}``; a None (not accepted) is answered with ``invalid_response``."""
    if value is None:
        dispatcher.utter_message(response=invalid_response)
    return {slot: value}


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


class OpenedTicket(Protocol):
    """What a service returns for a ticket it opened for the customer (a policy service, a
    payment relief, a change request)."""

    @property
    def ticket(self) -> Ticket: ...
    @property
    def checklist_zh(self) -> str: ...
    @property
    def timeline_zh(self) -> str: ...
    @property
    def next_steps_zh(self) -> str: ...


def ticket_details(result: OpenedTicket) -> dict[str, str]:
    """The fields every "ticket opened" reply fills: its number, the documents, timeline, next steps."""
    return {
        "ticket_number": result.ticket.number,
        "checklist": result.checklist_zh,
        "timeline": result.timeline_zh,
        "next_steps": result.next_steps_zh,
    }


def utter_locked(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The lock explained (once a turn: the identity form may just have said it) and a human offered."""
    if not said_this_turn(tracker, "utter_error_verification_locked"):
        dispatcher.utter_message(response="utter_error_verification_locked")
    dispatcher.utter_message(response="utter_offer_human")


@dataclass(frozen=True)
class Turn:
    """One run of an action's business step: whom to answer, the conversation, one transaction."""

    dispatcher: CollectingDispatcher
    tracker: Tracker
    domain: DomainDict
    session: Session

    @property
    def conversation(self) -> str:
        return conversation_id(self.tracker)

    def say(self, response: str, **kwargs: Any) -> None:
        self.dispatcher.utter_message(response=response, **kwargs)


@dataclass(frozen=True)
class VerifiedTurn(Turn):
    """A turn of a verified caller: ``ctx`` holds the verified customer and policy."""

    ctx: VerifiedContext


class ServiceAction(Action, ABC):
    """An action whose business step runs in one transaction, with ONE error epilogue: a
    ``DomainError`` becomes ``utter_error_<code>`` (``reply_to_error``), anything else is logged
    and answered with ``utter_error_internal``; either way the action returns ``closing(tracker)``.

    Subclasses implement ``name`` and ``step``; work that needs no database (checking the
    slots first) goes in an overridden ``run`` that ends with ``await super().run(...)``.
    Abstract, so that the action server does not register it as an action itself."""

    @abstractmethod
    def name(self) -> str:  # pragma: no cover - subclasses name themselves
        raise NotImplementedError

    @abstractmethod
    def step(self, turn: Turn) -> list[EventType]:
        """The business step; its events are returned when the transaction has committed."""

    def closing(self, tracker: Tracker) -> list[EventType]:
        """The events returned when the step failed (an error reply has been sent)."""
        return []

    def reply_to_error(
        self, dispatcher: CollectingDispatcher, error: DomainError, domain: DomainDict
    ) -> None:
        utter_error(dispatcher, error, domain)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        try:
            with db() as session:
                events = self.step(Turn(dispatcher, tracker, domain, session))
        except DomainError as exc:
            self.reply_to_error(dispatcher, exc, domain)
            return self.closing(tracker)
        except Exception:
            logger.exception("%s failed", self.name())
            utter_unexpected(dispatcher)
            return self.closing(tracker)
        return events


class VerifiedAction(ServiceAction, ABC):
    """A ``ServiceAction`` for a verified caller. The prologue loads the verified context; when
    there is none (never verified, expired, locked) ``unverified`` answers instead of the step.

    Subclasses implement ``name`` and ``verified_step``; they override ``unverified`` where the
    way forward differs (the default: the lock (``is_locked``) or the verification prompt, a human
    offered, ``closing`` + ``verified=False``)."""

    @abstractmethod
    def verified_step(self, turn: VerifiedTurn) -> list[EventType]:
        """The business step for the verified caller ``turn.ctx``."""

    def step(self, turn: Turn) -> list[EventType]:
        ctx = identity.get_verified(turn.session, turn.conversation)
        if ctx is None:
            return self.unverified(turn)
        return self.verified_step(VerifiedTurn(turn.dispatcher, turn.tracker, turn.domain, turn.session, ctx))

    def is_locked(self, turn: Turn) -> bool:
        """Is verification locked for this conversation? By default the slot says so."""
        return bool(turn.tracker.get_slot("identity_locked"))

    def unverified(self, turn: Turn) -> list[EventType]:
        turn.say("utter_error_verification_locked" if self.is_locked(turn) else "utter_error_not_verified")
        turn.say("utter_offer_human")
        return [*self.closing(turn.tracker), SlotSet("verified", False)]
