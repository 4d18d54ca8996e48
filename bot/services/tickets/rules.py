"""Per ticket type: the team that works it, its SLA, whether it needs a second person (checker)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.labels_zh import TYPE_LABELS_ZH
from bot.models import Team, TicketPriority, TicketStatus, TicketType


@dataclass(frozen=True)
class TicketRule:
    team: Team
    sla_hours: int
    requires_checker: bool
    title_zh: str
    priority: TicketPriority = TicketPriority.NORMAL


def _rule(
    ticket_type: TicketType,
    team: Team,
    sla_hours: int,
    requires_checker: bool,
    priority: TicketPriority = TicketPriority.NORMAL,
) -> TicketRule:
    return TicketRule(team, sla_hours, requires_checker, TYPE_LABELS_ZH[ticket_type], priority)


_T = TicketType
TICKET_RULES: dict[TicketType, TicketRule] = {
    _T.CLAIM: _rule(_T.CLAIM, Team.CLAIMS, 72, False),
    _T.BENEFICIARY_CHANGE: _rule(_T.BENEFICIARY_CHANGE, Team.POLICY_SERVICE, 120, True),
    _T.CONTACT_CHANGE: _rule(_T.CONTACT_CHANGE, Team.POLICY_SERVICE, 48, True),
    _T.PAYMENT_ACCOUNT_CHANGE: _rule(_T.PAYMENT_ACCOUNT_CHANGE, Team.POLICY_SERVICE, 72, True),
    _T.SURRENDER: _rule(_T.SURRENDER, Team.POLICY_SERVICE, 120, False),
    _T.COOLING_OFF_CANCELLATION: _rule(_T.COOLING_OFF_CANCELLATION, Team.POLICY_SERVICE, 48, False),
    _T.REINSTATEMENT: _rule(_T.REINSTATEMENT, Team.POLICY_SERVICE, 120, False),
    _T.PAYMENT_RELIEF: _rule(_T.PAYMENT_RELIEF, Team.RENEWALS, 72, False),
    _T.PAYMENT_ISSUE: _rule(_T.PAYMENT_ISSUE, Team.RENEWALS, 48, False),
    _T.COMPLAINT: _rule(_T.COMPLAINT, Team.CUSTOMER_SERVICE, 24, False, TicketPriority.HIGH),
    _T.HUMAN_HANDOVER: _rule(_T.HUMAN_HANDOVER, Team.CUSTOMER_SERVICE, 1, False, TicketPriority.HIGH),
}

OPEN_STATUSES = (
    TicketStatus.OPEN,
    TicketStatus.IN_PROGRESS,
    TicketStatus.AWAITING_DOCUMENTS,
    TicketStatus.PENDING_APPROVAL,
)
