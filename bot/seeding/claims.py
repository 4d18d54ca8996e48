"""Claims and the documents received for them (codes from the document catalog)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from bot.catalog import DocumentSpec, claim_requirements
from bot.seeding import reference as ref
from bot.seeding.policies import CENT, Ids, Row, at, money
from bot.seeding.rand import pick, ri

CLAIM_STATUSES = ("reported", "documents_pending", "under_review", "approved", "rejected", "paid")
CLAIM_STATUS_WEIGHTS = (10, 20, 15, 10, 10, 35)
OPEN_CLAIM_STATUSES = ("reported", "documents_pending", "under_review")
CONTENT = {"photo": ("jpg", "image/jpeg"), "other": ("pdf", "application/pdf")}


class ClaimNumbers:
    """``CL`` + two-digit year + 8-digit serial; generated serials start at 1000 (demo ones are lower)."""

    def __init__(self) -> None:
        self._serial = 1000

    def issue(self, rng: random.Random, year: int) -> str:
        self._serial += ri(rng, 1, 7)
        return f"CL{year % 100:02d}{self._serial:08d}"


@dataclass
class ClaimPlan:
    claim_type: str
    status: str
    number: str | None = None
    police_reported: bool | None = None
    days_ago: int | None = None
    amount: float | None = None
    received: tuple[str, ...] | None = None  # document codes; None: chosen by status
    description: str | None = None


@lru_cache(maxsize=256)
def _requirements(claim_type: str, conditions: tuple[tuple[str, bool], ...]) -> tuple[DocumentSpec, ...]:
    return tuple(claim_requirements(claim_type, **dict(conditions)))


def claim_type_for(rng: random.Random, line: str, product_kind: str) -> str:
    if line == "motor":
        return "motor"
    if line == "accident":
        return "accident"
    if line == "health":
        return "critical_illness" if product_kind == "ci" else "medical"
    return "death"


def make_claim(
    rng: random.Random,
    ids: Ids,
    numbers: ClaimNumbers,
    *,
    plan: ClaimPlan,
    today: date,
    policy: Row,
    reporter_id: int | None,
    place: str,
) -> tuple[Row, list[Row]]:
    ctype, status = plan.claim_type, plan.status
    effective: date = policy["effective_date"]
    latest = policy["terminated_on"] or today
    open_ = status in OPEN_CLAIM_STATUSES
    days_ago = plan.days_ago if plan.days_ago is not None else ri(rng, 1, 30) if open_ else ri(rng, 20, 400)
    incident_day = max(
        today - timedelta(days=days_ago), effective + timedelta(days=policy["waiting_period_days"])
    )
    incident_day = min(incident_day, latest, today)
    incident_at = at(incident_day, ri(rng, 7, 21), pick(rng, (0, 10, 20, 30, 40, 50)))
    reported_day = min(incident_day + timedelta(days=ri(rng, 0, 3)), today)
    reported_at = at(reported_day, ri(rng, 8, 20), ri(rng, 0, 59))

    police = plan.police_reported
    if police is None:
        police = rng.random() < (0.7 if ctype == "motor" else 0.25 if ctype == "accident" else 0.0)
        if ctype == "death":
            police = False
    hospitalised = ctype in ("medical", "critical_illness") and rng.random() < 0.8
    disability = ctype == "accident" and rng.random() < 0.15
    injured = ctype == "motor" and rng.random() < 0.1
    accidental = ctype == "death" and rng.random() < 0.3
    city = place.split("市", 1)[0] + "市" if "市" in place else place
    hospital = city + pick(rng, ref.HOSPITALS)
    description = plan.description or pick(rng, ref.INCIDENTS[ctype]).format(place=place, hospital=hospital)
    if plan.description is None and ctype in ("medical", "critical_illness", "death"):
        place = hospital

    sum_insured = float(policy["sum_insured"])
    if plan.amount is not None:
        claimed = plan.amount
    elif ctype in ("critical_illness", "death"):
        claimed = sum_insured
    else:
        cap = {"motor": 60_000, "medical": 80_000, "accident": 30_000}[ctype]
        claimed = min(rng.uniform(800, cap), sum_insured)
    claimed_amount = money(claimed)
    approved = paid = None
    paid_at = None
    reason = None
    decided_day = min(reported_day + timedelta(days=ri(rng, 3, 20)), today)
    if status in ("approved", "paid"):
        factor = 1.0 if ctype in ("critical_illness", "death") else rng.uniform(0.7, 1.0)
        approved = money(claimed * factor)
        reason = "材料齐全,属于保险责任,按合同约定赔付"
        if status == "paid":
            paid = approved
            paid_at = at(min(decided_day + timedelta(days=ri(rng, 1, 5)), today), 15, 0)
    elif status == "rejected":
        approved = Decimal(0).quantize(CENT)
        reason = pick(rng, ref.REJECTION_REASONS)

    year = reported_day.year
    claim_id = ids.next("claims")
    row: Row = {
        "id": claim_id,
        "number": plan.number or numbers.issue(rng, year),
        "policy_id": policy["id"],
        "reporter_id": reporter_id,
        "claim_type": ctype,
        "status": status,
        "incident_at": incident_at,
        "incident_place": place,
        "description": description,
        "police_reported": police if ctype in ("motor", "accident", "death") else None,
        "has_photos": (rng.random() < 0.9) if ctype in ("motor", "accident") else None,
        "plate_number": policy["plate_number"] if ctype == "motor" else None,
        "reported_at": reported_at,
        "claimed_amount": claimed_amount,
        "approved_amount": approved,
        "paid_amount": paid,
        "paid_at": paid_at,
        "decision_reason": reason,
        "conversation_id": None,
        "idempotency_key": None,
        "created_at": reported_at,
        "updated_at": paid_at or (at(decided_day, 16) if not open_ else reported_at),
    }

    conditions = (
        ("accidental", accidental),
        ("disability", disability),
        ("hospitalised", hospitalised),
        ("injured", injured),
        ("police_reported", police),
    )
    reqs = _requirements(ctype, conditions)
    required = [d for d in reqs if d.required]
    if plan.received is not None:
        received = [d for d in reqs if d.code in plan.received]
    elif status == "reported":
        received = required[:1] if rng.random() < 0.5 else []
    elif status == "documents_pending":
        missing = ri(rng, 1, min(3, len(required) - 1))
        keep = sorted(rng.sample(range(len(required)), len(required) - missing))
        received = [required[i] for i in keep]
    else:
        received = required + [d for d in reqs if not d.required and rng.random() < 0.3]
    docs = [
        document_row(rng, ids, doc, claim_id=claim_id, ticket_id=None, when=reported_day, today=today)
        for doc in received
    ]
    return row, docs


def document_row(
    rng: random.Random,
    ids: Ids,
    doc: DocumentSpec,
    *,
    claim_id: int | None,
    ticket_id: int | None,
    when: date,
    today: date,
) -> Row:
    ext, content_type = CONTENT["photo"] if doc.form == "photo" or rng.random() < 0.6 else CONTENT["other"]
    day = min(when + timedelta(days=ri(rng, 0, 6)), today)
    return {
        "id": ids.next("documents"),
        "doc_code": doc.code,
        "claim_id": claim_id,
        "ticket_id": ticket_id,
        "file_name": f"{doc.name.split('/')[0]}.{ext}",
        "stored_path": None,  # demo rows describe uploads; no files are written
        "content_type": content_type,
        "size_bytes": ri(rng, 80_000, 4_000_000),
        "sha256": f"{rng.getrandbits(256):064x}",
        "channel": pick(rng, ("web", "telegram", "web")),
        "received_at": at(day, ri(rng, 8, 21), ri(rng, 0, 59)),
    }
