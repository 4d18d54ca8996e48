"""Generates the demo rows in chunks of customers (households), deterministic for a seed and a day."""

from __future__ import annotations

import itertools
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from bot.seeding import demo
from bot.seeding import reference as ref
from bot.seeding.claims import (
    CLAIM_STATUS_WEIGHTS,
    CLAIM_STATUSES,
    ClaimNumbers,
    ClaimPlan,
    claim_type_for,
    make_claim,
)
from bot.seeding.people import IdNumbers, Person, PersonFactory
from bot.seeding.policies import (
    CENT,
    Held,
    Ids,
    PolicyNumbers,
    PolicyPlan,
    Row,
    at,
    make_policy,
    pick_variant,
    split_shares,
)
from bot.seeding.rand import pick, ri, wpick
from bot.seeding.ticket_plans import ticket_plan
from bot.seeding.tickets import TicketNumbers, make_ticket

# Insert order (foreign keys): every chunk is written table by table in this order.
TABLES = (
    "customers",
    "policies",
    "beneficiaries",
    "premium_schedule",
    "debit_attempts",
    "claims",
    "tickets",
    "ticket_events",
    "documents",
)
LINES = ("life", "health", "accident", "motor")
LINE_WEIGHTS = (30, 32, 18, 20)
LINE_CUM = tuple(itertools.accumulate(LINE_WEIGHTS))

# The first generated policies walk through every line and status, and the first eligible ones get
# a claim in every status, so even a small seed covers every case.
POLICY_COVERAGE: tuple[tuple[str, str, int | None, str | None], ...] = (
    ("life", "in_force", 0, None),
    ("life", "cooling_off", 0, None),
    ("life", "grace_period", 0, None),
    ("life", "lapsed_recent", 1, None),
    ("life", "lapsed_old", 0, None),
    ("life", "terminated", 0, "death"),
    ("life", "terminated", 1, "surrender"),
    ("health", "in_force", 0, None),
    ("health", "cooling_off", 0, None),
    ("health", "grace_period", 1, None),
    ("health", "lapsed_recent", 1, None),
    ("health", "terminated", 0, "matured"),
    ("accident", "in_force", 0, None),
    ("accident", "terminated", 0, "matured"),
    ("motor", "in_force", 0, None),
    ("motor", "terminated", 0, "matured"),
    ("life", "terminated", 3, "cooling_off"),
)
CLAIM_COVERAGE = CLAIM_STATUSES
TICKET_COVERAGE = (
    "beneficiary_change",
    "contact_change",
    "payment_account_change",
    "surrender",
    "reinstatement",
    "payment_relief",
    "payment_issue",
    "complaint",
    "claim",
    "cooling_off_cancellation",
    "human_handover",
)
TICKET_RATE = 0.012
CLAIM_RATE = 0.05

CLAIM_STATUS_CUM = tuple(itertools.accumulate(CLAIM_STATUS_WEIGHTS))


@dataclass
class Rows:
    tables: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in TABLES})

    def add(self, table: str, rows: list[Row] | Row) -> None:
        if isinstance(rows, dict):
            self.tables[table].append(rows)
        else:
            self.tables[table].extend(rows)

    def count(self) -> int:
        return sum(len(v) for v in self.tables.values())


class Generator:
    def __init__(
        self,
        *,
        seed: int,
        today: date,
        id_start: dict[str, int],
        staff: dict[str, list[tuple[int, str]]],
        supervisor: tuple[int, str] | None,
    ) -> None:
        self.seed = seed
        self.today = today
        self.now: datetime = at(today, 0, 5)
        self.ids = Ids(id_start)
        self.people = PersonFactory(IdNumbers(reserved=set(demo.DEMO_ID_NUMBERS)))
        self.policy_numbers = PolicyNumbers()
        self.claim_numbers = ClaimNumbers()
        self.ticket_numbers = TicketNumbers()
        self.staff = staff
        self.supervisor = supervisor
        self.policy_coverage = deque(POLICY_COVERAGE)
        self.claim_coverage = deque(CLAIM_COVERAGE)
        self.ticket_coverage = deque(TICKET_COVERAGE)

    # ------------------------------------------------------------ customers
    def customer_row(
        self, rng: random.Random, person: Person, *, mobile: str, address: str, email: str | None
    ) -> Row:
        created = at(self.today - timedelta(days=ri(rng, 30, 3650)), 9, ri(rng, 0, 59))
        return {
            "id": self.ids.next("customers"),
            "name": person.name,
            "id_number": person.id_number,
            "gender": person.gender,
            "birth_date": person.birth_date,
            "mobile": mobile,
            "email": email,
            "address": address,
            "reminders_enabled": rng.random() < 0.9,
            "created_at": created,
            "updated_at": created,
        }

    def chunk(self, index: int, count: int) -> Rows:
        """``count`` customers (a few households share a chunk boundary never: sizes are exact)."""
        rng = random.Random(f"{self.seed}/{index}")  # noqa: S311 - demo data, not secrets
        rows = Rows()
        made = 0
        while made < count:
            made += self.household(rng, rows, room=count - made)
        return rows

    def household(self, rng: random.Random, rows: Rows, *, room: int) -> int:
        today = self.today
        primary = self.people.person(rng, today=today, age=(24, 66))
        address = self.people.address(rng)
        mobile = self.people.mobile(rng)
        email = self.people.email(rng, primary.birth_date) if rng.random() < 0.45 else None
        p_row = self.customer_row(rng, primary, mobile=mobile, address=address, email=email)
        rows.add("customers", p_row)
        made = 1
        spouse_row = child_row = None
        spouse = child = None
        if room - made >= 1 and rng.random() < 0.3:
            s_gender = "F" if primary.gender == "M" else "M"
            age = max(22, (today - primary.birth_date).days // 365 + ri(rng, -4, 4))
            spouse = self.people.person(rng, today=today, gender=s_gender, age=(age, age))
            spouse_row = self.customer_row(
                rng, spouse, mobile=self.people.mobile(rng), address=address, email=None
            )
            rows.add("customers", spouse_row)
            made += 1
        primary_age = (today - primary.birth_date).days // 365
        if room - made >= 1 and primary_age >= 30 and rng.random() < 0.2:
            father = primary if primary.gender == "M" else spouse
            surname = father.surname if father else None
            child = self.people.person(rng, today=today, age=(1, min(17, primary_age - 22)), surname=surname)
            child_row = self.customer_row(rng, child, mobile=mobile, address=address, email=None)
            rows.add("customers", child_row)
            made += 1

        bank = self.people.bank(rng) if rng.random() < 0.9 else None
        held: list[Held] = []
        n_policies = 1 + (rng.random() < 0.5) + (rng.random() < 0.2)
        for _ in range(n_policies):
            plan = self._policy_plan(rng)
            insured_row, insured = p_row, primary
            if plan.line in ("life", "health", "accident") and plan.line != "motor":
                roll = rng.random()
                if child_row is not None and child is not None and roll < 0.25 and plan.line != "life":
                    insured_row, insured = child_row, child
                elif spouse_row is not None and spouse is not None and roll > 0.8:
                    insured_row, insured = spouse_row, spouse
            bens = self._beneficiaries(rng, insured, spouse if insured is primary else primary, child)
            result = make_policy(
                rng,
                self.ids,
                self.policy_numbers,
                plan=plan,
                today=today,
                holder_id=p_row["id"],
                insured_id=insured_row["id"],
                insured_birth=insured.birth_date,
                bank=bank,
                plate=self.people.plate(rng) if plan.line == "motor" else None,
                beneficiaries=bens,
            )
            held.append(Held(result))
        if spouse_row is not None and spouse is not None and rng.random() < 0.5:
            plan = self._policy_plan(rng)
            s_bank = self.people.bank(rng) if rng.random() < 0.9 else None
            bens = self._beneficiaries(rng, spouse, primary, child)
            result = make_policy(
                rng,
                self.ids,
                self.policy_numbers,
                plan=plan,
                today=today,
                holder_id=spouse_row["id"],
                insured_id=spouse_row["id"],
                insured_birth=spouse.birth_date,
                bank=s_bank,
                plate=self.people.plate(rng) if plan.line == "motor" else None,
                beneficiaries=bens,
            )
            held.append(Held(result))

        for h in held:
            rows.add("policies", h.result.row)
            rows.add("beneficiaries", h.result.beneficiaries)
            rows.add("premium_schedule", h.result.premiums)
            rows.add("debit_attempts", h.result.attempts)
            self._claims(rng, rows, h)
        self._ticket(rng, rows, p_row, held, primary)
        return made

    def _policy_plan(self, rng: random.Random) -> PolicyPlan:
        if self.policy_coverage:
            line, variant, product, termination = self.policy_coverage.popleft()
            return PolicyPlan(line=line, variant=variant, product=product, termination=termination)
        line = wpick(rng, LINES, LINE_CUM)
        variant = pick_variant(rng)
        if line in ("accident", "motor") and variant != "terminated":
            variant = "in_force" if rng.random() < 0.97 else "cooling_off"
        return PolicyPlan(line=line, variant=variant)

    def _beneficiaries(
        self, rng: random.Random, insured: Person, partner: Person | None, child: Person | None
    ) -> list[tuple[str, str, str, Decimal, int]]:
        people: list[tuple[str, str, str]] = []
        if partner is not None:
            people.append((partner.name, "配偶", partner.id_number))
        if child is not None and child is not insured:
            people.append((child.name, "子女", child.id_number))
        while len(people) < pick(rng, (1, 1, 2, 2, 3)):
            rel = pick(rng, ("配偶", "子女", "子女", "父母", "兄弟姐妹"))
            age = {"配偶": (25, 60), "子女": (1, 30), "父母": (50, 85), "兄弟姐妹": (20, 60)}[rel]
            other = self.people.person(rng, today=self.today, age=age)
            people.append((other.name, rel, other.id_number))
        out = [
            (n, r, i, share, 1)
            for (n, r, i), share in zip(people, split_shares(rng, len(people)), strict=True)
        ]
        if rng.random() < 0.2:  # a second order: the parents
            parent = self.people.person(rng, today=self.today, age=(55, 85))
            out.append((parent.name, "父母", parent.id_number, Decimal(100).quantize(CENT), 2))
        return out

    # ------------------------------------------------------------ claims
    def _incident_place(self, rng: random.Random) -> str:
        """A district and a street (not the home address): 杭州市西湖区文化路."""
        _code, _province, city, district, _w = self.people.area(rng)
        return f"{city}{district}{pick(rng, ref.STREETS)}"

    def _claims(self, rng: random.Random, rows: Rows, h: Held) -> None:
        policy = h.result.row
        waiting_end = policy["effective_date"] + timedelta(days=policy["waiting_period_days"] + 2)
        if waiting_end >= self.today:
            return
        plans: list[ClaimPlan] = []
        ctype = claim_type_for(rng, policy["line"], h.result.product_kind)
        if policy["termination_reason"] and policy["termination_reason"].startswith("被保险人身故"):
            plans.append(
                ClaimPlan("death", "paid", days_ago=(self.today - policy["terminated_on"]).days + 10)
            )
        elif policy["status"] in ("in_force", "grace_period") and ctype != "death":
            if self.claim_coverage:
                plans.append(ClaimPlan(ctype, self.claim_coverage.popleft()))
            elif rng.random() < CLAIM_RATE:
                plans.append(ClaimPlan(ctype, wpick(rng, CLAIM_STATUSES, CLAIM_STATUS_CUM)))
        elif policy["status"] == "in_force" and rng.random() < CLAIM_RATE / 10:
            plans.append(ClaimPlan("death", pick(rng, ("reported", "documents_pending", "under_review"))))
        for plan in plans:
            holder = policy["policyholder_id"]
            # a death claim is reported by a beneficiary, not by the insured policyholder
            reporter = None if plan.claim_type == "death" and policy["insured_id"] == holder else holder
            claim, docs = make_claim(
                rng,
                self.ids,
                self.claim_numbers,
                plan=plan,
                today=self.today,
                policy=policy,
                reporter_id=reporter,
                place=self._incident_place(rng),
            )
            rows.add("claims", claim)
            rows.add("documents", docs)
            h.claims.append(claim)

    # ------------------------------------------------------------ tickets
    def _ticket(
        self, rng: random.Random, rows: Rows, customer: Row, held: list[Held], person: Person
    ) -> None:
        built = None
        for wanted in list(self.ticket_coverage):  # the kinds not seeded yet, first that fits
            built = ticket_plan(self.people, self.today, rng, wanted, customer, held)
            if built is not None:
                self.ticket_coverage.remove(wanted)
                break
        if built is None and rng.random() < TICKET_RATE:
            built = ticket_plan(self.people, self.today, rng, pick(rng, TICKET_COVERAGE), customer, held)
        if built is None:
            return
        plan, policy, claim = built
        ticket, events, docs = make_ticket(
            rng,
            self.ids,
            self.ticket_numbers,
            plan=plan,
            now=self.now,
            customer_id=customer["id"],
            policy=policy,
            claim=claim,
            staff=self.staff,
            supervisor=self.supervisor,
        )
        rows.add("tickets", ticket)
        rows.add("ticket_events", events)
        rows.add("documents", docs)
