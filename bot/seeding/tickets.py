"""Open back-office tickets with realistic payloads and a short history (ticket_events)."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.catalog import service_requirements
from bot.models.enums import TicketType
from bot.seeding.claims import document_row
from bot.seeding.policies import Ids, Row
from bot.seeding.rand import pick, ri, wpick
from bot.services.tickets.rules import TICKET_RULES

TICKET_STATUSES = ("open", "in_progress", "awaiting_documents", "pending_approval")
TICKET_STATUS_WEIGHTS = (40, 30, 15, 15)
TICKET_STATUS_CUM = tuple(itertools.accumulate(TICKET_STATUS_WEIGHTS))
RELIEF_OPTIONS = (("premium_deferral", "缓交"), ("reduced_paid_up", "减额交清"), ("policy_loan", "保单贷款"))
COMPLAINTS = (
    "理赔进度太慢,材料交齐两周了还没有结果。",
    "扣款失败没有收到任何通知,保单差点失效。",
    "客服电话一直打不进去,希望尽快回电。",
    "对拒赔结论有异议,要求重新审核。",
)


class TicketNumbers:
    """``TK`` + two-digit year + 8-digit serial; generated serials start at 1000."""

    def __init__(self) -> None:
        self._serial = 1000

    def issue(self, rng: random.Random, year: int) -> str:
        self._serial += ri(rng, 1, 9)
        return f"TK{year % 100:02d}{self._serial:08d}"


@dataclass
class TicketPlan:
    ticket_type: str
    payload: dict[str, Any]
    status: str | None = None
    number: str | None = None
    hours_ago: int | None = None
    subject: str | None = None


def make_ticket(
    rng: random.Random,
    ids: Ids,
    numbers: TicketNumbers,
    *,
    plan: TicketPlan,
    now: datetime,
    customer_id: int,
    policy: Row | None,
    claim: Row | None,
    staff: dict[str, list[tuple[int, str]]],
    supervisor: tuple[int, str] | None,
) -> tuple[Row, list[Row], list[Row]]:
    ttype = TicketType(plan.ticket_type)
    rule = TICKET_RULES[ttype]
    status = plan.status or wpick(rng, TICKET_STATUSES, TICKET_STATUS_CUM)
    if status == "pending_approval" and not rule.requires_checker:
        status = "in_progress"
    hours = plan.hours_ago if plan.hours_ago is not None else ri(rng, 1, 120)
    created = now - timedelta(hours=hours, minutes=ri(rng, 0, 59))
    team_staff = staff.get(rule.team.value) or []
    assignee = pick(rng, team_staff) if team_staff and status != "open" else None
    conversation = None
    channel = None
    roll = rng.random()
    if roll < 0.45:
        channel = "web"
        conversation = f"web:{rng.getrandbits(64):016x}"
    elif roll < 0.8:
        channel = "telegram"
        conversation = f"telegram:{ri(rng, 10**8, 7 * 10**9)}"
    elif roll < 0.95:
        channel = "hotline"
        conversation = f"hotline:{rng.getrandbits(48):012x}"
    ticket_id = ids.next("tickets")
    subject = plan.subject or (f"{rule.title_zh} {policy['number']}" if policy else rule.title_zh)
    last = created
    events: list[Row] = []

    def event(kind: str, label: str, actor: int | None, **kw: Any) -> None:
        nonlocal last
        last = last + timedelta(minutes=ri(rng, 5, 300))
        last = min(last, now)
        events.append(
            {
                "id": ids.next("ticket_events"),
                "ticket_id": ticket_id,
                "at": last,
                "actor_id": actor,
                "actor_label": label,
                "kind": kind,
                "from_status": kw.get("from_status"),
                "to_status": kw.get("to_status"),
                "note": kw.get("note"),
                "data": kw.get("data") or {},
            }
        )

    events.append(
        {
            "id": ids.next("ticket_events"),
            "ticket_id": ticket_id,
            "at": created,
            "actor_id": None,
            "actor_label": "assistant",
            "kind": "created",
            "from_status": None,
            "to_status": "open",
            "note": None,
            "data": {},
        }
    )
    docs: list[Row] = []
    if assignee is not None:
        by = supervisor or assignee
        event("assigned", by[1], by[0], data={"assignee": assignee[1]})
        event("status", assignee[1], assignee[0], from_status="open", to_status="in_progress")
        if status == "awaiting_documents":
            try:
                reqs = [d for d in service_requirements(_catalog_key(plan)) if d.required]
            except KeyError:
                reqs = []
            wanted = [d.name for d in reqs[-2:]] or ["身份证明"]
            event(
                "request_documents",
                assignee[1],
                assignee[0],
                from_status="in_progress",
                to_status="awaiting_documents",
                note="请补充材料",
                data={"documents": wanted},
            )
        elif status == "pending_approval":
            try:
                reqs = [d for d in service_requirements(_catalog_key(plan)) if d.required]
            except KeyError:
                reqs = []
            for doc in reqs:
                docs.append(
                    document_row(
                        rng,
                        ids,
                        doc,
                        claim_id=None,
                        ticket_id=ticket_id,
                        when=created.date(),
                        today=now.date(),
                    )
                )
            event(
                "status",
                assignee[1],
                assignee[0],
                from_status="in_progress",
                to_status="pending_approval",
                note="材料已核对,提交复核",
            )
        else:
            event("comment", assignee[1], assignee[0], note="已联系客户,正在处理")
    row: Row = {
        "id": ticket_id,
        "number": plan.number or numbers.issue(rng, now.year),
        "ticket_type": ttype.value,
        "team": rule.team.value,
        "status": status,
        "priority": rule.priority.value,
        "sla_due_at": created + timedelta(hours=rule.sla_hours),
        "subject": subject[:200],
        "customer_id": customer_id,
        "policy_id": policy["id"] if policy else None,
        "claim_id": claim["id"] if claim else None,
        "conversation_id": conversation,
        "channel": channel,
        "payload": plan.payload,
        "assignee_id": assignee[0] if assignee else None,
        "maker_id": assignee[0] if status == "pending_approval" and assignee else None,
        "checker_id": None,
        "requires_checker": rule.requires_checker,
        "resolution": None,
        "closed_at": None,
        "idempotency_key": None,
        "created_at": created,
        "updated_at": last,
    }
    return row, events, docs


def _catalog_key(plan: TicketPlan) -> str:
    if plan.ticket_type == "payment_relief":
        return str(plan.payload.get("option", "premium_deferral"))
    return plan.ticket_type
