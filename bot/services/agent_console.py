"""The hotline agent console's view of a call: the caller's verified policy card, the slots so
far (masked), the document checklist for what the caller asks about, the call's tickets, and a
ticket opened (or routed to a team) by the agent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import bot.catalog as catalog
from bot import labels_zh, masking
from bot.labels_zh import TEAM_LABELS_ZH
from bot.models import StaffUser, Team, Ticket, TicketType, VerifiedSession
from bot.models.base import utcnow
from bot.services import audit
from bot.services.tickets import access, queries
from bot.services.tickets.create import add_event, conversation_tickets, create_ticket


def masked_slots(slots: dict[str, Any]) -> dict[str, Any]:
    """The caller's slots as the agent may see them: by the slot's name (``pa_card``, ``cc_value``,
    ``id_tail``, ``person_name``…) and by what any value looks like (an ID, card, mobile, e-mail)."""
    out: dict[str, Any] = {}
    for name, value in slots.items():
        if value in (None, [], "") or name.startswith("requested_slot") or name == "session_started_metadata":
            continue
        out[name] = masking.mask_value(name, value)
    return out


def checklist_for(slots: dict[str, Any]) -> dict[str, Any] | None:
    """The document checklist for what the caller is asking about, from the catalog."""
    wording = slots.get("claim_type") or slots.get("business_type")
    if not wording:
        return None
    try:
        key = catalog.resolve_business_type(str(wording))
        if key is None:
            return None
        found = catalog.entry(key)
        if found.kind == "claim":
            items = catalog.claim_requirements(key, police_reported=slots.get("police_reported"))
        else:
            items = catalog.service_requirements(key)
    except (KeyError, ValueError, TypeError, AttributeError, LookupError):
        return None
    return {
        "title": f"{found.title}材料清单",
        "items": [{"code": d.code, "label": d.label, "required": d.required} for d in items],
    }


def verified_call(db: Session, sender: str) -> VerifiedSession | None:
    return db.scalars(
        select(VerifiedSession).where(
            VerifiedSession.conversation_id == sender, VerifiedSession.expires_at > utcnow()
        )
    ).first()


def call_state(db: Session, user: StaffUser, sender: str, tracker: dict[str, Any] | None) -> dict[str, Any]:
    state: dict[str, Any] = {"sender_id": sender, "verified": False, "policy": None, "checklist": None}
    slots: dict[str, Any] = {}
    if tracker:
        latest = tracker.get("latest_message") or {}
        intent = latest.get("intent") or {}
        state["intent"] = intent.get("name")
        state["confidence"] = intent.get("confidence")
        slots = {k: v for k, v in (tracker.get("slots") or {}).items()}
        state["slots"] = masked_slots(slots)
        state["active_form"] = ((tracker.get("active_loop") or {}).get("name")) or None
    verified = verified_call(db, sender)
    if verified is not None:
        state["verified"] = True
        state["policy"] = queries.policy_card(db, verified.policy_id)
        policy_id = state["policy"]["number"] if state["policy"] else verified.policy_id
        audit.record_view(
            db,
            access.actor_label(user),
            ("policy", policy_id, verified.customer_id),
            {"view": "agent_console", "conversation": masking.conversation_reference(sender)},
        )
    state["checklist"] = checklist_for(slots)
    state["tickets"] = [
        {
            "number": t.number,
            "type": t.ticket_type.value,
            "type_label": labels_zh.TYPE_LABELS_ZH[t.ticket_type],
            "team": t.team.value,
            "status": t.status.value,
            "status_label": labels_zh.STATUS_LABELS_ZH[t.status],
        }
        for t in conversation_tickets(db, sender)
    ]
    return state


def open_call_ticket(
    db: Session,
    user: StaffUser,
    sender: str,
    ticket_type: TicketType,
    note: str | None,
    team: Team | None = None,
) -> Ticket:
    verified = verified_call(db, sender)
    payload: dict[str, Any] = {"note": (note or "").strip()[:2000], "opened_by": user.username}
    ticket, _created = create_ticket(
        db,
        ticket_type=ticket_type,
        customer_id=verified.customer_id if verified else None,
        policy_id=verified.policy_id if verified else None,
        conversation_id=sender,
        payload=payload,
        actor_label=access.actor_label(user),
    )
    if team is not None and team != ticket.team:
        ticket.team = team
        ticket.subject = f"坐席转交:{TEAM_LABELS_ZH[team]}"
        db.flush()
        add_event(db, ticket, kind="routed", actor=user, note=note, data={"team": team.value})
    audit.record(
        db,
        actor=access.actor_label(user),
        action="ticket_create",
        object_type="ticket",
        object_id=ticket.number,
        customer_id=ticket.customer_id,
        after={
            "type": ticket.ticket_type.value,
            "team": ticket.team.value,
            "conversation": masking.conversation_reference(sender),
        },
    )
    return ticket
