"""Demo data: valid, deterministic, covering every case, with the fixed demo customers, idempotent."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot import catalog
from bot.db import make_engine
from bot.ids import is_valid_id_number
from bot.models import (
    Beneficiary,
    Claim,
    ClaimStatus,
    Customer,
    DebitAttempt,
    Document,
    LineOfBusiness,
    Policy,
    PolicyStatus,
    PremiumDue,
    PremiumStatus,
    StaffRole,
    StaffUser,
    Team,
    Ticket,
    TicketEvent,
    TicketType,
)
from bot.security import hash_password, verify_password
from bot.seeding import (
    DEMO_CUSTOMERS,
    DEMO_PASSWORD,
    DEMO_STAFF,
    data_digest,
    print_demo_info,
    run_seed,
    seed_database,
)
from bot.seeding import reference as ref
from bot.seeding.people import PersonFactory
from bot.services.tickets.rules import OPEN_STATUSES, TICKET_RULES
from bot.text.zh_input import luhn_ok

TODAY = date(2026, 11, 24)
SEED = 4242
N = 60
HASH = hash_password(DEMO_PASSWORD)  # argon2 is slow: once for the module
FAILURE_REASONS = {"余额不足", "账户冻结", "卡片已注销", "卡片已过期", "代扣授权失效", "单日限额不足"}


def seed(session: Session, **kw: object) -> object:
    args: dict[str, object] = {"customers": N, "seed": SEED, "today": TODAY, "password_hash": HASH}
    args.update(kw)
    return seed_database(session, **args)  # type: ignore[arg-type]


def test_seeded_rows_are_valid(session: Session) -> None:
    result = seed(session)
    assert not result.skipped  # type: ignore[attr-defined]
    customers = list(session.scalars(select(Customer)))
    assert len(customers) == N
    assert len({c.id_number for c in customers}) == N
    for c in customers:
        assert is_valid_id_number(c.id_number), c.id_number
        assert re.fullmatch(r"1[3-9]\d{9}", c.mobile)
        assert c.gender == ("M" if int(c.id_number[16]) % 2 else "F")
        assert c.address and re.search(r"[市区].*号", c.address)
    assert any(c.email for c in customers) and not all(c.email for c in customers)

    for b in session.scalars(select(Beneficiary)):
        assert is_valid_id_number(b.id_number)
        assert isinstance(b.share_pct, Decimal)
    totals: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for b in session.scalars(select(Beneficiary)):
        totals[(b.policy_id, b.order)] += b.share_pct
    assert totals and all(total == Decimal(100) for total in totals.values())

    policies = list(session.scalars(select(Policy)))
    assert len({p.number for p in policies}) == len(policies)
    for p in policies:
        assert re.fullmatch(r"(LF|HE|AC|AU)\d{4}\d{6}", p.number)
        assert p.number[:2] == p.line.prefix
        assert isinstance(p.premium, Decimal) and isinstance(p.sum_insured, Decimal)
        assert p.premium > 0 and p.sum_insured > 0
        assert (p.plate_number is not None) == (p.line is LineOfBusiness.MOTOR)
        if p.line is LineOfBusiness.LIFE:
            assert p.beneficiaries, p.number
        if p.bank_account:
            assert p.bank_name and p.bank_account.isdigit() and 16 <= len(p.bank_account) <= 19
            assert luhn_ok(p.bank_account), p.bank_account
    assert any(p.policyholder_id != p.insured_id for p in policies)

    for claim in session.scalars(select(Claim)):
        assert re.fullmatch(r"CL\d{10}", claim.number)
        assert claim.description and claim.incident_place
        assert claim.claimed_amount is None or isinstance(claim.claimed_amount, Decimal)
        if claim.status is ClaimStatus.PAID:
            assert claim.paid_amount and claim.paid_at
    for ticket in session.scalars(select(Ticket)):
        assert re.fullmatch(r"TK\d{10}", ticket.number)
    for premium in session.scalars(select(PremiumDue)):
        assert isinstance(premium.amount, Decimal)


def test_every_status_line_and_role_is_covered(session: Session) -> None:
    seed(session)
    assert set(session.scalars(select(Policy.status).distinct())) == set(PolicyStatus)
    assert set(session.scalars(select(Policy.line).distinct())) == set(LineOfBusiness)
    assert set(session.scalars(select(Claim.status).distinct())) == set(ClaimStatus)
    assert set(session.scalars(select(StaffUser.role).distinct())) == set(StaffRole)
    processor_teams = set(
        session.scalars(select(StaffUser.team).where(StaffUser.role == StaffRole.PROCESSOR))
    )
    assert processor_teams == set(Team)
    ticket_types = set(session.scalars(select(Ticket.ticket_type).distinct()))
    assert len(ticket_types) >= 6 and TicketType.BENEFICIARY_CHANGE in ticket_types


def test_premium_schedule_matches_the_policy_status(session: Session) -> None:
    seed(session)
    rows = session.execute(select(PremiumDue, Policy).join(Policy, PremiumDue.policy_id == Policy.id)).all()
    unpaid = (PremiumStatus.PENDING, PremiumStatus.FAILED)
    upcoming = [d for d, _ in rows if d.status in unpaid and 0 <= (d.due_date - TODAY).days <= 60]
    assert upcoming, "no premium due in the next 60 days"
    assert any(d.status is PremiumStatus.PAID and d.due_date < TODAY for d, _ in rows)

    overdue_by_policy: dict[int, list[PremiumDue]] = defaultdict(list)
    for d, _ in rows:
        if d.status in unpaid and d.due_date < TODAY:
            overdue_by_policy[d.policy_id].append(d)
    policies = {p.id: p for p in session.scalars(select(Policy))}
    in_grace = past_grace = 0
    for policy_id, dues in overdue_by_policy.items():
        oldest = min(d.due_date for d in dues)
        status = policies[policy_id].status
        if (TODAY - oldest).days < 60:
            assert status is PolicyStatus.GRACE_PERIOD
            in_grace += 1
        else:
            assert status is PolicyStatus.LAPSED
            past_grace += 1
    assert in_grace and past_grace
    for p in policies.values():
        if p.status in (PolicyStatus.IN_FORCE, PolicyStatus.COOLING_OFF):
            assert p.id not in overdue_by_policy, p.number
        if p.status is PolicyStatus.GRACE_PERIOD:
            assert p.id in overdue_by_policy, p.number
        if p.status is PolicyStatus.LAPSED:
            assert p.lapsed_on is not None
        if p.status is PolicyStatus.TERMINATED:
            assert p.terminated_on and p.termination_reason
    lapsed = [p for p in policies.values() if p.status is PolicyStatus.LAPSED]
    assert lapsed
    assert any((TODAY - p.lapsed_on).days < 730 for p in lapsed if p.lapsed_on)
    assert any((TODAY - p.lapsed_on).days > 730 for p in lapsed if p.lapsed_on)

    failed = list(session.scalars(select(DebitAttempt).where(DebitAttempt.succeeded.is_(False))))
    assert failed and {a.failure_reason for a in failed} <= FAILURE_REASONS
    assert len({a.failure_reason for a in failed}) >= 2
    assert (
        session.scalar(select(func.count()).select_from(DebitAttempt).where(DebitAttempt.succeeded)) or 0
    ) > 0


def test_claim_documents_come_from_the_catalog_and_some_are_missing(session: Session) -> None:
    seed(session)
    claims = list(session.scalars(select(Claim)))
    received: dict[int, set[str]] = defaultdict(set)
    for doc in session.scalars(select(Document).where(Document.claim_id.is_not(None))):
        assert doc.claim_id is not None
        received[doc.claim_id].add(doc.doc_code)
    some_missing = False
    for claim in claims:
        reqs = catalog.claim_requirements(claim.claim_type, police_reported=claim.police_reported)
        known = {d.code for d in catalog.entry(claim.claim_type.value).documents}
        assert received[claim.id] <= known
        missing = catalog.missing_documents(reqs, received[claim.id])
        if claim.status is ClaimStatus.DOCUMENTS_PENDING:
            assert missing, claim.number
            assert received[claim.id], claim.number
            some_missing = True
        if claim.status in (ClaimStatus.UNDER_REVIEW, ClaimStatus.APPROVED, ClaimStatus.PAID):
            # everything unconditionally required is in
            assert not [d for d in missing if d.condition is None], claim.number
    assert some_missing


def test_tickets_follow_the_ticket_rules(session: Session) -> None:
    seed(session)
    tickets = list(session.scalars(select(Ticket)))
    assert tickets
    for t in tickets:
        rule = TICKET_RULES[t.ticket_type]
        assert t.team is rule.team
        assert t.requires_checker is rule.requires_checker
        assert t.sla_due_at - t.created_at == timedelta(hours=rule.sla_hours)
        assert t.status in OPEN_STATUSES
        kinds = [e.kind for e in t.events]
        assert kinds[0] == "created"
        if t.assignee_id is not None:
            assignee = session.get(StaffUser, t.assignee_id)
            assert assignee is not None and assignee.team is t.team
        if t.ticket_type is TicketType.BENEFICIARY_CHANGE:
            rows = t.payload["after"]
            assert sum(Decimal(r["share_pct"]) for r in rows) == 100
            assert all(is_valid_id_number(r["id_number"]) for r in rows)
            assert t.policy_id is not None
    assert (session.scalar(select(func.count()).select_from(TicketEvent)) or 0) > len(tickets)


def test_fixed_demo_customers_are_there_whatever_the_seed(session: Session) -> None:
    def demo_snapshot() -> list[tuple[object, ...]]:
        out: list[tuple[object, ...]] = []
        for c in DEMO_CUSTOMERS:
            customer = session.scalars(select(Customer).where(Customer.id_number == c.id_number)).one()
            assert customer.name == c.name and customer.mobile == c.mobile
            for p in c.policies:
                policy = session.scalars(select(Policy).where(Policy.number == p.number)).one()
                assert policy.policyholder_id == customer.id
                assert policy.status.value == p.status, p.number
                out.append((p.number, policy.status.value, policy.issue_date, policy.premium,
                            [(d.due_date, d.status.value) for d in policy.premiums]))  # fmt: skip
            for number in c.claims:
                claim = session.scalars(select(Claim).where(Claim.number == number)).one()
                out.append((number, claim.status.value, claim.claimed_amount))
            for number in c.tickets:
                ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
                assert ticket.customer_id == customer.id
                out.append((number, ticket.ticket_type.value, ticket.status.value))
        return out

    sp = session.begin_nested()
    seed(session)
    first = demo_snapshot()
    sp.rollback()
    session.expire_all()
    sp = session.begin_nested()
    seed(session, seed=99, customers=25)
    assert demo_snapshot() == first
    sp.rollback()


def test_demo_customers_offer_every_flow(session: Session) -> None:
    seed(session)

    def policy(number: str) -> Policy:
        return session.scalars(select(Policy).where(Policy.number == number)).one()

    life = policy("LF2023000123")
    assert life.status is PolicyStatus.IN_FORCE and sum(b.share_pct for b in life.beneficiaries) == 100
    car = policy("AU2024000088")
    assert car.plate_number == "京A8K2J6"
    claim = session.scalars(select(Claim).where(Claim.number == "CL2600000088")).one()
    assert claim.status is ClaimStatus.DOCUMENTS_PENDING and claim.policy_id == car.id
    missing = catalog.missing_documents(
        catalog.claim_requirements(claim.claim_type, police_reported=claim.police_reported),
        {d.doc_code for d in claim.documents},
    )
    assert "police_report" in {d.code for d in missing}
    ticket = session.scalars(select(Ticket).where(Ticket.number == "TK2600000123")).one()
    assert ticket.ticket_type is TicketType.BENEFICIARY_CHANGE and ticket.policy_id == life.id
    assert ticket.status in OPEN_STATUSES

    assert policy("HE2025000456").status is PolicyStatus.COOLING_OFF
    due = [d for d in policy("HE2024000321").premiums if d.due_date >= TODAY]
    assert len(due) == 1 and 5 <= (due[0].due_date - TODAY).days <= 9
    assert due[0].status is PremiumStatus.FAILED
    assert due[0].debit_attempts[-1].failure_reason == "余额不足"

    grace = policy("LF2021000234")
    assert grace.status is PolicyStatus.GRACE_PERIOD
    lapsed = policy("LF2020000567")
    assert lapsed.status is PolicyStatus.LAPSED and lapsed.lapsed_on is not None
    assert (TODAY - lapsed.lapsed_on).days < 730

    paid = session.scalars(select(Claim).where(Claim.number == "CL2600000345")).one()
    assert paid.status is ClaimStatus.PAID and paid.paid_amount and paid.paid_amount > 0
    assert paid.policy_id == policy("AC2024000345").id


def test_same_seed_and_day_give_identical_rows(session: Session) -> None:
    digests = []
    for s in (SEED, SEED, SEED + 1):
        sp = session.begin_nested()
        seed(session, seed=s)
        digests.append(data_digest(session))
        sp.rollback()
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


def test_second_run_without_force_leaves_the_data_alone(session: Session) -> None:
    seed(session)
    before = data_digest(session)
    again = seed(session, seed=SEED + 5, customers=30)
    assert again.skipped  # type: ignore[attr-defined]
    assert data_digest(session) == before
    forced = seed(session, force=True)
    assert not forced.skipped  # type: ignore[attr-defined]
    assert data_digest(session) == before  # wiped and regenerated the same


def test_staff_can_log_in_with_the_demo_password(session: Session) -> None:
    seed(session)
    users = {u.username: u for u in session.scalars(select(StaffUser))}
    for s in DEMO_STAFF:
        assert s.username in users
        assert users[s.username].role.value == s.role
    for name in ("agent1", "claims1", "service1", "service2", "renewals1", "reviewer1", "supervisor1"):
        assert verify_password(users[name].password_hash, DEMO_PASSWORD)


def test_new_rows_after_seeding_get_fresh_ids(session: Session) -> None:
    seed(session)
    highest = session.scalar(select(func.max(Customer.id)))
    extra = Customer(name="测试", id_number="11010519491231002X", gender="F", birth_date=date(1949, 12, 31),
                     mobile="13800000000")  # fmt: skip
    session.add(extra)
    session.flush()
    assert highest is not None and extra.id > highest


def test_run_seed_command_seeds_then_skips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import upgrade

    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        upgrade(engine)
        assert run_seed(customers=20, seed=1, today=TODAY, engine=engine) == 0
        out = capsys.readouterr().out
        assert "演示数据已生成" in out and "customers 20" in out
        assert run_seed(customers=20, seed=1, today=TODAY, engine=engine) == 0
        assert "已有客户数据" in capsys.readouterr().out
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Customer)) == 20
    finally:
        engine.dispose()


def test_demo_info_lists_the_demo_logins(capsys: pytest.CaptureFixture[str]) -> None:
    print_demo_info()
    out = capsys.readouterr().out
    for c in DEMO_CUSTOMERS:
        assert c.name in out and c.id_number[-6:] in out
        assert c.id_number not in out  # only the last six
        for p in c.policies:
            assert p.number in out
    assert DEMO_PASSWORD in out and "supervisor1" in out


def test_timestamps_are_timezone_aware(session: Session) -> None:
    seed(session)
    ticket = session.scalars(select(Ticket)).first()
    assert ticket is not None and ticket.created_at.tzinfo is not None
    assert ticket.created_at <= datetime.combine(TODAY, datetime.min.time(), tzinfo=timezone.utc) + timedelta(
        days=1
    )


def test_seeded_card_numbers_keep_their_bank_bin_and_length_and_pass_luhn() -> None:
    banks = {name: (bin_, length) for name, bin_, length in ref.BANKS}
    draws = [PersonFactory.bank(random.Random(7)) for _ in range(2)]
    assert draws[0] == draws[1]  # deterministic for a given stream
    rng = random.Random(SEED)
    for _ in range(500):
        name, number = PersonFactory.bank(rng)
        bin_, length = banks[name]
        assert number.startswith(bin_) and len(number) == length and luhn_ok(number), number
