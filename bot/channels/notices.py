"""Proactive messages worded by the app itself, for when Rasa cannot word them.

While a conversation is handed to a human agent the assistant is paused: a Rasa ``trigger_intent``
with an ``EXTERNAL_*`` intent then renders nothing and the customer would never hear about their
ticket, claim or premium. ``bot.channels.outbound`` therefore does not trigger Rasa during a
handover and sends the message worded here instead, as a plain message on the conversation's own
channel (the agent sees it in the live transcript). The same happens when Rasa answers a trigger
with nothing (e.g. a handover that was closed while Rasa was unreachable left it paused).

The wording is a copy of the ``domain.yml`` responses (same variants, same placeholders; the
entity → slot renames of the slot mappings are applied). ``tests/channels/test_handover_resend.py`` fails
when the two drift apart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Notice:
    response: str  # the domain.yml response this copies
    default: str  # the variant without a condition
    condition_slot: str | None = None  # the slot whose value picks a variant
    variants: dict[str, str] = field(default_factory=dict)  # slot value -> text
    renames: dict[str, str] = field(default_factory=dict)  # entity name -> slot name

    def render(self, entities: dict[str, Any]) -> str:
        slots: defaultdict[str, str] = defaultdict(str)
        for name, value in entities.items():
            slots[self.renames.get(name, name)] = "" if value is None else str(value)
        text = (
            self.variants.get(slots[self.condition_slot], self.default)
            if self.condition_slot
            else self.default
        )
        return text.format_map(slots)


NOTICES: dict[str, Notice] = {
    "EXTERNAL_ticket_update": Notice(
        response="utter_ticket_update",
        condition_slot="ticket_status_text",
        renames={"ticket_number": "ticket_update_number"},
        variants={
            "approved": "您好,您办理的业务(工单号 {ticket_update_number})已审核通过:{ticket_note}。"
            "感谢您的耐心等待,如有疑问欢迎随时联系我们。",
            "rejected": "您好,很抱歉,您办理的业务(工单号 {ticket_update_number})未能通过审核,"
            "原因是:{ticket_note}。如需帮助,您可以回复“转人工”,我们会为您详细说明。",
            "documents_requested": "您好,为继续办理您的业务(工单号 {ticket_update_number}),"
            "还需要您补充以下材料:{ticket_note}。您可以直接在本对话中发送照片或文件,感谢您的配合。",
        },
        default="您好,您的工单 {ticket_update_number} 有新的处理进展,请问还有什么可以帮到您的?",
    ),
    "EXTERNAL_premium_reminder": Notice(
        response="utter_premium_reminder",
        condition_slot="reminder_stage",
        variants={
            "d30": "【续期交费提醒】您好,您的保单 {masked_policy_number} 下一期保费 {premium_amount} 元"
            "将于 {premium_due_date} 到期,距交费日还有30天。请提前确认扣款银行卡余额充足,"
            "也可通过官方渠道自助交费。如已交费,请忽略本提醒;如不需要交费提醒,请回复“取消提醒”。",
            "d15": "【续期交费提醒】您好,您的保单 {masked_policy_number} 保费 {premium_amount} 元"
            "将于 {premium_due_date} 到期,距交费日还有15天。为保障您的保单持续有效,请留意按时交费。"
            "如已交费,请忽略本提醒。",
            "d7": "【续期交费提醒】您好,您的保单 {masked_policy_number} 保费 {premium_amount} 元"
            "将于 {premium_due_date} 到期,距交费日仅剩7天。请确认扣款账户余额充足;"
            "如需更换扣款账户或了解交费方式,请直接告诉我。",
            "d0": "【续期交费提醒】您好,今天({premium_due_date})是您的保单 {masked_policy_number} 的交费日,"
            "应交保费 {premium_amount} 元。请确认扣款账户余额充足,或及时通过官方渠道交费。"
            "如已交费,请忽略本提醒。",
            "grace": "【宽限期提醒】您好,您的保单 {masked_policy_number} 应于 {premium_due_date} 交纳的保费 "
            "{premium_amount} 元尚未交纳,目前处于宽限期内,宽限期至 {grace_end_date},期间保障不受影响;"
            "宽限期满仍未交费,保单效力将中止。如交费有困难,请回复“交费困难”,我们为您介绍缓交、"
            "减额交清等方案,或回复“转人工”由客服协助。",
        },
        default="【续期交费提醒】您好,您的保单 {masked_policy_number} 保费 {premium_amount} 元"
        "应于 {premium_due_date} 交纳,请留意按时交费。如已交费,请忽略本提醒。",
    ),
    "EXTERNAL_claim_update": Notice(
        response="utter_claim_update",
        default="您好,您的理赔案件 {claim_update_number} 有新进展:{claim_update_status}。"
        "如需了解详情,请回复“理赔进度”,或回复“转人工”。",
    ),
}


def render(intent: str, entities: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The message(s) for ``intent`` (Rasa-shaped), or none for an intent without a template."""
    notice = NOTICES.get(intent)
    if notice is None:
        return []
    return [{"text": notice.render(entities or {})}]
