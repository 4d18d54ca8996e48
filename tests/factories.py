"""Small builders of valid rows for tests (the seed builds the big demo set)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from bot.ids import id_check_char
from bot.models import (
    Beneficiary,
    Customer,
    LineOfBusiness,
    PaymentFrequency,
    Policy,
    PolicyStatus,
    PremiumDue,
    PremiumStatus,
)

_serial = itertools.count(1)


def valid_id_number(birth: date = date(1985, 6, 15), serial: int | None = None, area: str = "110105") -> str:
    seq = serial if serial is not None else next(_serial) % 1000
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def make_customer(
    session: Session, name: str = "张伟", id_number: str | None = None, mobile: str = "13812345678"
) -> Customer:
    idn = id_number or valid_id_number()
    customer = Customer(
        name=name,
        id_number=idn,
        gender="M" if int(idn[16]) % 2 else "F",
        birth_date=date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14])),
        mobile=mobile,
        email="zhangwei@example.com",
        address="北京市朝阳区建国路88号",
    )
    session.add(customer)
    session.flush()
    return customer


def make_policy(
    session: Session,
    holder: Customer,
    number: str | None = None,
    line: LineOfBusiness = LineOfBusiness.LIFE,
    status: PolicyStatus = PolicyStatus.IN_FORCE,
    issue_date: date = date(2023, 3, 1),
    premium: Decimal = Decimal("3600.00"),
    with_beneficiary: bool = True,
    next_due: date | None = None,
) -> Policy:
    number = number or f"{line.prefix}2023{next(_serial):06d}"
    policy = Policy(
        number=number,
        line=line,
        product_name="安康终身寿险" if line is LineOfBusiness.LIFE else "守护百万医疗险",
        status=status,
        issue_date=issue_date,
        effective_date=issue_date + timedelta(days=1),
        sum_insured=Decimal("500000.00"),
        premium=premium,
        payment_frequency=PaymentFrequency.ANNUAL,
        payment_years=20,
        bank_name="中国工商银行",
        bank_account="6222021234567890123",
        policyholder_id=holder.id,
        insured_id=holder.id,
        waiting_period_days=90 if line is LineOfBusiness.HEALTH else 0,
    )
    session.add(policy)
    session.flush()
    if with_beneficiary:
        session.add(
            Beneficiary(
                policy_id=policy.id,
                name="李娜",
                relationship_to_insured="配偶",
                id_number=valid_id_number(date(1987, 2, 3)),
                share_pct=Decimal("100"),
                order=1,
            )
        )
    if next_due:
        session.add(
            PremiumDue(policy_id=policy.id, due_date=next_due, amount=premium, status=PremiumStatus.PENDING)
        )
    session.flush()
    session.refresh(policy)
    return policy
