"""Payment account change: the bank account premiums are debited from.

Stored payload (``TicketType.PAYMENT_ACCOUNT_CHANGE``)::

    {"kind": "payment_account_change", "policy_number": "LF2023000123",
     "before": {"bank_name": "中国工商银行", "bank_account": "6222021234567890123"},
     "after":  {"bank_name": "招商银行", "bank_account": "6225880137005311", "account_holder": "张伟"}}

Applied to ``Policy.bank_name`` / ``Policy.bank_account``; the account holder is the policyholder,
the card number passes the Luhn check. The demo seed writes the same shape; any other is refused
at the desk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from bot.errors import ChangeRequestInvalid
from bot.masking import mask_bank_account, mask_name
from bot.models import Customer, Policy, Ticket, TicketType
from bot.services.changes.common import (
    mapping,
    only_keys,
    open_change_ticket,
    policy_of,
    record_applied,
    text_of,
)
from bot.services.tickets.create import ServiceTicket
from bot.text.zh_input import canonical_bank, card_digits, luhn_ok, names_match

ACCOUNT_KEYS = ("bank_name", "bank_account")
CARD_FORMAT_ZH = "请输入16至19位的银行卡号(借记卡),可以带空格。"


@dataclass(frozen=True)
class PaymentAccountChange:
    """The change a payment-account ticket carries: the new bank and card number, in whose name."""

    ticket_type: ClassVar[TicketType] = TicketType.PAYMENT_ACCOUNT_CHANGE
    bank_name: str
    bank_account: str
    account_holder: str
    before: Mapping[str, str | None] = field(default_factory=dict)
    policy_number: str | None = None

    def to_json(self) -> dict[str, Any]:
        after = {
            "bank_name": self.bank_name,
            "bank_account": self.bank_account,
            "account_holder": self.account_holder,
        }
        return {
            "kind": self.ticket_type.value,
            "policy_number": self.policy_number,
            "before": dict(self.before),
            "after": after,
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> PaymentAccountChange:
        data = mapping(payload, "变更信息")
        only_keys(data, ("kind", "policy_number", "before", "after"))
        after = mapping(data.get("after"), "新账户信息")
        only_keys(after, (*ACCOUNT_KEYS, "account_holder"))
        before = mapping(data.get("before", {}), "原账户信息")
        only_keys(before, ACCOUNT_KEYS)
        number = data.get("policy_number")
        return cls(
            bank_name=text_of(after, "bank_name") or "",
            bank_account=(text_of(after, "bank_account") or "").replace(" ", ""),
            account_holder=text_of(after, "account_holder") or "",
            before={k: text_of(before, k) for k in before},
            policy_number=str(number) if number else None,
        )


def check_card_number(text: str | None, policy: Policy | None) -> str:
    """The card number in what was typed: 16-19 digits, a new account, passing the Luhn check."""
    number = card_digits(text)
    if number is None:
        raise ChangeRequestInvalid(CARD_FORMAT_ZH)
    if policy is not None and policy.bank_account and number == policy.bank_account.replace(" ", ""):
        raise ChangeRequestInvalid("这张银行卡就是目前的扣款账户,无需变更。请提供一张新的银行卡。")
    if not luhn_ok(number):
        raise ChangeRequestInvalid("这个银行卡号没有通过校验(可能有数字输错了),请您核对卡号后重新输入。")
    return number


def validate(session: Session, policy: Policy, change: PaymentAccountChange) -> None:
    """The rules of a payment account change, at creation and again at the desk."""
    if canonical_bank(change.bank_name) is None:
        raise ChangeRequestInvalid("暂不支持该银行,请提供一家常见全国性银行的借记卡。")
    if check_card_number(change.bank_account, policy) != change.bank_account:
        raise ChangeRequestInvalid(CARD_FORMAT_ZH)
    holder = session.get(Customer, policy.policyholder_id)
    if holder is None or not names_match(change.account_holder, holder.name):
        raise ChangeRequestInvalid("扣款账户须为投保人本人名下的银行卡,请提供投保人本人的银行卡。")


def readback_payment_account_zh(bank_name: str, card_number: str, holder_name: str) -> str:
    return f"开户银行:{bank_name}\n银行卡号:{mask_bank_account(card_number)}\n开户人:{mask_name(holder_name)}"


def request_payment_account_change(
    session: Session,
    *,
    policy: Policy,
    bank_name: str,
    card_number: str,
    holder_name: str,
    conversation_id: str | None,
) -> ServiceTicket:
    bank = canonical_bank(bank_name)
    change = PaymentAccountChange(
        bank_name=bank or bank_name,
        bank_account=card_digits(card_number) or card_number,
        account_holder=holder_name,
        before={"bank_name": policy.bank_name, "bank_account": policy.bank_account},
        policy_number=policy.number,
    )
    validate(session, policy, change)
    holder = session.get(Customer, policy.policyholder_id)
    if holder is not None:  # validate() checked the names match: store the name on file
        change = replace(change, account_holder=holder.name)
    return open_change_ticket(session, change, policy=policy, conversation_id=conversation_id)


def check(session: Session, ticket: Ticket) -> tuple[Policy, PaymentAccountChange]:
    change = PaymentAccountChange.from_json(ticket.payload or {})
    policy = policy_of(session, ticket)
    validate(session, policy, change)
    return policy, change


def apply(session: Session, actor: str, ticket: Ticket) -> dict[str, Any]:
    policy, change = check(session, ticket)
    before = {"bank_name": policy.bank_name, "bank_account": mask_bank_account(policy.bank_account)}
    policy.bank_name = change.bank_name
    policy.bank_account = change.bank_account
    after = {"bank_name": change.bank_name, "bank_account": mask_bank_account(change.bank_account)}
    record_applied(session, actor, "update_payment_account", policy, before=before, after=after)
    return {"policy": policy.number, "fields": ["bank_name", "bank_account"]}
