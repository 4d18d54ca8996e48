"""Claims: reporting (idempotent, with a claims-team ticket), status in plain Chinese, the
documents still missing (from the document catalog) and the next step."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot import catalog
from bot.clock import local_date
from bot.errors import ClaimNotFound, ClaimTypeMismatch, InvalidInput
from bot.ids import normalize_claim_number
from bot.labels_zh import CLAIM_NEXT_STEP_ZH, CLAIM_PROGRESS_ZH, CLAIM_TYPE_ZH
from bot.models import (
    Claim,
    ClaimStatus,
    ClaimType,
    Customer,
    LineOfBusiness,
    Policy,
    Ticket,
    TicketType,
)
from bot.models.base import utcnow
from bot.services import audit
from bot.services.tickets.create import create_ticket
from bot.text.claim_answers import claim_type_from_cues

# Which lines of business can carry which claim (health riders on life policies count).
CLAIM_LINES: dict[ClaimType, frozenset[LineOfBusiness]] = {
    ClaimType.MOTOR: frozenset({LineOfBusiness.MOTOR}),
    ClaimType.MEDICAL: frozenset({LineOfBusiness.HEALTH, LineOfBusiness.LIFE}),
    ClaimType.CRITICAL_ILLNESS: frozenset({LineOfBusiness.HEALTH, LineOfBusiness.LIFE}),
    ClaimType.ACCIDENT: frozenset({LineOfBusiness.ACCIDENT}),
    ClaimType.DEATH: frozenset({LineOfBusiness.LIFE, LineOfBusiness.ACCIDENT}),
}
OPEN_CLAIM_STATUSES = (ClaimStatus.REPORTED, ClaimStatus.DOCUMENTS_PENDING, ClaimStatus.UNDER_REVIEW)
FUTURE_TOLERANCE = timedelta(minutes=10)


@dataclass(frozen=True)
class ClaimReport:
    claim: Claim
    ticket: Ticket
    created: bool


def claim_type_zh(claim_type: ClaimType) -> str:
    return CLAIM_TYPE_ZH[claim_type]


def resolve_claim_type(text: str | None) -> ClaimType | None:
    """A claim type from an entity value (车险/医疗/…), a catalog key, or a free-text cue (追尾, 住院)."""
    if not text:
        return None
    value = str(text).strip()
    try:
        return ClaimType(value.lower())
    except ValueError:
        pass
    key = catalog.resolve_business_type(value)
    if key:
        try:
            return ClaimType(key)
        except ValueError:
            pass
    return claim_type_from_cues(value)


def policy_fits(policy: Policy, claim_type: ClaimType) -> bool:
    return policy.line in CLAIM_LINES[claim_type]


def fitting_policies(session: Session, customer: Customer, claim_type: ClaimType) -> list[Policy]:
    """The customer's own policies (as holder or insured) that can carry this claim type."""
    policies = session.scalars(
        select(Policy)
        .where(or_(Policy.policyholder_id == customer.id, Policy.insured_id == customer.id))
        .order_by(Policy.effective_date.desc())
    )
    return [p for p in policies if policy_fits(p, claim_type)]


def check_incident_time(policy: Policy | None, at: datetime, now: datetime | None = None) -> None:
    """Not in the future, not before the policy took effect (InvalidInput otherwise)."""
    now = now or utcnow()
    if at > now + FUTURE_TOLERANCE:
        raise InvalidInput("incident in the future", reason="future")
    if policy is not None and local_date(at) < policy.effective_date:
        raise InvalidInput(
            "incident before the policy took effect",
            reason="before_policy",
            effective_date=policy.effective_date.isoformat(),
        )


def new_claim_number(session: Session) -> str:
    """``CL`` + 10 digits: the year's last two digits and 8 random digits, unique."""
    year = utcnow().year % 100
    while True:
        number = f"CL{year:02d}{secrets.randbelow(10**8):08d}"
        if session.scalars(select(Claim.id).where(Claim.number == number)).first() is None:
            return number


def report_key(
    conversation_id: str,
    policy: Policy,
    claim_type: ClaimType,
    incident_at: datetime,
    place: str,
    description: str,
) -> str:
    """One key per reported incident in a conversation: a retry or a double submit finds the claim."""
    digest = hashlib.sha256(
        "|".join(
            [policy.number, claim_type.value, incident_at.isoformat(), place.strip(), description.strip()]
        ).encode("utf-8")
    ).hexdigest()[:24]
    return f"{conversation_id}:claim:{digest}"[:200]


def report_claim(
    session: Session,
    *,
    policy: Policy,
    reporter: Customer,
    claim_type: ClaimType,
    incident_at: datetime,
    place: str,
    description: str,
    police_reported: bool | None,
    has_photos: bool | None,
    plate_number: str | None = None,
    conversation_id: str | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> ClaimReport:
    """Register a claim and its claims-team ticket; a retry with the same key returns them."""
    if idempotency_key:
        existing = session.scalars(select(Claim).where(Claim.idempotency_key == idempotency_key)).first()
        if existing is not None:
            ticket = session.scalars(
                select(Ticket).where(Ticket.claim_id == existing.id, Ticket.ticket_type == TicketType.CLAIM)
            ).first()
            if ticket is None:
                ticket = _claim_ticket(session, existing, conversation_id, idempotency_key, now)
            return ClaimReport(existing, ticket, False)
    if not policy_fits(policy, claim_type):
        raise ClaimTypeMismatch(policy=policy.number, claim_type=claim_type.value)
    check_incident_time(policy, incident_at, now)
    now = now or utcnow()
    claim = Claim(
        number=new_claim_number(session),
        policy_id=policy.id,
        reporter_id=reporter.id,
        claim_type=claim_type,
        status=ClaimStatus.REPORTED,
        incident_at=incident_at,
        incident_place=place.strip()[:255],
        description=description.strip(),
        police_reported=police_reported,
        has_photos=has_photos,
        plate_number=plate_number if claim_type is ClaimType.MOTOR else None,
        reported_at=now,
        conversation_id=conversation_id,
        idempotency_key=idempotency_key,
    )
    session.add(claim)
    session.flush()
    ticket = _claim_ticket(session, claim, conversation_id, idempotency_key, now)
    audit.record(
        session,
        actor="assistant",
        action="claim.reported",
        object_type="claim",
        object_id=claim.number,
        customer_id=reporter.id,
        after={"claim_type": claim_type.value, "policy": policy.number, "ticket": ticket.number},
    )
    return ClaimReport(claim, ticket, True)


def _claim_ticket(
    session: Session, claim: Claim, conversation_id: str | None, key: str | None, now: datetime | None
) -> Ticket:
    ticket, _ = create_ticket(
        session,
        ticket_type=TicketType.CLAIM,
        subject=f"{claim_type_zh(claim.claim_type)}报案 {claim.number}",
        customer_id=claim.reporter_id,
        policy_id=claim.policy_id,
        claim_id=claim.id,
        conversation_id=conversation_id,
        payload={
            "claim_number": claim.number,
            "claim_type": claim.claim_type.value,
            "police_reported": claim.police_reported,
            "has_photos": claim.has_photos,
        },
        idempotency_key=f"{key}:ticket"[:200] if key else None,
        now=now,
    )
    return ticket


def requirements(claim: Claim) -> list[catalog.DocumentSpec]:
    return catalog.claim_requirements(claim.claim_type, police_reported=claim.police_reported)


def received_codes(claim: Claim) -> set[str]:
    return {d.doc_code for d in claim.documents}


def missing_documents(claim: Claim) -> list[catalog.DocumentSpec]:
    return catalog.missing_documents(requirements(claim), received_codes(claim))


def checklist_zh(claim: Claim) -> str:
    """The documents still to send, one a line (already received ones are left out)."""
    missing = missing_documents(claim)
    if not missing:
        return "必交材料已全部收到。"
    lines = []
    for doc in missing:
        line = f"□ {doc.name}({doc.form_zh})"
        if doc.note:
            line += f"—{doc.note}"
        lines.append(line)
    return "\n".join(lines)


def next_steps_zh(claim: Claim) -> str:
    return catalog.entry(claim.claim_type.value).next_steps


def get_claim_of(session: Session, customer: Customer, number: str) -> Claim:
    """The claim with this number if it concerns the customer (reporter, holder or insured)."""
    normalized = normalize_claim_number(number) or number.strip().upper()
    claim = session.scalars(select(Claim).where(Claim.number == normalized)).first()
    if claim is None or not _concerns(session, claim, customer):
        raise ClaimNotFound(claim_number=normalized)
    return claim


def _concerns(session: Session, claim: Claim, customer: Customer) -> bool:
    if claim.reporter_id == customer.id:
        return True
    policy = session.get(Policy, claim.policy_id)
    return policy is not None and customer.id in (policy.policyholder_id, policy.insured_id)


def claims_of(session: Session, customer: Customer) -> list[Claim]:
    policy_ids = select(Policy.id).where(
        or_(Policy.policyholder_id == customer.id, Policy.insured_id == customer.id)
    )
    return list(
        session.scalars(
            select(Claim)
            .where(or_(Claim.reporter_id == customer.id, Claim.policy_id.in_(policy_ids)))
            .order_by(Claim.reported_at.desc())
        )
    )


def _day(value: datetime | date) -> str:
    if isinstance(value, datetime):
        value = local_date(value)
    return f"{value:%Y年%m月%d日}"


def describe_zh(session: Session, claim: Claim) -> str:
    """A plain-Chinese status card: what, where it stands, what is missing, what happens next."""
    policy = session.get(Policy, claim.policy_id)
    lines = [
        f"理赔案号:{claim.number}({claim_type_zh(claim.claim_type)},报案日期{_day(claim.reported_at)})",
        f"关联保单:{policy.number if policy else ''}",
        f"当前进度:{CLAIM_PROGRESS_ZH[claim.status]}",
    ]
    if claim.status is ClaimStatus.REJECTED and claim.decision_reason:
        lines.append(f"原因:{claim.decision_reason}")
    if claim.status in (ClaimStatus.APPROVED, ClaimStatus.PAID) and claim.approved_amount is not None:
        lines.append(f"核定赔付金额:{claim.approved_amount:,.2f}元")
    if claim.status is ClaimStatus.PAID and claim.paid_at is not None:
        lines.append(f"到账日期:{_day(claim.paid_at)}")
    if claim.status in (ClaimStatus.REPORTED, ClaimStatus.DOCUMENTS_PENDING):
        missing = missing_documents(claim)
        if missing:
            lines.append("还需要您提供:" + "、".join(d.label for d in missing))
    lines.append(f"下一步:{CLAIM_NEXT_STEP_ZH[claim.status]}")
    return "\n".join(lines)
