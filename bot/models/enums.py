"""Statuses and kinds. Stored as their string values (native enums off for portable migrations)."""

from __future__ import annotations

import enum


class LineOfBusiness(str, enum.Enum):
    LIFE = "life"  # LF
    HEALTH = "health"  # HE
    ACCIDENT = "accident"  # AC
    MOTOR = "motor"  # AU

    @property
    def prefix(self) -> str:
        return {"life": "LF", "health": "HE", "accident": "AC", "motor": "AU"}[self.value]

    @classmethod
    def from_prefix(cls, prefix: str) -> LineOfBusiness:
        return {"LF": cls.LIFE, "HE": cls.HEALTH, "AC": cls.ACCIDENT, "AU": cls.MOTOR}[prefix.upper()]


class PolicyStatus(str, enum.Enum):
    COOLING_OFF = "cooling_off"  # 犹豫期内
    IN_FORCE = "in_force"  # 有效
    GRACE_PERIOD = "grace_period"  # 宽限期
    LAPSED = "lapsed"  # 效力中止
    TERMINATED = "terminated"  # 终止


class PaymentFrequency(str, enum.Enum):
    SINGLE = "single"  # 趸交
    ANNUAL = "annual"
    SEMIANNUAL = "semiannual"
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"

    @property
    def months(self) -> int:
        return {"single": 0, "annual": 12, "semiannual": 6, "quarterly": 3, "monthly": 1}[self.value]


class PremiumStatus(str, enum.Enum):
    PENDING = "pending"  # not yet paid, no failed debit
    FAILED = "failed"  # last debit failed, still unpaid
    PAID = "paid"
    WAIVED = "waived"  # e.g. premium waiver, or the policy ended


class ClaimType(str, enum.Enum):
    MOTOR = "motor"  # 车险
    MEDICAL = "medical"  # 医疗
    CRITICAL_ILLNESS = "critical_illness"  # 重疾
    ACCIDENT = "accident"  # 意外
    DEATH = "death"  # 身故


class ClaimStatus(str, enum.Enum):
    REPORTED = "reported"  # 已报案
    DOCUMENTS_PENDING = "documents_pending"  # 待补充材料
    UNDER_REVIEW = "under_review"  # 审核中
    APPROVED = "approved"  # 已核定赔付
    REJECTED = "rejected"  # 拒赔
    PAID = "paid"  # 已赔付到账


class TicketType(str, enum.Enum):
    CLAIM = "claim"
    BENEFICIARY_CHANGE = "beneficiary_change"
    CONTACT_CHANGE = "contact_change"
    PAYMENT_ACCOUNT_CHANGE = "payment_account_change"
    SURRENDER = "surrender"
    COOLING_OFF_CANCELLATION = "cooling_off_cancellation"
    REINSTATEMENT = "reinstatement"
    PAYMENT_RELIEF = "payment_relief"  # 缓交 / 减额交清 / 保单贷款
    PAYMENT_ISSUE = "payment_issue"  # failed debit follow-up
    COMPLAINT = "complaint"
    HUMAN_HANDOVER = "human_handover"


class Team(str, enum.Enum):
    CLAIMS = "claims"  # 理赔
    POLICY_SERVICE = "policy_service"  # 保全
    RENEWALS = "renewals"  # 续期
    CUSTOMER_SERVICE = "customer_service"  # 客服 (complaints, handover)


class TicketStatus(str, enum.Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    AWAITING_DOCUMENTS = "awaiting_documents"
    PENDING_APPROVAL = "pending_approval"  # processed by a maker, waits for a checker
    APPROVED = "approved"
    REJECTED = "rejected"
    CLOSED = "closed"


class TicketPriority(str, enum.Enum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class StaffRole(str, enum.Enum):
    AGENT = "agent"  # hotline agent 客服坐席
    PROCESSOR = "processor"  # back-office processor, belongs to a team
    REVIEWER = "reviewer"  # checker for sensitive changes
    SUPERVISOR = "supervisor"


class Channel(str, enum.Enum):
    TELEGRAM = "telegram"
    WEB = "web"
    HOTLINE = "hotline"


class ReminderStage(str, enum.Enum):
    DAYS_30 = "d30"
    DAYS_15 = "d15"
    DAYS_7 = "d7"
    DUE_DAY = "d0"
    GRACE = "grace"


class ReminderStatus(str, enum.Enum):
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
