"""Chinese labels shown to customers and staff, one table per thing."""

from __future__ import annotations

# --- text ---
from bot.models.enums import (
    ClaimStatus,
    ClaimType,
    LineOfBusiness,
    PaymentFrequency,
    PolicyStatus,
    StaffRole,
    Team,
    TicketPriority,
    TicketStatus,
    TicketType,
)

CLAIM_TYPE_ZH = {
    ClaimType.MOTOR: "车险",
    ClaimType.MEDICAL: "医疗",
    ClaimType.CRITICAL_ILLNESS: "重疾",
    ClaimType.ACCIDENT: "意外",
    ClaimType.DEATH: "身故",
}
LINE_ZH = {
    LineOfBusiness.LIFE: "寿险",
    LineOfBusiness.HEALTH: "健康险",
    LineOfBusiness.ACCIDENT: "意外险",
    LineOfBusiness.MOTOR: "车险",
}
# Where a claim stands, as the customer's status card says it ("当前进度:…").
CLAIM_PROGRESS_ZH = {
    ClaimStatus.REPORTED: "已报案,等待您提交理赔材料",
    ClaimStatus.DOCUMENTS_PENDING: "材料待补充,需要您补交材料后才能继续审核",
    ClaimStatus.UNDER_REVIEW: "理赔材料已齐全,正在审核中",
    ClaimStatus.APPROVED: "审核已通过,赔款正在安排支付",
    ClaimStatus.REJECTED: "审核未通过(拒赔)",
    ClaimStatus.PAID: "已赔付,赔款已转入您的收款账户",
}
# What happens next for a claim in this status ("下一步:…").
CLAIM_NEXT_STEP_ZH = {
    ClaimStatus.REPORTED: "请您尽快准备并提交以下材料,可以直接在本对话中发送照片或文件。",
    ClaimStatus.DOCUMENTS_PENDING: "请您补交以下材料,收到后我们会继续为您审核。",
    ClaimStatus.UNDER_REVIEW: "审核一般在5个工作日内完成,结果会第一时间通知您,无需您再操作。",
    ClaimStatus.APPROVED: "赔款一般在1至3个工作日内到账,请留意您的收款账户。",
    ClaimStatus.REJECTED: "如对审核结果有疑问,可以说“转人工”,我们会为您详细说明,您也可以提出申诉。",
    ClaimStatus.PAID: "本案已结案,如有其他问题欢迎随时联系我们。",
}
POLICY_STATUS_ZH = {
    PolicyStatus.COOLING_OFF: "犹豫期内",
    PolicyStatus.IN_FORCE: "有效",
    PolicyStatus.GRACE_PERIOD: "宽限期内(保费逾期未交)",
    PolicyStatus.LAPSED: "效力中止",
    PolicyStatus.TERMINATED: "已终止",
}
PAYMENT_FREQUENCY_ZH = {
    PaymentFrequency.SINGLE: "趸交",
    PaymentFrequency.ANNUAL: "年交",
    PaymentFrequency.SEMIANNUAL: "半年交",
    PaymentFrequency.QUARTERLY: "季交",
    PaymentFrequency.MONTHLY: "月交",
}
# Why a conversation went to a human (Handover.reason); unknown reasons are shown as they are.
HANDOVER_REASON_ZH = {
    "request_human": "客户要求转人工",
    "fallback": "智能助手无法处理",
    "rasa_unavailable": "智能助手暂不可用",
    "paused": "对话已暂停",
}
ROLE_LABELS_ZH = {
    StaffRole.AGENT: "客服坐席",
    StaffRole.PROCESSOR: "后台经办",
    StaffRole.REVIEWER: "复核员",
    StaffRole.SUPERVISOR: "主管",
}
TEAM_LABELS_ZH = {
    Team.CLAIMS: "理赔组",
    Team.POLICY_SERVICE: "保全组",
    Team.RENEWALS: "续期组",
    Team.CUSTOMER_SERVICE: "客服组",
}

# --- tickets ---

STATUS_LABELS_ZH: dict[TicketStatus, str] = {
    TicketStatus.OPEN: "待领取",
    TicketStatus.IN_PROGRESS: "处理中",
    TicketStatus.AWAITING_DOCUMENTS: "待补充材料",
    TicketStatus.PENDING_APPROVAL: "待复核",
    TicketStatus.APPROVED: "已通过",
    TicketStatus.REJECTED: "已驳回",
    TicketStatus.CLOSED: "已关闭",
}

TYPE_LABELS_ZH: dict[TicketType, str] = {
    TicketType.CLAIM: "理赔报案",
    TicketType.BENEFICIARY_CHANGE: "受益人变更",
    TicketType.CONTACT_CHANGE: "联系方式变更",
    TicketType.PAYMENT_ACCOUNT_CHANGE: "扣款账户变更",
    TicketType.SURRENDER: "退保申请",
    TicketType.COOLING_OFF_CANCELLATION: "犹豫期退保",
    TicketType.REINSTATEMENT: "保单复效",
    TicketType.PAYMENT_RELIEF: "交费困难协助",
    TicketType.PAYMENT_ISSUE: "扣款失败跟进",
    TicketType.COMPLAINT: "客户投诉",
    TicketType.HUMAN_HANDOVER: "转人工服务",
}

ACTION_LABELS_ZH: dict[str, str] = {
    "take": "领取",
    "assign": "分派",
    "request_documents": "要求补充材料",
    "resume": "恢复处理",
    "process": "提交复核",
    "approve": "审批通过",
    "reject": "驳回",
    "close": "关闭",
}

CONTACT_FIELD_LABELS_ZH: dict[str, str] = {"mobile": "手机号码", "email": "电子邮箱", "address": "联系地址"}

# --- channels ---
# The ticket desk (bot/web/staff/desk.py), the live queue (bot/web/staff/live.py) and the
# reports page (bot/web/staff/reports.py).

PRIORITY_LABELS_ZH = {
    TicketPriority.LOW: "低",
    TicketPriority.NORMAL: "普通",
    TicketPriority.HIGH: "高",
    TicketPriority.URGENT: "紧急",
}
EVENT_LABELS_ZH = {
    "created": "创建工单",
    "take": "领取",
    "assign": "分派",
    "comment": "备注",
    "request_documents": "要求补充材料",
    "resume": "恢复处理",
    "process": "经办完成,提交复核",
    "approve": "审批通过",
    "reject": "驳回",
    "close": "关闭",
    "notified": "通知客户",
    "routed": "转交小组",
    "document": "收到材料",
}
PAYLOAD_LABELS_ZH = {
    "kind": "业务",
    "policy_number": "保单号",
    "customer_id": "客户编号",
    "before": "变更前",
    "after": "变更后",
    "changed": "变更项",
    "account_holder": "账户户名",
    "opened_by": "创建坐席",
    "name": "姓名",
    "relationship": "与被保险人关系",
    "id_number": "身份证号",
    "share_pct": "受益比例(%)",
    "order": "受益顺序",
    "mobile": "手机号",
    "email": "电子邮箱",
    "address": "联系地址",
    "bank_name": "开户行",
    "bank_account": "银行账号",
    "reason": "原因",
    "description": "描述",
    "note": "说明",
}

CLAIM_STATUS_ZH = {
    ClaimStatus.REPORTED: "已报案",
    ClaimStatus.DOCUMENTS_PENDING: "待补充材料",
    ClaimStatus.UNDER_REVIEW: "审核中",
    ClaimStatus.APPROVED: "已核定",
    ClaimStatus.REJECTED: "拒赔",
    ClaimStatus.PAID: "已赔付",
}

HANDOVER_CHANNEL_ZH = {"telegram": "Telegram", "web": "网页在线客服", "hotline": "热线"}
HANDOVER_STATUS_ZH = {"waiting": "等待接入", "active": "服务中", "closed": "已交还"}
