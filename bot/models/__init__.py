"""SQLAlchemy 2.0 typed models. Importing this package registers every table on ``Base.metadata``."""

from bot.models.audit import AuditEntry, AuditHead
from bot.models.base import Base
from bot.models.channels import ChatMessage, Handover, HandoverStatus, TelegramCallback, TelegramUpdate
from bot.models.claim import Claim, Document
from bot.models.conversation import (
    ReminderRecord,
    VerificationAttempt,
    VerificationLock,
    VerifiedSession,
)
from bot.models.customer import ChannelBinding, Customer
from bot.models.enums import (
    Channel,
    ClaimStatus,
    ClaimType,
    LineOfBusiness,
    PaymentFrequency,
    PolicyStatus,
    PremiumStatus,
    ReminderStage,
    ReminderStatus,
    StaffRole,
    Team,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from bot.models.policy import Beneficiary, DebitAttempt, Policy, PremiumDue
from bot.models.staff import LoginAttempt, StaffSession, StaffUser
from bot.models.ticket import Ticket, TicketEvent

__all__ = [
    "AuditEntry",
    "AuditHead",
    "Base",
    "Beneficiary",
    "Channel",
    "ChannelBinding",
    "ChatMessage",
    "Claim",
    "ClaimStatus",
    "ClaimType",
    "Customer",
    "DebitAttempt",
    "Document",
    "Handover",
    "LoginAttempt",
    "HandoverStatus",
    "LineOfBusiness",
    "PaymentFrequency",
    "Policy",
    "PolicyStatus",
    "PremiumDue",
    "PremiumStatus",
    "ReminderRecord",
    "ReminderStage",
    "ReminderStatus",
    "StaffRole",
    "StaffSession",
    "StaffUser",
    "Team",
    "TelegramCallback",
    "TelegramUpdate",
    "Ticket",
    "TicketEvent",
    "TicketPriority",
    "TicketStatus",
    "TicketType",
    "VerificationAttempt",
    "VerificationLock",
    "VerifiedSession",
]
