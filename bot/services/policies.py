"""Policy look-ups and the policy card shown to a verified caller (personal data masked)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import PolicyNotFound
from bot.ids import normalize_policy_number
from bot.labels_zh import LINE_ZH, PAYMENT_FREQUENCY_ZH, POLICY_STATUS_ZH
from bot.masking import mask_bank_account, mask_id_number, mask_name
from bot.models import Customer, Policy, PolicyStatus, PremiumDue, PremiumStatus


@dataclass
class PolicyCard:
    number: str
    line_zh: str
    product_name: str
    status: PolicyStatus
    status_zh: str
    effective_date: date
    expiry_date: date | None
    sum_insured: Decimal
    premium: Decimal
    frequency_zh: str
    policyholder_masked: str
    insured_masked: str
    bank_masked: str
    next_due_date: date | None
    next_due_amount: Decimal | None
    beneficiaries: list[str] = field(default_factory=list)

    def to_text_zh(self) -> str:
        lines = [
            f"保单号:{self.number}",
            f"产品:{self.product_name}({self.line_zh})",
            f"状态:{self.status_zh}",
            f"生效日期:{self.effective_date:%Y年%m月%d日}",
            f"保障期满:{self.expiry_date:%Y年%m月%d日}" if self.expiry_date else "保障期限:终身",
            f"保险金额:{self.sum_insured:,.2f}元",
            f"每期保费:{self.premium:,.2f}元({self.frequency_zh})",
            f"投保人:{self.policyholder_masked};被保险人:{self.insured_masked}",
        ]
        if self.next_due_date and self.next_due_amount is not None:
            lines.append(f"下期应交:{self.next_due_date:%Y年%m月%d日},{self.next_due_amount:,.2f}元")
        if self.bank_masked:
            lines.append(f"扣款账户:{self.bank_masked}")
        if self.beneficiaries:
            lines.append("身故受益人:" + ";".join(self.beneficiaries))
        return "\n".join(lines)


def get_policy(session: Session, number: str) -> Policy:
    normalized = normalize_policy_number(number)
    policy = (
        session.scalars(select(Policy).where(Policy.number == normalized)).first() if normalized else None
    )
    if policy is None:
        raise PolicyNotFound(number=number)
    return policy


def policies_of(session: Session, customer: Customer) -> list[Policy]:
    return list(
        session.scalars(
            select(Policy)
            .where((Policy.policyholder_id == customer.id) | (Policy.insured_id == customer.id))
            .order_by(Policy.effective_date.desc())
        )
    )


def next_unpaid_premium(session: Session, policy: Policy) -> PremiumDue | None:
    return session.scalars(
        select(PremiumDue)
        .where(
            PremiumDue.policy_id == policy.id,
            PremiumDue.status.in_((PremiumStatus.PENDING, PremiumStatus.FAILED)),
        )
        .order_by(PremiumDue.due_date)
        .limit(1)
    ).first()


def cooling_off_ends(policy: Policy) -> date:
    return policy.issue_date + timedelta(days=policy.cooling_off_days)


def policy_card(session: Session, policy: Policy) -> PolicyCard:
    holder = session.get(Customer, policy.policyholder_id)
    insured = session.get(Customer, policy.insured_id)
    due = next_unpaid_premium(session, policy)
    return PolicyCard(
        number=policy.number,
        line_zh=LINE_ZH[policy.line],
        product_name=policy.product_name,
        status=policy.status,
        status_zh=POLICY_STATUS_ZH[policy.status],
        effective_date=policy.effective_date,
        expiry_date=policy.expiry_date,
        sum_insured=policy.sum_insured,
        premium=policy.premium,
        frequency_zh=PAYMENT_FREQUENCY_ZH[policy.payment_frequency],
        policyholder_masked=mask_name(holder.name) if holder else "",
        insured_masked=mask_name(insured.name) if insured else "",
        bank_masked=(
            f"{policy.bank_name or ''} {mask_bank_account(policy.bank_account)}".strip()
            if policy.bank_account
            else ""
        ),
        next_due_date=due.due_date if due else None,
        next_due_amount=due.amount if due else None,
        beneficiaries=[
            f"{mask_name(b.name)}({b.relationship_to_insured},{b.share_pct:.0f}%,"
            f"证件{mask_id_number(b.id_number)})"
            for b in policy.beneficiaries
        ],
    )
