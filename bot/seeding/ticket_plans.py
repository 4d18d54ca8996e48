"""Payloads of the demo tickets, picked to fit the customer's policies and claims."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from bot.seeding import reference as ref
from bot.seeding.people import PersonFactory
from bot.seeding.policies import Held, Row
from bot.seeding.rand import pick
from bot.seeding.tickets import COMPLAINTS, RELIEF_OPTIONS, TicketPlan


def ticket_plan(
    people: PersonFactory, today: date, rng: random.Random, kind: str, customer: Row, held: list[Held]
) -> tuple[TicketPlan, Row | None, Row | None] | None:
    mine = [h for h in held if h.result.row["policyholder_id"] == customer["id"]]

    def first(pred: Callable[[Held], bool]) -> Held | None:
        return next((h for h in mine if pred(h)), None)

    live = first(lambda h: h.result.row["status"] in ("in_force", "grace_period", "cooling_off"))
    if kind == "beneficiary_change":
        h = first(lambda h: h.result.row["line"] == "life" and h.result.row["status"] == "in_force")
        if h is None:
            return None
        new = people.person(rng, today=today, age=(1, 30))
        payload = {
            "policy_number": h.result.row["number"],
            "old_beneficiaries": [
                {
                    "name": b["name"],
                    "relationship": b["relationship_to_insured"],
                    "share_pct": str(b["share_pct"]),
                    "order": b["order"],
                }
                for b in h.result.beneficiaries
            ],
            "beneficiaries": [
                {
                    "name": new.name,
                    "relationship": "子女",
                    "id_number": new.id_number,
                    "share_pct": "100.00",
                    "order": 1,
                }
            ],
            "reason": "家庭情况变化,变更身故受益人",
        }
        return TicketPlan(kind, payload), h.result.row, None
    if kind == "contact_change":
        field_ = pick(rng, ("mobile", "address", "email"))
        value = {
            "mobile": people.mobile(rng),
            "address": people.address(rng),
            "email": people.email(rng, customer["birth_date"]),
        }[field_]
        return TicketPlan(kind, {"changes": {field_: value}}), live.result.row if live else None, None
    if kind == "payment_account_change":
        if live is None:
            return None
        bank_name, account = people.bank(rng)
        payload = {
            "policy_number": live.result.row["number"],
            "bank_name": bank_name,
            "bank_account": account,
        }
        return TicketPlan(kind, payload), live.result.row, None
    if kind == "surrender":
        h = first(lambda h: h.result.long_term and h.result.row["status"] == "in_force")
        if h is None:
            return None
        payload = {
            "policy_number": h.result.row["number"],
            "reason": pick(rng, ref.SURRENDER_REASONS),
            "cash_value": str(h.result.row["cash_value"]),
        }
        return TicketPlan(kind, payload), h.result.row, None
    if kind == "cooling_off_cancellation":
        h = first(lambda h: h.result.row["status"] == "cooling_off")
        if h is None:
            return None
        payload = {"policy_number": h.result.row["number"], "premium_paid": str(h.result.row["premium"])}
        return TicketPlan(kind, payload), h.result.row, None
    if kind == "reinstatement":
        h = first(
            lambda h: h.result.row["status"] == "lapsed" and (today - h.result.row["lapsed_on"]).days < 730
        )
        if h is None:
            return None
        arrears = sum((p["amount"] for p in h.result.premiums if p["status"] != "paid"), Decimal(0))
        payload = {
            "policy_number": h.result.row["number"],
            "lapsed_on": h.result.row["lapsed_on"].isoformat(),
            "arrears": str(arrears),
        }
        return TicketPlan(kind, payload), h.result.row, None
    if kind == "payment_relief":
        h = first(lambda h: h.result.long_term and h.result.row["status"] in ("in_force", "grace_period"))
        if h is None:
            return None
        option, option_zh = pick(rng, RELIEF_OPTIONS)
        payload = {
            "policy_number": h.result.row["number"],
            "option": option,
            "option_zh": option_zh,
            "reason": "近期收入减少,暂时交不起保费",
        }
        return TicketPlan(kind, payload), h.result.row, None
    if kind == "payment_issue":
        h = first(lambda h: any(p["status"] == "failed" for p in h.result.premiums))
        if h is None:
            return None
        due = next(p for p in h.result.premiums if p["status"] == "failed")
        reason = next(
            (a["failure_reason"] for a in reversed(h.result.attempts) if a["premium_id"] == due["id"]),
            None,
        )
        payload = {
            "policy_number": h.result.row["number"],
            "due_date": due["due_date"].isoformat(),
            "amount": str(due["amount"]),
            "failure_reason": reason,
        }
        return TicketPlan(kind, payload), h.result.row, None
    if kind == "complaint":
        return (
            TicketPlan(kind, {"summary": pick(rng, COMPLAINTS)}),
            live.result.row if live else None,
            None,
        )
    if kind == "claim":
        h = first(lambda h: any(c["status"] in ("reported", "documents_pending") for c in h.claims))
        if h is None:
            return None
        claim = next(c for c in h.claims if c["status"] in ("reported", "documents_pending"))
        payload = {
            "claim_number": claim["number"],
            "claim_type": claim["claim_type"],
            "police_reported": claim["police_reported"],
        }
        return TicketPlan(kind, payload, subject=f"理赔报案 {claim['number']}"), h.result.row, claim
    if kind == "human_handover":
        payload = {"reason": "客户要求转人工", "last_message": "我要找人工客服"}
        return TicketPlan(kind, payload, status="open"), None, None
    return None
