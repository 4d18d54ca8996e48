"""Payloads of the demo tickets, picked to fit the customer's policies and claims.

The change requests (beneficiary, contact, payment account) are built with the typed payloads of
``bot.services.changes`` and stored exactly as the chat's request functions store them."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from bot.seeding import reference as ref
from bot.seeding.people import PersonFactory
from bot.seeding.policies import Held, Row
from bot.seeding.rand import pick
from bot.seeding.tickets import COMPLAINTS, RELIEF_OPTIONS, TicketPlan
from bot.services.changes.beneficiary import BeneficiaryChange, NewBeneficiary
from bot.services.changes.contact import ContactChange
from bot.services.changes.payment_account import PaymentAccountChange
from bot.text.zh_input import HUNDRED, canonical_bank

BeneficiaryRow = tuple[str, str, str, Decimal, int]  # name, relationship, id number, share, order


def beneficiary_payload(
    policy_number: str, *, before: list[BeneficiaryRow], after: list[BeneficiaryRow]
) -> dict[str, Any]:
    """The payload ``request_beneficiary_change`` writes: the policy's list then, the new list."""
    change = BeneficiaryChange(
        after=tuple(NewBeneficiary(*row) for row in after),
        before=tuple(NewBeneficiary(*row) for row in before),
        policy_number=policy_number,
    )
    return change.to_json()


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
        payload = beneficiary_payload(
            h.result.row["number"],
            before=[
                (b["name"], b["relationship_to_insured"], b["id_number"], b["share_pct"], b["order"])
                for b in h.result.beneficiaries
            ],
            after=[(new.name, "子女", new.id_number, HUNDRED, 1)],
        )
        return TicketPlan(kind, payload), h.result.row, None
    if kind == "contact_change":
        if live is None:  # the chat asks for it on one of the holder's live policies
            return None
        field_ = pick(rng, ("mobile", "address", "email"))
        before = {name: customer[name] for name in ("mobile", "email", "address")}
        value = before[field_]
        while value == before[field_]:  # the request refuses the value already on file
            if field_ == "mobile":
                value = people.mobile(rng)
            elif field_ == "address":
                value = people.address(rng)
            else:
                value = people.email(rng, customer["birth_date"])
        contact = ContactChange(
            after={**before, field_: value},
            changed=(field_,),
            before=before,
            policy_number=live.result.row["number"],
            customer_id=customer["id"],
        )
        return TicketPlan(kind, contact.to_json()), live.result.row, None
    if kind == "payment_account_change":
        if live is None:
            return None
        policy = live.result.row
        bank_name, account = people.bank(rng)
        while account == policy["bank_account"]:  # the request refuses the account already on file
            bank_name, account = people.bank(rng)
        account_change = PaymentAccountChange(
            bank_name=canonical_bank(bank_name) or bank_name,
            bank_account=account,
            account_holder=customer["name"],  # the request stores the policyholder's name on file
            before={"bank_name": policy["bank_name"], "bank_account": policy["bank_account"]},
            policy_number=policy["number"],
        )
        return TicketPlan(kind, account_change.to_json()), policy, None
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
