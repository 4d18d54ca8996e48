"""Rows of the fixed demo customers (bot.seeding.demo), built with their own fixed random stream."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from bot.ids import id_birth_date
from bot.seeding import demo
from bot.seeding.claims import ClaimPlan, make_claim
from bot.seeding.generator import Generator, Rows
from bot.seeding.people import Person
from bot.seeding.policies import CENT, PolicyPlan, make_policy
from bot.seeding.ticket_plans import beneficiary_payload
from bot.seeding.tickets import TicketPlan, make_ticket

Bens = list[tuple[str, str, str, Decimal, int]]


def _person(c: demo.DemoCustomer, surname_len: int = 1) -> Person:
    return Person(
        name=c.name,
        surname=c.name[:surname_len],
        id_number=c.id_number,
        gender=c.gender,
        birth_date=id_birth_date(c.id_number),
    )


def _since(today: date, number: str) -> int:
    """Days from an issue date in the year the fixed policy number names (mid-year) to today."""
    return max(30, (today - date(int(number[2:6]), 7, 1)).days)


def _share(v: int) -> Decimal:
    return Decimal(v).quantize(CENT)


def add_demo_customers(gen: Generator, rows: Rows) -> None:
    rng = random.Random("demo-customers-v1")  # noqa: S311 - independent of --seed
    today = gen.today
    for c in demo.DEMO_CUSTOMERS:
        person = _person(c)
        row = gen.customer_row(rng, person, mobile=c.mobile, address=c.address, email=c.email)
        row["reminders_enabled"] = True
        rows.add("customers", row)
        bank = gen.people.bank(rng)

        def policy(
            plan: PolicyPlan,
            bens: Bens | None = None,
            plate: str | None = None,
            *,
            _row: dict = row,
            _person: Person = person,
            _bank: tuple[str, str] = bank,
        ) -> dict:
            result = make_policy(
                rng,
                gen.ids,
                gen.policy_numbers,
                plan=plan,
                today=today,
                holder_id=_row["id"],
                insured_id=_row["id"],
                insured_birth=_person.birth_date,
                bank=_bank,
                plate=plate,
                beneficiaries=bens or [],
            )
            rows.add("policies", result.row)
            rows.add("beneficiaries", result.beneficiaries)
            rows.add("premium_schedule", result.premiums)
            rows.add("debit_attempts", result.attempts)
            return result.row

        def claim(plan: ClaimPlan, pol: dict, place: str, *, _row: dict = row) -> dict:
            claim_row, docs = make_claim(
                rng,
                gen.ids,
                gen.claim_numbers,
                plan=plan,
                today=today,
                policy=pol,
                reporter_id=_row["id"],
                place=place,
            )
            rows.add("claims", claim_row)
            rows.add("documents", docs)
            return claim_row

        def ticket(plan: TicketPlan, pol: dict | None, *, _row: dict = row) -> None:
            t_row, events, docs = make_ticket(
                rng,
                gen.ids,
                gen.ticket_numbers,
                plan=plan,
                now=gen.now,
                customer_id=_row["id"],
                policy=pol,
                claim=None,
                staff=gen.staff,
                supervisor=gen.supervisor,
            )
            rows.add("tickets", t_row)
            rows.add("ticket_events", events)
            rows.add("documents", docs)

        if c is demo.ZHANG_WEI:
            bens: Bens = [(*demo.CHEN_JING, _share(50), 1), (*demo.ZHANG_ZIHAN, _share(50), 1)]
            life = policy(
                PolicyPlan(
                    "life",
                    "in_force",
                    product=0,
                    frequency="annual",
                    issue_offset=_since(today, "LF2023000123"),
                    due_offset=45,
                    number="LF2023000123",
                    sum_insured=500_000,
                ),
                bens,
            )
            car = policy(
                PolicyPlan(
                    "motor",
                    "in_force",
                    product=0,
                    issue_offset=120,
                    number="AU2024000088",
                    sum_insured=1_000_000,
                ),
                plate="京A8K2J6",
            )
            claim(
                ClaimPlan(
                    "motor",
                    "documents_pending",
                    number="CL2600000088",
                    police_reported=True,
                    days_ago=3,
                    amount=8600.0,
                    received=("claim_application", "accident_photos", "driver_license", "vehicle_license"),
                    description="在北京市朝阳区东三环中路等红灯时被后车追尾,后保险杠及尾灯受损,无人员受伤,已报警。",
                ),
                car,
                "北京市朝阳区东三环中路",
            )
            ticket(
                TicketPlan(
                    "beneficiary_change",
                    status="open",
                    number="TK2600000123",
                    hours_ago=5,
                    payload=beneficiary_payload(
                        "LF2023000123",
                        before=bens,
                        after=[(*demo.ZHANG_ZIHAN, _share(100), 1)],  # their daughter alone
                    ),
                ),
                life,
            )
        elif c is demo.LI_NA:
            policy(
                PolicyPlan(
                    "health",
                    "cooling_off",
                    product=0,
                    frequency="annual",
                    issue_offset=5,
                    number="HE2025000456",
                    sum_insured=3_000_000,
                )
            )
            ci = policy(
                PolicyPlan(
                    "health",
                    "in_force",
                    product=1,
                    frequency="annual",
                    issue_offset=_since(today, "HE2024000321"),
                    due_offset=7,
                    failure_reason="余额不足",
                    number="HE2024000321",
                    sum_insured=500_000,
                )
            )
            ticket(
                TicketPlan(
                    "payment_issue",
                    status="open",
                    number="TK2600000456",
                    hours_ago=20,
                    payload={
                        "policy_number": "HE2024000321",
                        "failure_reason": "余额不足",
                        "note": "客户反映预扣款失败,希望了解其他交费方式",
                    },
                ),
                ci,
            )
        elif c is demo.WANG_FANG:
            bens = [(*demo.ZHOU_JIANGUO, _share(100), 1)]
            policy(
                PolicyPlan(
                    "life",
                    "grace_period",
                    product=0,
                    frequency="annual",
                    due_offset=-20,
                    issue_offset=_since(today, "LF2021000234"),
                    failure_reason="余额不足",
                    number="LF2021000234",
                    sum_insured=300_000,
                ),
                bens,
            )
            policy(
                PolicyPlan(
                    "life",
                    "lapsed_recent",
                    product=1,
                    frequency="annual",
                    due_offset=-260,
                    issue_offset=_since(today, "LF2020000567"),
                    failure_reason="代扣授权失效",
                    number="LF2020000567",
                    sum_insured=800_000,
                ),
                bens,
            )
        elif c is demo.LIU_YANG:
            acc = policy(
                PolicyPlan(
                    "accident",
                    "in_force",
                    product=0,
                    issue_offset=200,
                    number="AC2024000345",
                    sum_insured=500_000,
                )
            )
            claim(
                ClaimPlan(
                    "accident",
                    "paid",
                    number="CL2600000345",
                    police_reported=False,
                    days_ago=60,
                    amount=12800.0,
                    description="在成都市武侯区骑电动车时摔倒,右手腕骨折,住院手术治疗。",
                ),
                acc,
                "成都市武侯区学府路",
            )
