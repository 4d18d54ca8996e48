"""Read side of the ticket desk: the queue (filters, search, keyset pagination) and ticket details.

The queue never counts all rows. It pages with a keyset on (created_at, id) or (sla_due_at, id)
and, because the status filter usually names several statuses, runs one small index-ordered
query per (team, status) pair (``ix_tickets_team_status_created`` / ``ix_tickets_status_sla``) and
merges them: each reads at most one page of rows, whatever the size of the table.
"""

from __future__ import annotations

import base64
import heapq
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, joinedload

from bot import masking
from bot.errors import InvalidInput
from bot.models import (
    Claim,
    Customer,
    Document,
    Policy,
    StaffRole,
    StaffUser,
    Team,
    Ticket,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from bot.models.base import utcnow
from bot.services.tickets.access import can_view
from bot.services.tickets.rules import OPEN_STATUSES

PAGE_SIZE = 50
SORTS = ("created", "sla")


@dataclass
class QueueFilter:
    ticket_type: TicketType | None = None
    statuses: tuple[TicketStatus, ...] = ()
    priority: TicketPriority | None = None
    sla_breached: bool = False
    assignee_id: int | None = None  # 0 means unassigned
    team: Team | None = None
    search: str = ""
    sort: str = "created"
    cursor: str | None = None
    limit: int = PAGE_SIZE


@dataclass
class QueuePage:
    rows: list[Ticket]
    next_cursor: str | None
    filters: QueueFilter
    teams: list[Team] = field(default_factory=list)


def visible_scope(user: StaffUser) -> tuple[list[Team], tuple[TicketStatus, ...] | None]:
    """Teams a user's queue covers and, for reviewers, the statuses they work."""
    if user.role is StaffRole.SUPERVISOR:
        return list(Team), None
    if user.role is StaffRole.PROCESSOR and user.team is not None:
        return [user.team], None
    if user.role is StaffRole.REVIEWER:
        return list(Team), (TicketStatus.PENDING_APPROVAL,)
    return [], ()


def default_statuses(user: StaffUser) -> tuple[TicketStatus, ...]:
    if user.role is StaffRole.REVIEWER:
        return (TicketStatus.PENDING_APPROVAL,)
    return OPEN_STATUSES


def encode_cursor(ticket: Ticket, sort: str) -> str:
    key = ticket.sla_due_at if sort == "sla" else ticket.created_at
    raw = json.dumps([key.isoformat(), ticket.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        iso, ident = json.loads(raw)
        return datetime.fromisoformat(iso), int(ident)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("cursor") from exc


def _search_condition(session: Session, text: str) -> Any:
    """Exact search by ticket, policy or claim number (each has a unique index)."""
    term = text.strip().upper().replace(" ", "")
    if term.startswith("TK"):
        return Ticket.number == term
    if term.startswith("CL"):
        claim_id = session.scalars(select(Claim.id).where(Claim.number == term)).first()
        return Ticket.claim_id == (claim_id or -1)
    policy_id = session.scalars(select(Policy.id).where(Policy.number == term)).first()
    return Ticket.policy_id == (policy_id or -1)


def queue(session: Session, user: StaffUser, filters: QueueFilter) -> QueuePage:
    teams, forced = visible_scope(user)
    if filters.team is not None:
        teams = [t for t in teams if t == filters.team]
    statuses = filters.statuses or default_statuses(user)
    if forced is not None:
        statuses = tuple(s for s in statuses if s in forced)
    if filters.sla_breached:
        statuses = tuple(s for s in statuses if s in OPEN_STATUSES)
    limit = max(1, min(filters.limit, 200))
    if not teams or not statuses:
        return QueuePage([], None, filters, teams)

    conditions: list[Any] = []
    if filters.ticket_type is not None:
        conditions.append(Ticket.ticket_type == filters.ticket_type)
    if filters.priority is not None:
        conditions.append(Ticket.priority == filters.priority)
    if filters.assignee_id is not None:
        conditions.append(
            Ticket.assignee_id.is_(None)
            if filters.assignee_id == 0
            else Ticket.assignee_id == filters.assignee_id
        )
    now = utcnow()
    if filters.sla_breached:
        conditions.append(Ticket.sla_due_at < now)
    if filters.search.strip():
        conditions.append(_search_condition(session, filters.search))

    sla = filters.sort == "sla"
    key_col = Ticket.sla_due_at if sla else Ticket.created_at
    if filters.cursor:
        key, ident = decode_cursor(filters.cursor)
        if sla:  # ascending: most urgent first
            conditions.append(or_(key_col > key, and_(key_col == key, Ticket.id > ident)))
        else:  # descending: newest first
            conditions.append(or_(key_col < key, and_(key_col == key, Ticket.id < ident)))
    order = (key_col.asc(), Ticket.id.asc()) if sla else (key_col.desc(), Ticket.id.desc())

    # Each query reads (id, key) along one index, at most one page; then one query loads the page.
    queries: list[Select[tuple[int, datetime]]] = []
    base = select(Ticket.id, key_col)
    if sla:  # ix_tickets_status_sla: one query per status, the team filtered in the scan
        team_cond = Ticket.team.in_(teams) if len(teams) < len(Team) else None
        for status in statuses:
            q = base.where(Ticket.status == status, *conditions)
            if team_cond is not None:
                q = q.where(team_cond)
            queries.append(q.order_by(*order).limit(limit + 1))
    else:  # ix_tickets_team_status_created: one query per (team, status)
        for team in teams:
            for status in statuses:
                q = base.where(Ticket.team == team, Ticket.status == status, *conditions)
                queries.append(q.order_by(*order).limit(limit + 1))

    def sort_key(row: tuple[int, datetime]) -> tuple[float, int]:
        k = row[1].timestamp()
        return (k, row[0]) if sla else (-k, -row[0])

    merged = heapq.merge(*(list(session.execute(q).tuples()) for q in queries), key=sort_key)
    keys: list[tuple[int, datetime]] = []
    for row in merged:
        keys.append(row)
        if len(keys) > limit:
            break
    more = len(keys) > limit
    keys = keys[:limit]
    by_id = (
        {
            t.id: t
            for t in session.scalars(
                select(Ticket)
                .where(Ticket.id.in_([k[0] for k in keys]))
                .options(joinedload(Ticket.assignee), joinedload(Ticket.policy), joinedload(Ticket.claim))
            ).unique()
        }
        if keys
        else {}
    )
    rows = [by_id[k[0]] for k in keys if k[0] in by_id]
    next_cursor = encode_cursor(rows[-1], filters.sort) if more and rows else None
    return QueuePage(rows, next_cursor, filters, teams)


# ---------------------------------------------------------------- ticket details


def customer_card(session: Session, ticket: Ticket) -> dict[str, Any] | None:
    customer = session.get(Customer, ticket.customer_id) if ticket.customer_id else None
    if customer is None:
        return None
    return {
        "id": customer.id,
        "name": masking.mask_name(customer.name),
        "id_number": masking.mask_id_number(customer.id_number),
        "mobile": masking.mask_mobile(customer.mobile),
        "email": masking.mask_email(customer.email),
        "address": masking.mask_address(customer.address),
    }


def policy_card(session: Session, policy_id: int | None) -> dict[str, Any] | None:
    policy = session.get(Policy, policy_id) if policy_id else None
    if policy is None:
        return None
    return {
        "number": policy.number,
        "product_name": policy.product_name,
        "line": policy.line.value,
        "status": policy.status.value,
        "effective_date": policy.effective_date.isoformat(),
        "expiry_date": policy.expiry_date.isoformat() if policy.expiry_date else None,
        "sum_insured": str(policy.sum_insured),
        "premium": str(policy.premium),
        "payment_frequency": policy.payment_frequency.value,
        "policyholder": masking.mask_name(policy.policyholder.name),
        "insured": masking.mask_name(policy.insured.name),
        "bank_name": policy.bank_name,
        "bank_account": masking.mask_bank_account(policy.bank_account),
        "beneficiaries": masking.masked_beneficiaries(policy),
    }


def _catalog_items(result: Any) -> list[dict[str, Any]]:
    """Normalise what the document catalog returns into [{code, label}]."""
    items: list[dict[str, Any]] = []
    if result is None:
        return items
    if isinstance(result, dict):
        result = result.get("documents") or result.get("items") or list(result.values())
    for item in result or []:
        if isinstance(item, str):
            code, label = item, item
        elif isinstance(item, dict):
            code = str(item.get("key") or item.get("code") or item.get("doc_code") or item.get("name"))
            label = str(
                item.get("name_zh") or item.get("label") or item.get("title") or item.get("name") or code
            )
        else:
            code = str(getattr(item, "key", None) or getattr(item, "code", None) or item)
            label = str(
                getattr(item, "name_zh", None)
                or getattr(item, "label", None)
                or getattr(item, "name", None)
                or code
            )
        required = item.get("required", True) if isinstance(item, dict) else getattr(item, "required", True)
        items.append({"code": code, "label": label, "required": bool(required)})
    return items


def required_documents(session: Session, ticket: Ticket) -> tuple[list[dict[str, Any]], str | None]:
    """The documents the catalog requires for this ticket, and a note when it cannot tell."""
    try:
        import bot.catalog as catalog
    except ImportError:
        return [], "材料目录暂不可用。"
    try:
        if ticket.ticket_type is TicketType.CLAIM and ticket.claim_id:
            claim = session.get(Claim, ticket.claim_id)
            if claim is None:
                return [], None
            fn = getattr(catalog, "claim_requirements", None)
            if fn is None:
                return [], "材料目录暂不可用。"
            try:
                result = fn(claim.claim_type, police_reported=claim.police_reported)
            except (KeyError, ValueError, TypeError, AttributeError):
                result = fn(claim.claim_type.value, police_reported=claim.police_reported)
        else:
            fn = getattr(catalog, "service_requirements", None)
            if fn is None:
                return [], "材料目录暂不可用。"
            result = fn(ticket.ticket_type.value)
    except (KeyError, ValueError, TypeError, AttributeError, LookupError):
        return [], "该类工单无需固定材料。"
    return _catalog_items(result), None


def document_checklist(session: Session, ticket: Ticket) -> dict[str, Any]:
    """Required documents with what has been received and what is missing."""
    required, note = required_documents(session, ticket)
    conds = [Document.ticket_id == ticket.id]
    if ticket.claim_id:
        conds.append(Document.claim_id == ticket.claim_id)
    docs = list(session.scalars(select(Document).where(or_(*conds)).order_by(Document.received_at)))
    received_codes = {d.doc_code for d in docs}
    requested: list[str] = []
    for event in ticket.events:
        if event.kind == "request_documents":
            requested.extend((event.data or {}).get("documents", []))
    items = [{**item, "received": item["code"] in received_codes} for item in required]
    known = {i["code"] for i in items} | {i["label"] for i in items}
    for extra in requested:
        if extra not in known:
            items.append(
                {"code": extra, "label": extra, "required": True, "received": extra in received_codes}
            )
            known.add(extra)
    return {
        "items": items,
        "missing": [i["label"] for i in items if not i["received"] and i.get("required", True)],
        "received_files": [
            {
                "doc_code": d.doc_code,
                "file_name": d.file_name,
                "channel": d.channel,
                "received_at": d.received_at.isoformat(),
            }
            for d in docs
        ],
        "note": note,
    }


def ticket_summary(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "ticket_type": ticket.ticket_type.value,
        "team": ticket.team.value,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "subject": masking.mask_text(ticket.subject or ""),
        "sla_due_at": ticket.sla_due_at.isoformat(),
        "sla_breached": ticket.status in OPEN_STATUSES and ticket.sla_due_at < utcnow(),
        "created_at": ticket.created_at.isoformat(),
        "assignee": ticket.assignee.username if ticket.assignee else None,
        "policy_number": ticket.policy.number if ticket.policy else None,
        "claim_number": ticket.claim.number if ticket.claim else None,
        "channel": ticket.channel.value if ticket.channel else None,
    }


def ticket_detail(session: Session, ticket: Ticket) -> dict[str, Any]:
    return {
        **ticket_summary(ticket),
        "requires_checker": ticket.requires_checker,
        "maker": ticket.maker.username if ticket.maker else None,
        "checker": ticket.checker.username if ticket.checker else None,
        "resolution": masking.mask_text(ticket.resolution) if ticket.resolution else ticket.resolution,
        "payload": masking.masked_payload(ticket),
        "customer": customer_card(session, ticket),
        "policy": policy_card(session, ticket.policy_id),
        "conversation": _mask_conversation(ticket.conversation_id),
        "checklist": document_checklist(session, ticket),
        "history": [
            {
                "at": e.at.isoformat(),
                "actor": e.actor_label,
                "kind": e.kind,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": masking.mask_text(e.note) if e.note else e.note,
                "data": _event_data(e.kind, e.data or {}),
            }
            for e in ticket.events
        ],
    }


def _mask_conversation(conversation_id: str | None) -> str | None:
    """``web:<session>`` → ``web#1a2b3c4d``: the channel and an opaque reference, never the id a
    reader could use to act as the customer."""
    return masking.conversation_reference(conversation_id)


def _event_data(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    if kind == "notified":
        data = {"delivered": data.get("delivered"), "messages": data.get("messages", [])}
    return {key: masking.mask_value(key, value) for key, value in data.items()}


def visible(user: StaffUser, ticket: Ticket) -> bool:
    return can_view(user, ticket)
