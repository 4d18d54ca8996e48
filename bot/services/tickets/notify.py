"""What a customer is told about their ticket, and the record of having told them (or not)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.models import Ticket
from bot.services.tickets.create import add_event

NOTIFY_INTENT = "EXTERNAL_ticket_update"


def notification(ticket: Ticket, status_text: str, note: str) -> dict[str, Any]:
    """What to send the customer: EXTERNAL_ticket_update with these entities, on the ticket's
    conversation. ``status_text`` is approved / rejected / documents_requested."""
    return {
        "ticket_number": ticket.number,
        "conversation_id": ticket.conversation_id,
        "intent": NOTIFY_INTENT,
        "entities": {"ticket_number": ticket.number, "ticket_status_text": status_text, "ticket_note": note},
    }


def documents_note(documents: list[str], note: str | None) -> str:
    """The note of a documents request: ``身份证明、银行卡(请上传清晰照片)``."""
    return "、".join(documents) + (f"({note})" if note else "")


def record_notification(
    session: Session, ticket: Ticket, spec: dict[str, Any], result: dict[str, Any]
) -> None:
    """A ``notified`` event: the messages produced, or why the customer was not told (yet)."""
    if result.get("delivered"):
        texts = [m.get("text", "") for m in result.get("messages", []) if isinstance(m, dict)]
        note = "已通知客户:" + " / ".join(t for t in texts if t) if any(texts) else "已通知客户。"
    elif result.get("reason") == "no_conversation":
        note = "该工单未关联客户会话,未发送通知。"
    else:
        note = "通知未送达,请稍后在工单页点击「重新通知」。"
    add_event(
        session,
        ticket,
        kind="notified",
        actor_label="system",
        note=note,
        data={
            "delivered": bool(result.get("delivered")),
            "intent": spec.get("intent"),
            "entities": spec.get("entities"),
            "messages": result.get("messages", []),
            "error": result.get("error"),
        },
    )


def last_notification_spec(ticket: Ticket) -> dict[str, Any] | None:
    """The notification of the ticket's latest approve/reject/request_documents, for a resend."""
    for event in reversed(ticket.events):
        if event.kind in ("approve", "reject", "request_documents"):
            status_text = {"approve": "approved", "reject": "rejected"}.get(event.kind, "documents_requested")
            if event.kind == "request_documents":
                note = documents_note((event.data or {}).get("documents", []), event.note)
            else:
                note = event.note or ""
            return notification(ticket, status_text, note)
    return None
