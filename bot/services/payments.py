"""Premiums and renewals (续期) for a verified caller: the next instalment, the grace period, the
last failed debit and what to do about it, and the relief options when paying is hard.

Ticket payloads (read by the renewals desk):
``TicketType.PAYMENT_RELIEF``: ``{"kind": "payment_relief", "option": "premium_deferral" |
"reduced_paid_up" | "policy_loan", "policy_number", "due_date", "amount"}``;
``TicketType.PAYMENT_ISSUE``: ``{"kind": "payment_issue", "policy_number", "due_date", "amount",
"failure_reason"}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import local_today
from bot.errors import PolicyNotEligible
from bot.models import DebitAttempt, Policy, PolicyStatus, PremiumDue, PremiumStatus, Ticket, TicketType
from bot.services.policies import next_unpaid_premium
from bot.services.tickets.create import ServiceTicket, create_ticket, open_service_ticket

# Failure reasons as the bank reports them → (plain Chinese, what the customer can do).
FAILURE_ADVICE: dict[str, tuple[str, str]] = {
    "余额不足": (
        "扣款账户余额不足",
        "请您在宽限期结束前往扣款账户存入足额资金,我们会再次发起扣款;也可以通过App、微信或支付宝自助交费。",
    ),
    "账户冻结": (
        "扣款账户被冻结",
        "请您联系开户银行解除冻结,或者更换一张扣款银行卡(可以直接对我说“换扣款卡”)。",
    ),
    "卡片已注销": (
        "扣款银行卡已注销",
        "请您更换一张扣款银行卡(可以直接对我说“换扣款卡”),或通过App自助交费。",
    ),
    "卡已注销": ("扣款银行卡已注销", "请您更换一张扣款银行卡(可以直接对我说“换扣款卡”),或通过App自助交费。"),
    "卡片已过期": (
        "扣款银行卡已过期",
        "请您更换一张扣款银行卡(可以直接对我说“换扣款卡”),或通过App自助交费。",
    ),
    "代扣授权失效": (
        "银行代扣授权已失效",
        "请您重新签署银行转账授权书,或者更换扣款银行卡;在此之前可以通过App、微信或支付宝自助交费。",
    ),
    "授权失效": (
        "银行代扣授权已失效",
        "请您重新签署银行转账授权书,或者更换扣款银行卡;在此之前可以通过App、微信或支付宝自助交费。",
    ),
    "单日限额不足": (
        "超出银行卡单日扣款限额",
        "请您联系开户银行调高单日限额,我们会再次发起扣款;也可以通过App自助分次交费。",
    ),
}
DEFAULT_ADVICE = (
    "银行扣款未成功",
    "请您核实扣款账户状态,或通过App、微信、支付宝自助交费;如需协助可以转人工。",
)

# The relief options of the renewals team (seed 002): option → catalog key.
RELIEF_OPTIONS: dict[str, str] = {
    "premium_deferral": "缓交",
    "reduced_paid_up": "减额交清",
    "policy_loan": "保单贷款",
}
RELIEF_WORDS: dict[str, str] = {
    "缓交": "premium_deferral",
    "缓缴": "premium_deferral",
    "延期": "premium_deferral",
    "晚点交": "premium_deferral",
    "减额交清": "reduced_paid_up",
    "减额缴清": "reduced_paid_up",
    "减额": "reduced_paid_up",
    "保单贷款": "policy_loan",
    "保单借款": "policy_loan",
    "贷款": "policy_loan",
    "借款": "policy_loan",
}


def fmt_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def fmt_money(value: Decimal) -> str:
    return f"{value:,.2f}元"


@dataclass
class PremiumStatusInfo:
    policy_number: str
    due: PremiumDue | None
    grace_end: date | None
    days_to_due: int | None
    in_grace: bool
    last_failure: DebitAttempt | None
    lapsed: bool

    @property
    def due_date_zh(self) -> str:
        return fmt_date(self.due.due_date) if self.due else ""

    @property
    def amount_zh(self) -> str:
        return fmt_money(self.due.amount) if self.due else ""

    @property
    def grace_end_zh(self) -> str:
        return fmt_date(self.grace_end) if self.grace_end else ""


def premium_status(session: Session, policy: Policy, today: date | None = None) -> PremiumStatusInfo:
    today = today or local_today()
    due = next_unpaid_premium(session, policy)
    grace_end = due.due_date + timedelta(days=policy.grace_period_days) if due else None
    last_failure = None
    if due is not None:
        last_failure = session.scalars(
            select(DebitAttempt)
            .where(DebitAttempt.premium_id == due.id, DebitAttempt.succeeded.is_(False))
            .order_by(DebitAttempt.attempted_at.desc())
            .limit(1)
        ).first()
    return PremiumStatusInfo(
        policy_number=policy.number,
        due=due,
        grace_end=grace_end,
        days_to_due=(due.due_date - today).days if due else None,
        in_grace=bool(due and grace_end and due.due_date < today <= grace_end),
        last_failure=last_failure,
        lapsed=policy.status is PolicyStatus.LAPSED or bool(grace_end and today > grace_end),
    )


def premium_due_text(info: PremiumStatusInfo) -> str:
    """The answer to 下期保费什么时候交 (no personal data beyond the policy's own figures)."""
    if info.due is None:
        return f"您的保单 {info.policy_number} 目前没有待交的保费,无需交费。"
    if info.lapsed:
        return (
            f"您的保单 {info.policy_number} 应于{info.due_date_zh}交纳的保费{info.amount_zh}未交,"
            f"宽限期已于{info.grace_end_zh}届满,保单效力已中止。您可以在效力中止后两年内申请复效。"
        )
    if info.in_grace:
        return (
            f"您的保单 {info.policy_number} 应于{info.due_date_zh}交纳的保费{info.amount_zh}尚未交纳,"
            f"目前处于宽限期内,宽限期至{info.grace_end_zh},期间保障不受影响。请您尽快交费。"
        )
    days = info.days_to_due or 0
    when = "今天" if days == 0 else f"还有{days}天"
    return (
        f"您的保单 {info.policy_number} 下一期保费为{info.amount_zh},交费日是{info.due_date_zh}({when})。"
        f"如未按时交费,宽限期至{info.grace_end_zh}。"
    )


def grace_text(info: PremiumStatusInfo, policy: Policy) -> str:
    general = (
        f"您的保单宽限期为{policy.grace_period_days}天:交费日后{policy.grace_period_days}天内补交保费,"
        "保障不受影响;宽限期满仍未交费,保单效力中止,之后两年内可以申请复效。"
    )
    if info.due is None:
        return general + f"您的保单 {info.policy_number} 目前没有待交的保费。"
    if info.lapsed:
        return (
            general + f"您这一期保费的宽限期已于{info.grace_end_zh}届满,保单效力已中止,如需恢复可以申请复效。"
        )
    if info.in_grace:
        return (
            general
            + f"您目前正处于宽限期内,应交{info.amount_zh},宽限期至{info.grace_end_zh},请在此之前补交。"
        )
    return general + f"您下一期保费{info.amount_zh}的交费日是{info.due_date_zh},宽限期至{info.grace_end_zh}。"


def failure_text(info: PremiumStatusInfo) -> tuple[str, bool]:
    """The answer to 保费没扣成功; the flag says whether a follow-up ticket can be offered."""
    if info.due is None:
        return f"您的保单 {info.policy_number} 目前没有待交的保费,最近一期保费已经交清,无需处理。", False
    if info.last_failure is None:
        return (
            f"您的保单 {info.policy_number} 下一期保费{info.amount_zh}的交费日是{info.due_date_zh},"
            "目前还没有扣款失败的记录。我们会在交费日前后从您的扣款账户扣款,请确保余额充足。",
            False,
        )
    reason, advice = FAILURE_ADVICE.get(info.last_failure.failure_reason or "", DEFAULT_ADVICE)
    attempted = info.last_failure.attempted_at
    text = (
        f"经查询,您的保单 {info.policy_number} 保费{info.amount_zh}(交费日{info.due_date_zh})"
        f"在{fmt_date(attempted.date())}扣款未成功,原因是:{reason}。{advice}"
    )
    if info.grace_end and not info.lapsed:
        text += f"宽限期至{info.grace_end_zh},在此之前交费保障不受影响。"
    return text, True


def relief_intro_text(info: PremiumStatusInfo, policy: Policy) -> str:
    due_part = (
        f"您的保单 {info.policy_number} 下一期应交{info.amount_zh}"
        f"(交费日{info.due_date_zh},宽限期至{info.grace_end_zh})。"
        if info.due
        else f"您的保单 {info.policy_number} 目前没有待交的保费。"
    )
    loan = "保单贷款:按保单现金价值的一定比例(一般不超过80%)借款交费,按约定计息"
    if policy.cash_value:
        loan += f"(您的保单最近一个保单年度末的现金价值约{fmt_money(policy.cash_value)})"
    return (
        due_part + "理解您的难处,如果暂时交费有困难,可以考虑以下方式,保单不必失效:\n"
        "1. 缓交:经审核同意后延后交纳保费;\n"
        "2. 减额交清:不再交费,保额按现金价值相应降低,保障继续有效;\n"
        f"3. {loan};\n"
        "4. 变更扣款账户:换一张余额充足的银行卡扣款。\n"
        "请问您想了解或申请哪一种?"
    )


def relief_option_of(text: str | None) -> str | None:
    value = str(text or "").replace(" ", "")
    if value in RELIEF_OPTIONS:
        return value
    best: tuple[int, str] | None = None
    for word, key in RELIEF_WORDS.items():
        if word in value and (best is None or len(word) > best[0]):
            best = (len(word), key)
    return best[1] if best else None


APPLY_WORDS = ("申请", "办理", "我要", "我想", "帮我", "给我办")


_QUESTION = re.compile(r"(能不能|可不可以|可以吗|能吗|是什么|什么意思|吗[??]?$|[??]$)")


def is_question(text: str) -> bool:
    """``缓交是什么意思`` / ``能缓交吗`` ask about an option rather than choose it."""
    return bool(_QUESTION.search(text))


def asks_to_apply(text: str) -> bool:
    """``我想申请缓交`` asks for it; ``能不能缓交`` only asks about it."""
    return any(w in text for w in APPLY_WORDS) and not is_question(text)


def _due_payload(info: PremiumStatusInfo) -> dict[str, str | None]:
    return {
        "due_date": info.due.due_date.isoformat() if info.due else None,
        "amount": str(info.due.amount) if info.due else None,
    }


def request_relief(
    session: Session, *, policy: Policy, option: str, conversation_id: str | None, today: date | None = None
) -> ServiceTicket:
    if option not in RELIEF_OPTIONS:
        raise ValueError(option)
    if policy.status is PolicyStatus.TERMINATED:
        raise PolicyNotEligible("terminated", policy_number=policy.number)
    info = premium_status(session, policy, today)
    payload = {
        "kind": "payment_relief",
        "option": option,
        "policy_number": policy.number,
        **_due_payload(info),
    }
    return open_service_ticket(
        session,
        ticket_type=TicketType.PAYMENT_RELIEF,
        catalog_key=option,
        subject=f"交费困难协助:{RELIEF_OPTIONS[option]}",
        policy=policy,
        conversation_id=conversation_id,
        payload=payload,
        idempotency_key=f"payment_relief:{policy.id}:{conversation_id or '-'}:{option}:{payload['due_date']}",
    )


def request_payment_followup(
    session: Session, *, policy: Policy, conversation_id: str | None, today: date | None = None
) -> Ticket:
    """A renewals specialist follows up a failed debit (PAYMENT_ISSUE), once per instalment."""
    info = premium_status(session, policy, today)
    payload = {
        "kind": "payment_issue",
        "policy_number": policy.number,
        **_due_payload(info),
        "failure_reason": info.last_failure.failure_reason if info.last_failure else None,
    }
    ticket, _ = create_ticket(
        session,
        ticket_type=TicketType.PAYMENT_ISSUE,
        customer_id=policy.policyholder_id,
        policy_id=policy.id,
        conversation_id=conversation_id,
        payload=payload,
        idempotency_key=f"payment_issue:{policy.id}:{conversation_id or '-'}:{payload['due_date']}",
    )
    return ticket


def is_unpaid(due: PremiumDue | None) -> bool:
    return due is not None and due.status in (PremiumStatus.PENDING, PremiumStatus.FAILED)
