"""Surrender, reinstatement, cooling-off and waiting period, answered from a policy's real state,
and the tickets that open a surrender / cooling-off cancellation / reinstatement.

Ticket payloads: ``{"kind": "surrender" | "cooling_off_cancellation" | "reinstatement",
"policy_number": ..., "status": <policy status at request>, ...}`` (reinstatement adds
``lapsed_on`` and ``deadline``; surrender adds ``cash_value`` when known).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from bot.clock import local_today
from bot.errors import PolicyNotEligible
from bot.models import Policy, PolicyStatus, TicketType
from bot.services.payments import fmt_date, fmt_money
from bot.services.policies import cooling_off_ends
from bot.services.tickets.create import ServiceTicket, open_service_ticket

REINSTATEMENT_YEARS = 2

# What each service's offer is about: kind → (TicketType, catalog key).
SERVICE_KINDS: dict[str, TicketType] = {
    "surrender": TicketType.SURRENDER,
    "cooling_off_cancellation": TicketType.COOLING_OFF_CANCELLATION,
    "reinstatement": TicketType.REINSTATEMENT,
}


def reinstatement_deadline(lapsed_on: date) -> date:
    try:
        return lapsed_on.replace(year=lapsed_on.year + REINSTATEMENT_YEARS)
    except ValueError:  # 29 February
        return lapsed_on.replace(year=lapsed_on.year + REINSTATEMENT_YEARS, day=28)


def in_cooling_off(policy: Policy, today: date) -> bool:
    return policy.status in (PolicyStatus.COOLING_OFF, PolicyStatus.IN_FORCE) and today <= cooling_off_ends(
        policy
    )


@dataclass
class ServiceAnswer:
    """The reply text and, when the customer may go on to apply, which ticket kind to offer."""

    text: str
    offer: str | None = None


def cooling_off_answer(policy: Policy, today: date | None = None) -> ServiceAnswer:
    today = today or local_today()
    ends = cooling_off_ends(policy)
    head = f"您的保单 {policy.number} 犹豫期为{policy.cooling_off_days}天(自签收保单次日起算),"
    if policy.status is PolicyStatus.TERMINATED:
        return ServiceAnswer(head + "该保单已终止,无法办理犹豫期退保。")
    if in_cooling_off(policy, today):
        left = (ends - today).days
        return ServiceAnswer(
            head + f"犹豫期至{fmt_date(ends)}止,目前仍在犹豫期内(还剩{left}天)。"
            "犹豫期内退保,通常无息退还已交保费(部分产品可能扣除少量工本费),退保后保障即终止。"
            "需要我为您提交犹豫期退保申请吗?",
            offer="cooling_off_cancellation",
        )
    return ServiceAnswer(
        head + f"犹豫期已于{fmt_date(ends)}届满。犹豫期后解除合同按退保处理,退还保单现金价值,可能会有损失。"
        "如需了解退保,可以直接问我“退保能退多少”。"
    )


def surrender_answer(session: Session, policy: Policy, today: date | None = None) -> ServiceAnswer:
    today = today or local_today()
    if policy.status is PolicyStatus.TERMINATED:
        return ServiceAnswer(
            f"您的保单 {policy.number} 已终止,无需再办理退保。如有疑问可以转人工客服为您核实。"
        )
    if in_cooling_off(policy, today):
        return ServiceAnswer(
            f"您的保单 {policy.number} 目前还在犹豫期内(至{fmt_date(cooling_off_ends(policy))}止),"
            "此时解除合同按犹豫期退保处理,通常无息退还已交保费,损失最小。需要我为您提交犹豫期退保申请吗?",
            offer="cooling_off_cancellation",
        )
    value = (
        f"按您的保单最近一个保单年度末的现金价值计算,退保金约为{fmt_money(policy.cash_value)}"
        "(以办理时的实际计算为准)。"
        if policy.cash_value is not None
        else "退保金按保单的现金价值计算,具体金额以办理时的计算为准。"
    )
    return ServiceAnswer(
        f"您的保单 {policy.number} 已过犹豫期,{value}"
        "请您注意:退保金通常低于已交保费,可能会有损失;退保后保障随即终止,以后重新投保可能因年龄、健康原因费用更高甚至无法投保。"
        "如果只是暂时资金紧张,也可以考虑保单贷款、缓交或减额交清。"
        "如您确认要退保,需要我为您提交退保申请吗?",
        offer="surrender",
    )


def reinstatement_answer(policy: Policy, today: date | None = None) -> ServiceAnswer:
    today = today or local_today()
    if policy.status is PolicyStatus.TERMINATED:
        return ServiceAnswer(
            f"您的保单 {policy.number} 已终止,无法申请复效。如有疑问可以转人工客服为您核实。"
        )
    if policy.status is not PolicyStatus.LAPSED or policy.lapsed_on is None:
        extra = ""
        if policy.status is PolicyStatus.GRACE_PERIOD:
            extra = "不过您的保单目前处于宽限期,请尽快补交保费,以免效力中止。"
        return ServiceAnswer(f"您的保单 {policy.number} 目前效力正常,无需办理复效。{extra}")
    deadline = reinstatement_deadline(policy.lapsed_on)
    since = f"您的保单 {policy.number} 自{fmt_date(policy.lapsed_on)}起效力中止。"
    if today <= deadline:
        return ServiceAnswer(
            since + f"效力中止后两年内可以申请复效,您可以在{fmt_date(deadline)}前申请。"
            "复效需要被保险人如实填写健康声明,补交效力中止期间欠交的保费及利息,经核保同意后保单恢复效力。"
            "需要我为您提交复效申请吗?",
            offer="reinstatement",
        )
    return ServiceAnswer(
        since + f"复效须在效力中止之日起两年内申请,您的保单已于{fmt_date(deadline)}超过复效期限,"
        "很抱歉无法再办理复效。您可以咨询退还现金价值等事宜,或者转人工客服为您详细说明。"
    )


def waiting_period_answer(policy: Policy, today: date | None = None) -> ServiceAnswer:
    today = today or local_today()
    days = policy.waiting_period_days
    if not days:
        return ServiceAnswer(
            f"您的保单 {policy.number} 没有等待期,保障自生效日({fmt_date(policy.effective_date)})起开始。"
        )
    ends = policy.effective_date + timedelta(days=days)
    head = (
        f"您的保单 {policy.number} 等待期为{days}天,"
        f"自生效日{fmt_date(policy.effective_date)}起算,至{fmt_date(ends)}止。"
    )
    if today < ends:
        return ServiceAnswer(
            head + f"目前仍在等待期内(还剩{(ends - today).days}天)。等待期内因疾病发生的保险事故,"
            "一般不承担保险责任(意外导致的除外),具体以合同条款为准。"
        )
    return ServiceAnswer(head + "等待期已经结束,保障已全面生效。")


GENERAL_ANSWERS = {
    "ask_surrender": "退保是指解除保险合同:犹豫期内退保通常无息退还已交保费;"
    "犹豫期后退保退还保单的现金价值,通常低于已交保费,可能会有损失,且保障随即终止。如只是暂时资金紧张,也可以考虑保单贷款、缓交或减额交清。",
    "ask_reinstatement": "保单因未按时交费效力中止后,两年内可以申请复效:"
    "需要被保险人填写健康声明,补交欠交的保费及利息,经核保同意后恢复效力;超过两年未复效的,保险公司可以解除合同。",
    "ask_cooling_off": "犹豫期一般为签收保单次日起15天(部分产品20天,以合同为准)。犹豫期内解除合同,"
    "通常无息退还已交保费(可能扣除少量工本费);犹豫期后解除合同,只能退还现金价值。",
    "ask_waiting_period": "等待期是健康类保险合同生效后的一段观察期,常见为医疗险30天、重疾险90至180天,"
    "意外导致的通常没有等待期;等待期内因疾病发生的保险事故一般不赔,续保不再计算等待期,具体以合同条款为准。",
}


def general_answer(intent: str) -> str:
    return GENERAL_ANSWERS[intent]


def request_service(
    session: Session, *, policy: Policy, kind: str, conversation_id: str | None, today: date | None = None
) -> ServiceTicket:
    """Open the surrender / cooling-off cancellation / reinstatement ticket (idempotent)."""
    today = today or local_today()
    ticket_type = SERVICE_KINDS[kind]
    extra: dict[str, str | None] = {}
    if kind == "cooling_off_cancellation" and not in_cooling_off(policy, today):
        raise PolicyNotEligible("cooling-off over", policy_number=policy.number)
    if kind == "surrender" and policy.status is PolicyStatus.TERMINATED:
        raise PolicyNotEligible("terminated", policy_number=policy.number)
    if kind == "surrender":
        extra["cash_value"] = str(policy.cash_value) if policy.cash_value is not None else None
    if kind == "reinstatement":
        if policy.status is not PolicyStatus.LAPSED or policy.lapsed_on is None:
            raise PolicyNotEligible("not lapsed", policy_number=policy.number)
        deadline = reinstatement_deadline(policy.lapsed_on)
        if today > deadline:
            raise PolicyNotEligible("reinstatement window over", policy_number=policy.number)
        extra.update(lapsed_on=policy.lapsed_on.isoformat(), deadline=deadline.isoformat())
    payload = {"kind": kind, "policy_number": policy.number, "status": policy.status.value, **extra}
    return open_service_ticket(
        session,
        ticket_type=ticket_type,
        catalog_key=kind,
        policy=policy,
        conversation_id=conversation_id,
        payload=payload,
        idempotency_key=f"{kind}:{policy.id}:{conversation_id or '-'}",
    )
