"""Policies, their premium schedule, debit attempts and beneficiaries, as plain row dicts.

Statuses are made consistent with the schedule relative to ``today``:
in force / cooling-off: every instalment before today paid, the next one pending (or failed when a
pre-debit bounced); grace period: an instalment 1–59 days overdue; lapsed: an instalment more than
60 days overdue, ``lapsed_on`` = due date + grace days (inside or past the two-year reinstatement
window); terminated: matured, surrendered, cancelled in the cooling-off period, or ended by a death claim.
Paid history is kept for the last 12 months only (older instalments add rows, not realism).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from bot.seeding import reference as ref
from bot.seeding.rand import pick, ri, wpick

CST = timezone(timedelta(hours=8))  # Asia/Shanghai has no daylight saving
CENT = Decimal("0.01")
GRACE_DAYS = 60
REINSTATEMENT_DAYS = 730
HISTORY_DAYS = 365
ATTEMPT_HISTORY_DAYS = 90

Row = dict[str, Any]

VARIANTS = ("in_force", "cooling_off", "grace_period", "lapsed_recent", "lapsed_old", "terminated")
VARIANT_WEIGHTS = (68, 4, 8, 5, 3, 12)
VARIANT_CUM = tuple(itertools.accumulate(VARIANT_WEIGHTS))
FREQ_LONG = ("annual", "semiannual", "quarterly", "monthly")
FREQ_LONG_WEIGHTS = (76, 7, 9, 8)
FREQ_LONG_CUM = tuple(itertools.accumulate(FREQ_LONG_WEIGHTS))
PREFIX = {"life": "LF", "health": "HE", "accident": "AC", "motor": "AU"}


def at(d: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=CST)


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    day = min(d.day, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
    if month == 2 and day == 28 and d.day > 28 and (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        day = 29
    return date(year, month, day)


def money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(CENT)


@dataclass
class PolicyPlan:
    """What to generate for one policy (forced for the demo customers and coverage)."""

    line: str
    variant: str
    product: int | None = None  # index into PRODUCTS[line]
    frequency: str | None = None
    due_offset: int | None = None  # days from today of the anchor instalment
    termination: str | None = None  # matured / surrender / cooling_off / death
    issue_offset: int | None = None  # days before today of the issue date
    number: str | None = None
    sum_insured: int | None = None
    failure_reason: str | None = None
    beneficiaries: list[tuple[str, str, str, str, int]] | None = None  # name, rel, id, share, order


@dataclass
class PolicyResult:
    row: Row
    premiums: list[Row] = field(default_factory=list)
    attempts: list[Row] = field(default_factory=list)
    beneficiaries: list[Row] = field(default_factory=list)
    long_term: bool = False
    product_kind: str = ""  # "ci" / "medical" for health


@dataclass
class Held:
    """A generated policy with what hangs off it, for picking claims and tickets."""

    result: PolicyResult
    claims: list[Row] = field(default_factory=list)


class Ids:
    """Primary keys assigned in Python, per table, continuing after what is there."""

    def __init__(self, start: dict[str, int]) -> None:
        self._next = dict(start)

    def next(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value


class PolicyNumbers:
    """Line + issue year + 6-digit serial; generated serials start at 001000 (demo ones are lower)."""

    def __init__(self) -> None:
        self._serial: dict[tuple[str, int], int] = {}

    def issue(self, rng: random.Random, line: str, year: int) -> str:
        key = (line, year)
        serial = self._serial.get(key, 1000 + ri(rng, 0, 50)) + ri(rng, 1, 3)
        if serial > 999_999:
            raise RuntimeError(f"policy serials for {line} {year} exhausted")
        self._serial[key] = serial
        return f"{PREFIX[line]}{year}{serial:06d}"


def pick_variant(rng: random.Random) -> str:
    return wpick(rng, VARIANTS, VARIANT_CUM)


def _dues(effective: date, months: int, count: int, expiry: date | None, start: int) -> Iterator[date]:
    for k in range(start, count):
        due = add_months(effective, k * months)
        if expiry is not None and due > expiry:
            return
        yield due


def make_policy(
    rng: random.Random,
    ids: Ids,
    numbers: PolicyNumbers,
    *,
    plan: PolicyPlan,
    today: date,
    holder_id: int,
    insured_id: int,
    insured_birth: date,
    bank: tuple[str, str] | None,
    plate: str | None,
    beneficiaries: list[tuple[str, str, str, Decimal, int]],
) -> PolicyResult:
    line = plan.line
    products = ref.PRODUCTS[line]
    p_index = plan.product if plan.product is not None else int(rng.random() * len(products))
    name, long_term, lo, hi, rate, waiting = products[p_index]
    variant = plan.variant
    is_ci = line == "health" and long_term

    if long_term:
        frequency = plan.frequency or wpick(rng, FREQ_LONG, FREQ_LONG_CUM)
        payment_years = pick(rng, (10, 15, 20, 20, 30))
    else:
        monthly_ok = line == "health"
        frequency = plan.frequency or ("monthly" if monthly_ok and rng.random() < 0.25 else "annual")
        payment_years = 1
    months = {"annual": 12, "semiannual": 6, "quarterly": 3, "monthly": 1}[frequency]
    count = payment_years * 12 // months
    multi = count > 1
    if variant in ("grace_period", "lapsed_recent", "lapsed_old") and not multi:
        variant = "in_force"
    if variant in ("lapsed_recent", "lapsed_old") and not long_term:
        variant = "grace_period"

    # -- dates: choose the anchor instalment first, then the effective date that produces it
    anchor: date | None = None  # first unpaid instalment (grace / lapsed)
    terminated_on: date | None = None
    termination = plan.termination
    if variant == "cooling_off":
        issue = today - timedelta(days=plan.issue_offset if plan.issue_offset is not None else ri(rng, 1, 13))
    elif variant in ("grace_period", "lapsed_recent", "lapsed_old"):
        if plan.due_offset is not None:
            anchor = today + timedelta(days=plan.due_offset)
        elif variant == "grace_period":
            anchor = today - timedelta(days=ri(rng, 4, 59))
        elif variant == "lapsed_recent":
            anchor = today - timedelta(days=GRACE_DAYS + ri(rng, 4, REINSTATEMENT_DAYS - 30))
        else:
            anchor = today - timedelta(days=GRACE_DAYS + REINSTATEMENT_DAYS + ri(rng, 30, 1500))
        if anchor.day > 28:  # keep instalment days on 1..28 so months step exactly
            back = anchor - timedelta(days=anchor.day - 28)
            forward = add_months(anchor.replace(day=1), 1)
            anchor = back if variant != "grace_period" or (today - back).days < GRACE_DAYS else forward
        max_k = count - 1 if long_term else max(1, 11 - (today - anchor).days // 30)
        if plan.issue_offset is not None:  # as close as the schedule allows to the wanted issue date
            wanted = today - timedelta(days=plan.issue_offset)
            k = max(1, min(max_k, round((anchor - wanted).days / (months * 30.44))))
        else:
            k = ri(rng, 1, max(1, min(max_k, 120 // months if months < 12 else 12)))
        if not long_term:
            k = min(k, 11)
            while add_months(anchor, -k) + timedelta(days=365) <= today and k > 1:
                k -= 1
        effective = add_months(anchor, -k * months)
        issue = effective - timedelta(days=1)
    elif variant == "terminated":
        termination = termination or (
            pick(rng, ("surrender", "surrender", "cooling_off", "death"))
            if long_term
            else pick(rng, ("matured", "matured", "matured", "surrender"))
        )
        if termination == "matured":
            issue = today - timedelta(days=ri(rng, 367, 1500))
        elif termination == "cooling_off":
            issue = today - timedelta(days=ri(rng, 20, 400))
        else:
            issue = today - timedelta(days=ri(rng, 200, 3650))
    else:  # in force
        span = 3650 if long_term else 350
        low = 15 if long_term else 16
        issue = today - timedelta(
            days=plan.issue_offset if plan.issue_offset is not None else ri(rng, low, span)
        )
        if plan.due_offset is not None and multi:
            # the next instalment falls on today + due_offset (month ends aside)
            next_due = today + timedelta(days=plan.due_offset)
            k = max(1, round((next_due - issue).days / (months * 30.44)))
            issue = add_months(next_due, -k * months) - timedelta(days=1)
    effective = issue + timedelta(days=1)
    expiry: date | None = None  # whole life unless set below
    if long_term and line == "life" and p_index == 1:
        expiry = add_months(effective, 12 * pick(rng, (20, 30))) - timedelta(days=1)
    elif long_term and line == "life" and p_index == 2:
        expiry = add_months(effective, 12 * pick(rng, (20, 25))) - timedelta(days=1)
    elif not long_term:
        expiry = add_months(effective, 12) - timedelta(days=1)

    if variant == "terminated":
        if termination == "matured":
            terminated_on = expiry
        elif termination == "cooling_off":
            terminated_on = issue + timedelta(days=ri(rng, 2, 14))
        else:
            terminated_on = today - timedelta(days=ri(rng, 5, max(6, min(700, (today - effective).days - 1))))
            terminated_on = max(terminated_on, effective + timedelta(days=30))

    # -- money
    sum_insured = plan.sum_insured or (lo if lo == hi else lo + 10_000 * ri(rng, 0, (hi - lo) // 10_000))
    age = max(1, (effective - insured_birth).days // 365)
    annual = sum_insured / 1000 * rate * (0.6 + age / 60 if line in ("life", "health") else 1.0)
    if line == "motor" and lo == hi:
        annual = 950.0
    premium = money(max(annual * months / 12, 20.0))

    end = terminated_on or today
    window_start = (anchor or today) - timedelta(days=HISTORY_DAYS)
    # instalments before the kept history are paid: skip them without building them
    first_k = 0
    if window_start > effective:
        elapsed = (window_start.year - effective.year) * 12 + window_start.month - effective.month
        first_k = max(0, min(count, elapsed // months - 1))
    dues = _dues(effective, months, count, expiry, first_k)
    status = {
        "lapsed_recent": "lapsed",
        "lapsed_old": "lapsed",
    }.get(variant, variant)
    policy_id = ids.next("policies")
    result = PolicyResult(row={}, long_term=long_term, product_kind="ci" if is_ci else "medical")
    failure = plan.failure_reason or pick(rng, ref.DEBIT_FAILURE_REASONS)
    paid_count = first_k
    upcoming_added = False
    for due in dues:
        if anchor is not None and due > anchor and variant != "grace_period":
            break  # a lapsed policy bills nothing more
        if terminated_on is not None and due > terminated_on:
            break
        unpaid = anchor is not None and due >= anchor and due < today
        if (due < today or due == effective) and not unpaid:
            paid_count += 1
            if due < window_start:
                continue
            if due == effective:
                paid_on = issue  # the first premium is paid at underwriting
            else:
                paid_on = due if rng.random() < 0.9 else min(due + timedelta(days=ri(rng, 1, 5)), end)
            pid = ids.next("premium_schedule")
            result.premiums.append(
                {
                    "id": pid,
                    "policy_id": policy_id,
                    "due_date": due,
                    "amount": premium,
                    "status": "paid",
                    "paid_on": paid_on,
                }
            )
            if bank and (today - due).days <= ATTEMPT_HISTORY_DAYS:
                if paid_on > due:
                    result.attempts.append(_attempt(ids, pid, at(due), premium, False, failure))
                result.attempts.append(_attempt(ids, pid, at(paid_on, 10, 5), premium, True, None))
            continue
        if unpaid:
            pid = ids.next("premium_schedule")
            attempts = []
            if bank:
                for delta in (0, 3, 10):
                    when = due + timedelta(days=delta)
                    if when < today:
                        attempts.append(_attempt(ids, pid, at(when, 10, delta), premium, False, failure))
            result.premiums.append(
                {
                    "id": pid,
                    "policy_id": policy_id,
                    "due_date": due,
                    "amount": premium,
                    "status": "failed" if attempts else "pending",
                    "paid_on": None,
                }
            )
            result.attempts.extend(attempts)
            continue
        # due >= today: the next instalment only
        if upcoming_added or variant in ("lapsed_recent", "lapsed_old", "terminated"):
            break
        upcoming_added = True
        pid = ids.next("premium_schedule")
        pre_failed = bank is not None and (
            (due - today).days <= 7 and (plan.failure_reason is not None or rng.random() < 0.3)
        )
        if pre_failed:
            result.attempts.append(_attempt(ids, pid, at(today - timedelta(days=1)), premium, False, failure))
        result.premiums.append(
            {
                "id": pid,
                "policy_id": policy_id,
                "due_date": due,
                "amount": premium,
                "status": "failed" if pre_failed else "pending",
                "paid_on": None,
            }
        )

    cash_value = None
    if long_term:
        years = max(0, (end - effective).days // 365)
        cash_value = money(float(premium) * paid_count * min(0.95, 0.15 + 0.07 * years))
    year = issue.year
    number = plan.number or numbers.issue(rng, line, year)
    created = at(issue, 9, 30)
    result.row = {
        "id": policy_id,
        "number": number,
        "line": line,
        "product_name": name,
        "status": status,
        "issue_date": issue,
        "effective_date": effective,
        "cooling_off_days": 15,
        "waiting_period_days": waiting,
        "grace_period_days": GRACE_DAYS,
        "expiry_date": expiry,
        "lapsed_on": anchor + timedelta(days=GRACE_DAYS) if status == "lapsed" and anchor else None,
        "terminated_on": terminated_on,
        "termination_reason": TERMINATION_ZH.get(termination or "") if terminated_on else None,
        "sum_insured": Decimal(sum_insured).quantize(CENT),
        "premium": premium,
        "payment_frequency": frequency,
        "payment_years": payment_years,
        "bank_name": bank[0] if bank else None,
        "bank_account": bank[1] if bank else None,
        "plate_number": plate if line == "motor" else None,
        "cash_value": cash_value,
        "policyholder_id": holder_id,
        "insured_id": insured_id,
        "created_at": created,
        "updated_at": created,
    }
    if line == "life":
        for b_name, rel, id_number, share, order in beneficiaries:
            result.beneficiaries.append(
                {
                    "id": ids.next("beneficiaries"),
                    "policy_id": policy_id,
                    "name": b_name,
                    "relationship_to_insured": rel,
                    "id_number": id_number,
                    "share_pct": share,
                    "order": order,
                }
            )
    return result


TERMINATION_ZH = {
    "matured": "保险期间届满",
    "surrender": "投保人申请退保",
    "cooling_off": "犹豫期内退保",
    "death": "被保险人身故,已给付身故保险金",
}


def _attempt(ids: Ids, premium_id: int, when: datetime, amount: Decimal, ok: bool, reason: str | None) -> Row:
    return {
        "id": ids.next("debit_attempts"),
        "premium_id": premium_id,
        "attempted_at": when,
        "amount": amount,
        "succeeded": ok,
        "failure_reason": None if ok else reason,
    }


def split_shares(rng: random.Random, n: int) -> list[Decimal]:
    """Shares of one beneficiary order, totalling exactly 100."""
    table: dict[int, list[tuple[int, ...]]] = {
        1: [(100,)],
        2: [(50, 50), (60, 40), (70, 30)],
        3: [(40, 30, 30), (50, 25, 25), (34, 33, 33)],
    }
    return [Decimal(v).quantize(CENT) for v in pick(rng, table[n])]
