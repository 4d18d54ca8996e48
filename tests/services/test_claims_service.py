"""Claims service (real database session) and reading the claim type from what a customer says."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.errors import ClaimNotFound, ClaimTypeMismatch, InvalidInput
from bot.models import Claim, ClaimStatus, ClaimType, Document, LineOfBusiness, Ticket, TicketType
from bot.models.base import utcnow
from bot.services import claims
from tests.factories import make_customer, make_policy, valid_id_number

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 18, 30, tzinfo=SH)  # a Monday


@pytest.fixture
def motor(session):
    holder = make_customer(session, name="张伟")
    policy = make_policy(
        session, holder, number="AU2024000088", line=LineOfBusiness.MOTOR, issue_date=date(2024, 1, 10)
    )
    return holder, policy


def _report(session, holder, policy, **overrides):
    args = dict(
        policy=policy,
        reporter=holder,
        claim_type=ClaimType.MOTOR,
        incident_at=utcnow() - timedelta(days=1),
        place="北京市朝阳区望京西路路口",
        description="等红灯时被后车追尾",
        police_reported=True,
        has_photos=True,
        plate_number="京A8K2J6",
        conversation_id="web:c1",
        idempotency_key="web:c1:claim:x",
    )
    args.update(overrides)
    return claims.report_claim(session, **args)


def test_a_report_creates_one_claim_and_one_claims_ticket_even_when_retried(session, motor):
    holder, policy = motor
    first = _report(session, holder, policy)
    again = _report(session, holder, policy)
    assert first.created and not again.created
    assert again.claim.id == first.claim.id and again.ticket.id == first.ticket.id
    assert first.claim.number.startswith("CL") and len(first.claim.number) == 12
    assert first.claim.number[2:].isdigit()
    assert first.claim.status is ClaimStatus.REPORTED
    assert first.ticket.ticket_type is TicketType.CLAIM and first.ticket.claim_id == first.claim.id
    assert first.ticket.team.value == "claims"
    n_claims = session.scalar(select(func.count(Claim.id)).where(Claim.policy_id == policy.id))
    n_tickets = session.scalar(select(func.count(Ticket.id)).where(Ticket.claim_id == first.claim.id))
    assert (n_claims, n_tickets) == (1, 1)


def test_the_claim_type_must_fit_the_policy_line(session, motor):
    holder, _ = motor
    life = make_policy(session, holder, line=LineOfBusiness.LIFE)
    with pytest.raises(ClaimTypeMismatch):
        _report(session, holder, life, idempotency_key="k2")
    assert claims.policy_fits(life, ClaimType.DEATH) and claims.policy_fits(life, ClaimType.MEDICAL)
    assert not claims.policy_fits(life, ClaimType.ACCIDENT)
    assert [p.number for p in claims.fitting_policies(session, holder, ClaimType.MOTOR)] == ["AU2024000088"]


def test_incident_time_not_in_the_future_nor_before_the_policy(session, motor):
    holder, policy = motor
    with pytest.raises(InvalidInput) as future:
        _report(session, holder, policy, incident_at=utcnow() + timedelta(days=1), idempotency_key="k3")
    assert future.value.context["reason"] == "future"
    with pytest.raises(InvalidInput) as early:
        _report(session, holder, policy, incident_at=datetime(2023, 5, 1, tzinfo=SH), idempotency_key="k4")
    assert early.value.context["reason"] == "before_policy"


def test_missing_documents_follow_the_catalog_and_shrink_as_documents_arrive(session, motor):
    holder, policy = motor
    claim = _report(session, holder, policy).claim
    missing = [d.code for d in claims.missing_documents(claim)]
    assert "police_report" in missing and "accident_statement" not in missing  # police were called
    assert "repair_invoice" not in missing  # optional documents are never "missing"
    session.add(Document(doc_code="police_report", claim_id=claim.id))
    session.flush()
    session.refresh(claim)
    assert "police_report" not in [d.code for d in claims.missing_documents(claim)]
    text = claims.describe_zh(session, claim)
    assert claim.number in text and "已报案" in text and "还需要您提供" in text and "报警回执" not in text
    assert "下一步" in text


def test_without_police_the_accident_statement_is_asked_for(session, motor):
    holder, policy = motor
    claim = _report(session, holder, policy, police_reported=False, idempotency_key="k5").claim
    checklist = claims.checklist_zh(claim)
    assert "事故情况说明" in checklist and "报警回执" not in checklist


def test_status_in_plain_words_and_only_for_the_customer_concerned(session, motor):
    holder, policy = motor
    claim = _report(session, holder, policy).claim
    claim.status = ClaimStatus.PAID
    claim.approved_amount = claim.paid_amount = 5200
    claim.paid_at = utcnow()
    session.flush()
    text = claims.describe_zh(session, claims.get_claim_of(session, holder, claim.number.lower()))
    assert "已赔付" in text and "5,200.00元" in text and "还需要您提供" not in text
    stranger = make_customer(
        session, name="王五", id_number=valid_id_number(date(1990, 1, 1)), mobile="13900000000"
    )
    with pytest.raises(ClaimNotFound):
        claims.get_claim_of(session, stranger, claim.number)
    assert claims.claims_of(session, stranger) == []
    assert [c.number for c in claims.claims_of(session, holder)] == [claim.number]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("车险", ClaimType.MOTOR),
        ("被追尾了", ClaimType.MOTOR),
        ("我的车在小区门口被别人蹭了", ClaimType.MOTOR),
        ("倒车的时候刮花了", ClaimType.MOTOR),
        ("住院", ClaimType.MEDICAL),
        ("医疗", ClaimType.MEDICAL),
        ("查出癌症", ClaimType.CRITICAL_ILLNESS),
        ("重疾", ClaimType.CRITICAL_ILLNESS),
        ("摔伤骨折", ClaimType.ACCIDENT),
        ("我爸去世了", ClaimType.DEATH),
        ("motor", ClaimType.MOTOR),
        ("随便问问", None),
    ],
)
def test_claim_types_from_entity_values_and_free_text(text, expected):
    assert claims.resolve_claim_type(text) is expected
