"""Helpers shared by the desk pages, the JSON API and the agent console."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import StaffUser, Ticket
from bot.services import audit
from bot.services.tickets import access, notify

log = logging.getLogger(__name__)

NOTIFY_TIMEOUT_SECONDS = 4.0

Notifier = Callable[[Settings, str, str, dict[str, Any]], Awaitable[list[dict[str, Any]]]]


@contextmanager
def tx(request: Request) -> Iterator[Session]:
    """One transaction, committed on success (used where work must commit before a network call)."""
    session: Session = request.app.state.sessionmaker()
    try:
        with session.begin():
            yield session
    finally:
        session.close()


async def default_notifier(
    settings: Settings, conversation_id: str, intent: str, entities: dict[str, Any]
) -> list[dict[str, Any]]:
    """Through the channels layer where it exists, else Rasa's trigger_intent directly."""
    import importlib

    try:
        outbound: Any = importlib.import_module("bot.channels.outbound")
    except ImportError:
        outbound = None
    if outbound is not None and hasattr(outbound, "notify_conversation"):
        result: list[dict[str, Any]] = await outbound.notify_conversation(conversation_id, intent, entities)
        return result
    from bot.channels.rasa_client import RasaClient

    client = RasaClient(settings)
    try:
        return await client.trigger_intent(conversation_id, intent, entities)
    finally:
        await client.aclose()


async def send_notification(request: Request, spec: dict[str, Any] | None) -> dict[str, Any]:
    """Tell the customer; never raises, never waits more than a few seconds."""
    if spec is None:
        return {"delivered": False, "reason": "nothing"}
    if not spec.get("conversation_id"):
        return {"delivered": False, "reason": "no_conversation"}
    notifier: Notifier = getattr(request.app.state, "ticket_notifier", None) or default_notifier
    try:
        messages = await asyncio.wait_for(
            notifier(request.app.state.settings, spec["conversation_id"], spec["intent"], spec["entities"]),
            timeout=NOTIFY_TIMEOUT_SECONDS,
        )
    except Exception as exc:  # Rasa down or slow: the staff member's action stands
        log.warning("ticket notification failed for %s: %s", spec.get("ticket_number"), type(exc).__name__)
        return {"delivered": False, "error": type(exc).__name__}
    return {"delivered": True, "messages": [m for m in messages if isinstance(m, dict)]}


async def notify_and_record(request: Request, spec: dict[str, Any] | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    result = await send_notification(request, spec)
    with tx(request) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.number == spec["ticket_number"])).one()
        notify.record_notification(db, ticket, spec, result)
    return result


def audit_view(db: Session, user: StaffUser, ticket: Ticket, *, what: str) -> None:
    """Every view of a ticket's personal data (masked or not) is audited."""
    audit.record(
        db,
        actor=access.actor_label(user),
        action="view_personal_data",
        object_type="ticket",
        object_id=ticket.number,
        customer_id=ticket.customer_id,
        after={"view": what},
    )
