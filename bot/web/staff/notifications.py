"""Telling the customer what staff did to their ticket, and the audit of staff viewing a ticket:
shared by the desk pages, the JSON API and the agent console."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anyio.to_thread
from sqlalchemy.orm import Session

from bot.models import StaffUser, Ticket
from bot.services import audit
from bot.services.tickets import access, notify
from bot.services.tickets.create import get_by_number
from bot.web.deps import Notifier, Transactions

log = logging.getLogger(__name__)

NOTIFY_TIMEOUT_SECONDS = 4.0


async def send_notification(notifier: Notifier, spec: dict[str, Any] | None) -> dict[str, Any]:
    """Tell the customer; never raises, never waits more than a few seconds."""
    if spec is None:
        return {"delivered": False, "reason": "nothing"}
    if not spec.get("conversation_id"):
        return {"delivered": False, "reason": "no_conversation"}
    try:
        messages = await asyncio.wait_for(
            notifier(spec["conversation_id"], spec["intent"], spec["entities"]),
            timeout=NOTIFY_TIMEOUT_SECONDS,
        )
    except Exception as exc:  # Rasa down or slow: the staff member's action stands
        log.warning("ticket notification failed for %s: %s", spec.get("ticket_number"), type(exc).__name__)
        return {"delivered": False, "error": type(exc).__name__}
    return {"delivered": True, "messages": [m for m in messages if isinstance(m, dict)]}


async def notify_and_record(
    tx: Transactions, notifier: Notifier, spec: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Notify (after the ticket's change committed) and record the outcome on the ticket."""
    if spec is None:
        return None
    result = await send_notification(notifier, spec)

    def record() -> None:
        with tx() as db:
            ticket = get_by_number(db, spec["ticket_number"])
            if ticket is not None:  # it was committed just before; nothing to record on otherwise
                notify.record_notification(db, ticket, spec, result)

    await anyio.to_thread.run_sync(record)  # off the event loop: a database lock stalls this call only
    return result


def audit_view(db: Session, user: StaffUser, ticket: Ticket, *, what: str) -> None:
    """Every view of a ticket's personal data (masked or not) is audited."""
    audit.record_view(
        db, access.actor_label(user), ("ticket", ticket.number, ticket.customer_id), {"view": what}
    )
