"""Policy-service change requests made in the chat: beneficiaries, contact details, debit account.

The assistant never changes a policy itself. It validates what the customer asked for, builds a
change request and opens a ticket that a back-office processor works and a second person
approves (maker-checker, ``TICKET_RULES[...].requires_checker``). On final approval the desk
applies ``ticket.payload["after"]`` to the policy/customer.

Ticket payload formats (the contract with the ticket desk; full values, the desk masks them on
display; ``before`` is a snapshot taken when the ticket was opened):

``TicketType.BENEFICIARY_CHANGE``::

    {"kind": "beneficiary_change", "policy_number": "LF2023000123",
     "before": [{"name": "陈静", "relationship": "配偶", "id_number": "1101...",
                 "share_pct": "50.00", "order": 1}, ...],
     "after":  [{"name": "张子涵", "relationship": "子女", "id_number": "1101...",
                 "share_pct": "100.00", "order": 1}]}

  ``after`` replaces the policy's beneficiaries entirely. ``relationship`` is one of
  配偶/子女/父母/兄弟姐妹/其他 (relationship to the insured); ``share_pct`` is a decimal string,
  the shares of one ``order`` total exactly 100; every ``id_number`` passed the GB 11643 check.

``TicketType.CONTACT_CHANGE``::

    {"kind": "contact_change", "policy_number": "LF2023000123", "customer_id": 7,
     "before": {"mobile": "13800138000", "email": "a@b.cn", "address": "北京市..."},
     "after":  {"mobile": "13900001111", "email": "a@b.cn", "address": "北京市..."}}

  Applied to the policyholder (``Customer``); ``after`` holds all three fields, the changed
  one(s) new, the rest as before. ``changed`` lists the field names that differ.

``TicketType.PAYMENT_ACCOUNT_CHANGE``::

    {"kind": "payment_account_change", "policy_number": "LF2023000123",
     "before": {"bank_name": "中国工商银行", "bank_account": "6222021234567890123"},
     "after":  {"bank_name": "招商银行", "bank_account": "6225880137005311", "account_holder": "张伟"}}

  Applied to ``Policy.bank_name`` / ``Policy.bank_account``; the account holder is always the
  policyholder (checked here), the card number passed the Luhn check.

Ticket creation is idempotent: the key is derived from the conversation, the policy and the
requested values, so a retried action returns the ticket it already made.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from bot import catalog
from bot.errors import InvalidInput, PolicyNotEligible
from bot.ids import is_valid_id_number, normalize_id_number, normalize_mobile
from bot.masking import mask_address, mask_bank_account, mask_email, mask_id_number, mask_mobile, mask_name
from bot.models import Customer, Policy, PolicyStatus, Ticket, TicketType
from bot.services.tickets import create_ticket

MAX_BENEFICIARIES = 5
HUNDRED = Decimal("100")

RELATIONSHIPS: dict[str, tuple[str, ...]] = {
    "配偶": ("配偶", "老公", "老婆", "爱人", "丈夫", "妻子", "媳妇", "太太", "先生", "对象"),
    "子女": ("子女", "儿子", "女儿", "孩子", "小孩", "闺女", "宝宝", "儿女"),
    "父母": ("父母", "父亲", "母亲", "爸爸", "妈妈", "我爸", "我妈", "老爸", "老妈", "爸", "妈"),
    "兄弟姐妹": ("兄弟姐妹", "哥哥", "弟弟", "姐姐", "妹妹", "兄弟", "姐妹", "哥", "弟", "姐", "妹"),
    "其他": ("其他", "朋友", "亲戚", "侄子", "外甥", "孙子", "孙女", "爷爷", "奶奶", "外公", "外婆"),
}

BANKS: dict[str, tuple[str, ...]] = {
    "中国工商银行": ("工商银行", "工行", "icbc"),
    "中国建设银行": ("建设银行", "建行", "ccb"),
    "中国农业银行": ("农业银行", "农行", "abc"),
    "中国银行": ("中国银行", "中行", "boc"),
    "交通银行": ("交通银行", "交行"),
    "招商银行": ("招商银行", "招行", "cmb"),
    "中国邮政储蓄银行": ("邮政储蓄银行", "邮储银行", "邮储", "邮政"),
    "中信银行": ("中信银行", "中信"),
    "上海浦东发展银行": ("浦发银行", "浦发", "浦东发展银行"),
    "兴业银行": ("兴业银行", "兴业"),
    "中国民生银行": ("民生银行", "民生"),
    "中国光大银行": ("光大银行", "光大"),
    "平安银行": ("平安银行",),
    "华夏银行": ("华夏银行", "华夏"),
    "广发银行": ("广发银行", "广发"),
}

EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


class ChangeRequestInvalid(InvalidInput):
    """A change request that cannot be submitted; ``message_zh`` says why and what to do."""

    code = "change_invalid"

    def __init__(self, message_zh: str, **context: object) -> None:
        super().__init__(message_zh, **context)
        self.message_zh = message_zh


# --------------------------------------------------------------------------- parsing


def canonical_relationship(text: str | None) -> str | None:
    """``我女儿`` → ``子女``; ``老公`` → ``配偶``; None when no relationship is recognised."""
    value = re.sub(r"\s+", "", str(text or ""))
    if not value:
        return None
    best: tuple[int, str] | None = None
    for canonical, words in RELATIONSHIPS.items():
        for word in words:
            if word in value and (best is None or len(word) > best[0]):
                best = (len(word), canonical)
    return best[1] if best else None


def _cn_number(text: str) -> int | None:
    """Small Chinese numerals up to 100: 三十 → 30, 二十五 → 25, 一百 → 100."""
    if text == "一百" or text == "百":
        return 100
    if "十" in text:
        tens, _, ones = text.partition("十")
        t = CN_DIGITS.get(tens) if tens else 1
        o = CN_DIGITS.get(ones) if ones else 0
        if t is None or o is None:
            return None
        return t * 10 + o
    if len(text) == 1 and text in CN_DIGITS:
        return CN_DIGITS[text]
    return None


def parse_share(text: str | None) -> Decimal | None:
    """A share in percent: ``50%``, ``50``, ``百分之三十``, ``三成``, ``一半``, ``全部`` → Decimal."""
    value = re.sub(r"\s+", "", str(text or "")).replace("％", "%")
    if not value:
        return None
    if any(w in value for w in ("全部", "全额", "所有", "百分百", "百分之百")):
        return HUNDRED
    if "一半" in value or "平分" in value or "各半" in value:
        return Decimal("50")
    m = re.search(r"(\d{1,3}(?:\.\d{1,2})?)", value)
    if m:
        try:
            return Decimal(m.group(1))
        except InvalidOperation:  # pragma: no cover - the regex guarantees a number
            return None
    m = re.search(r"百分之([零一二两三四五六七八九十百]+)", value)
    if m:
        n = _cn_number(m.group(1))
        return Decimal(n) if n is not None else None
    m = re.search(r"([一二两三四五六七八九十])成", value)
    if m:
        n = _cn_number(m.group(1))
        return Decimal(n * 10) if n is not None else None
    return None


def canonical_bank(text: str | None) -> str | None:
    value = re.sub(r"\s+", "", str(text or "")).lower()
    if not value:
        return None
    best: tuple[int, str] | None = None
    for name, aliases in BANKS.items():
        for word in (name, *aliases):
            if word.lower() in value and (best is None or len(word) > best[0]):
                best = (len(word), name)
    return best[1] if best else None


def card_digits(text: str | None) -> str | None:
    """The digits of a bank card number typed with spaces or dashes (16-19 digits), else None."""
    digits = re.sub(r"[\s-]", "", str(text or ""))
    m = re.search(r"(?<!\d)(\d{16,19})(?!\d)", digits)
    return m.group(1) if m else None


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# --------------------------------------------------------------------------- beneficiaries


@dataclass
class NewBeneficiary:
    name: str
    relationship: str
    id_number: str
    share_pct: Decimal
    order: int = 1

    def as_payload(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "relationship": self.relationship,
            "id_number": self.id_number,
            "share_pct": str(self.share_pct.quantize(Decimal("0.01"))),
            "order": self.order,
        }

    def masked_zh(self) -> str:
        return (
            f"{mask_name(self.name)}({self.relationship}),身份证 {mask_id_number(self.id_number)},"
            f"受益比例 {format_pct(self.share_pct)}"
        )

    @classmethod
    def from_payload(cls, row: dict[str, Any]) -> NewBeneficiary:
        return cls(
            name=str(row["name"]),
            relationship=str(row["relationship"]),
            id_number=str(row["id_number"]),
            share_pct=Decimal(str(row["share_pct"])),
            order=int(row.get("order") or 1),
        )


def format_pct(value: Decimal) -> str:
    q = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{q:f}".rstrip("0").rstrip(".") if "." in f"{q:f}" else f"{q:f}"
    return f"{text}%"


def total_share(rows: list[NewBeneficiary]) -> Decimal:
    return sum((r.share_pct for r in rows), Decimal("0"))


def check_id_number(text: str | None, *, insured: Customer | None, taken: list[NewBeneficiary]) -> str:
    """A beneficiary's resident ID: 18 characters with a valid check digit, not the insured's,
    not twice in the list. Raises ``ChangeRequestInvalid`` with the reason in Chinese."""
    number = normalize_id_number(str(text or ""))
    if number is None:
        raw = re.sub(r"\s+", "", str(text or ""))
        if re.fullmatch(r"\d{17}[0-9Xx]", raw):
            raise ChangeRequestInvalid("这个身份证号码的校验位不正确,请您核对后重新输入18位身份证号码。")
        raise ChangeRequestInvalid("请输入受益人的18位居民身份证号码,最后一位可能是字母X。")
    if not is_valid_id_number(number):
        raise ChangeRequestInvalid("这个身份证号码的校验位不正确,请您核对后重新输入18位身份证号码。")
    if insured is not None and number == insured.id_number.upper():
        raise ChangeRequestInvalid("身故受益人不能是被保险人本人,请提供其他受益人的身份证号码。")
    if any(b.id_number == number for b in taken):
        raise ChangeRequestInvalid("这位受益人已经添加过了,请提供另一位受益人的身份证号码。")
    return number


def check_share(value: Decimal | None, *, taken: list[NewBeneficiary]) -> Decimal:
    """A share between 0 and what is left of 100%."""
    used = total_share(taken)
    left = HUNDRED - used
    if value is None or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise ChangeRequestInvalid(
            f"请输入这位受益人的受益比例,例如“50%”。目前已分配{format_pct(used)},还可分配{format_pct(left)}。"
        )
    if value > left:
        raise ChangeRequestInvalid(
            f"受益比例合计不能超过100%。目前已分配{format_pct(used)},"
            f"这位受益人最多还可分配{format_pct(left)},请重新输入。"
        )
    return value


def validate_beneficiaries(rows: list[NewBeneficiary], insured: Customer | None) -> None:
    if not rows:
        raise ChangeRequestInvalid("请至少添加一位受益人。")
    if len(rows) > MAX_BENEFICIARIES:
        raise ChangeRequestInvalid(f"每张保单最多可指定{MAX_BENEFICIARIES}位身故受益人。")
    ids = [r.id_number for r in rows]
    if len(set(ids)) != len(ids):
        raise ChangeRequestInvalid("同一位受益人只能添加一次。")
    for r in rows:
        if not is_valid_id_number(r.id_number):
            raise ChangeRequestInvalid(f"受益人{mask_name(r.name)}的身份证号码校验位不正确。")
        if insured is not None and r.id_number == insured.id_number.upper():
            raise ChangeRequestInvalid("身故受益人不能是被保险人本人。")
        if r.relationship not in RELATIONSHIPS:
            raise ChangeRequestInvalid(f"受益人{mask_name(r.name)}与被保险人的关系无法识别。")
    total = total_share(rows)
    if total != HUNDRED:
        raise ChangeRequestInvalid(
            f"受益比例合计须为100%,目前合计{format_pct(total)},还差{format_pct(HUNDRED - total)}。",
            total=str(total),
        )


def readback_beneficiaries_zh(rows: list[NewBeneficiary]) -> str:
    lines = [f"{i}. {r.masked_zh()}" for i, r in enumerate(rows, 1)]
    lines.append(f"受益比例合计:{format_pct(total_share(rows))}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- contact details

CONTACT_FIELDS = {"mobile": "手机号码", "email": "电子邮箱", "address": "联系地址"}


def contact_field_of(text: str | None) -> str | None:
    value = str(text or "").lower()
    if not value:
        return None
    if value.strip() in CONTACT_FIELDS:
        return value.strip()
    if any(w in value for w in ("手机", "电话", "号码", "mobile", "phone")):
        return "mobile"
    if any(w in value for w in ("邮箱", "email", "邮件", "e-mail")):
        return "email"
    if any(w in value for w in ("地址", "住址", "搬家", "address")):
        return "address"
    return None


def check_contact_value(field_name: str, text: str | None, customer: Customer | None) -> str:
    raw = str(text or "").strip()
    if field_name == "mobile":
        mobile = normalize_mobile(raw)
        if mobile is None:
            raise ChangeRequestInvalid("请输入11位中国大陆手机号码,以1开头,例如 139****5678 这样的格式。")
        if customer is not None and mobile == customer.mobile:
            raise ChangeRequestInvalid("这个手机号码与我们记录中的号码相同,无需变更。请提供新的手机号码。")
        return mobile
    if field_name == "email":
        m = re.search(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+", raw)
        email = m.group(0).rstrip(".").lower() if m else ""
        if not EMAIL_RE.match(email):
            raise ChangeRequestInvalid("请输入有效的电子邮箱地址,例如 name@example.com。")
        if customer is not None and customer.email and email == customer.email.lower():
            raise ChangeRequestInvalid("这个邮箱与我们记录中的邮箱相同,无需变更。请提供新的电子邮箱。")
        return email
    if field_name == "address":
        address = re.sub(r"^(新地址|地址|新的地址)(是|为|改成|:|:)?", "", raw).strip()
        if not (8 <= len(address) <= 120) or not re.search(r"[\u4e00-\u9fa5]", address):
            raise ChangeRequestInvalid("请输入完整的联系地址,包括省(市)、区(县)、街道和门牌号。")
        if not re.search(r"[省市区县旗州盟]", address):
            raise ChangeRequestInvalid("请输入完整的联系地址,包括省(市)、区(县)、街道和门牌号。")
        if customer is not None and customer.address and address == customer.address:
            raise ChangeRequestInvalid("这个地址与我们记录中的地址相同,无需变更。请提供新的联系地址。")
        return address
    raise ChangeRequestInvalid("请告诉我您要变更手机号码、电子邮箱还是联系地址。")


def mask_contact(field_name: str, value: str | None) -> str:
    return {"mobile": mask_mobile, "email": mask_email, "address": mask_address}[field_name](value)


# --------------------------------------------------------------------------- payment account


def check_card_number(text: str | None, policy: Policy | None) -> str:
    number = card_digits(text)
    if number is None:
        raise ChangeRequestInvalid("请输入16至19位的银行卡号(借记卡),可以带空格。")
    if policy is not None and policy.bank_account and number == policy.bank_account.replace(" ", ""):
        raise ChangeRequestInvalid("这张银行卡就是目前的扣款账户,无需变更。请提供一张新的银行卡。")
    if not luhn_ok(number):
        raise ChangeRequestInvalid("这个银行卡号没有通过校验(可能有数字输错了),请您核对卡号后重新输入。")
    return number


def names_match(given: str, on_file: str) -> bool:
    def norm(v: str) -> str:
        return re.sub(r"[\s·•.]", "", v).lower()

    return norm(given) == norm(on_file)


# --------------------------------------------------------------------------- tickets


@dataclass
class ChangeTicket:
    ticket: Ticket
    created: bool
    checklist_zh: str
    timeline_zh: str
    next_steps_zh: str
    requires_checker: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def _key(kind: str, conversation_id: str | None, policy: Policy, after: Any) -> str:
    digest = hashlib.sha256(json.dumps(after, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
    return f"{kind}:{policy.id}:{conversation_id or '-'}:{digest}"


def _open(
    session: Session,
    *,
    ticket_type: TicketType,
    catalog_key: str,
    policy: Policy,
    conversation_id: str | None,
    payload: dict[str, Any],
    conditions: dict[str, bool | None] | None = None,
) -> ChangeTicket:
    if policy.status is PolicyStatus.TERMINATED:
        raise PolicyNotEligible("policy terminated", policy_number=policy.number)
    ticket, created = create_ticket(
        session,
        ticket_type=ticket_type,
        customer_id=policy.policyholder_id,
        policy_id=policy.id,
        conversation_id=conversation_id,
        payload=payload,
        idempotency_key=_key(payload["kind"], conversation_id, policy, payload["after"]),
    )
    item = catalog.entry(catalog_key)
    requirements = catalog.service_requirements(catalog_key, **(conditions or {}))
    return ChangeTicket(
        ticket=ticket,
        created=created,
        checklist_zh=catalog.format_checklist_zh(requirements),
        timeline_zh=item.timeline,
        next_steps_zh=item.next_steps,
        requires_checker=ticket.requires_checker,
    )


def request_beneficiary_change(
    session: Session, *, policy: Policy, rows: list[NewBeneficiary], conversation_id: str | None
) -> ChangeTicket:
    insured = session.get(Customer, policy.insured_id)
    validate_beneficiaries(rows, insured)
    payload = {
        "kind": "beneficiary_change",
        "policy_number": policy.number,
        "before": [
            {
                "name": b.name,
                "relationship": b.relationship_to_insured,
                "id_number": b.id_number,
                "share_pct": str(Decimal(b.share_pct).quantize(Decimal("0.01"))),
                "order": b.order,
            }
            for b in policy.beneficiaries
        ],
        "after": [r.as_payload() for r in rows],
    }
    minor = None
    if insured is not None:
        from datetime import date

        today = date.today()
        b = insured.birth_date
        minor = (today.year - b.year - ((today.month, today.day) < (b.month, b.day))) < 18
    return _open(
        session,
        ticket_type=TicketType.BENEFICIARY_CHANGE,
        catalog_key="beneficiary_change",
        policy=policy,
        conversation_id=conversation_id,
        payload=payload,
        conditions={"minor_insured": minor},
    )


def request_contact_change(
    session: Session, *, policy: Policy, field_name: str, value: str, conversation_id: str | None
) -> ChangeTicket:
    holder = session.get(Customer, policy.policyholder_id)
    if holder is None:  # pragma: no cover - FK guarantees it
        raise PolicyNotEligible("no policyholder")
    new_value = check_contact_value(field_name, value, holder)
    before = {"mobile": holder.mobile, "email": holder.email, "address": holder.address}
    after = dict(before)
    after[field_name] = new_value
    payload = {
        "kind": "contact_change",
        "policy_number": policy.number,
        "customer_id": holder.id,
        "before": before,
        "after": after,
        "changed": [field_name],
    }
    return _open(
        session,
        ticket_type=TicketType.CONTACT_CHANGE,
        catalog_key="contact_change",
        policy=policy,
        conversation_id=conversation_id,
        payload=payload,
    )


def request_payment_account_change(
    session: Session,
    *,
    policy: Policy,
    bank_name: str,
    card_number: str,
    holder_name: str,
    conversation_id: str | None,
) -> ChangeTicket:
    holder = session.get(Customer, policy.policyholder_id)
    bank = canonical_bank(bank_name)
    if bank is None:
        raise ChangeRequestInvalid("暂不支持该银行,请提供一家常见全国性银行的借记卡。")
    number = check_card_number(card_number, policy)
    if holder is None or not names_match(holder_name, holder.name):
        raise ChangeRequestInvalid("扣款账户须为投保人本人名下的银行卡,请提供投保人本人的银行卡。")
    payload = {
        "kind": "payment_account_change",
        "policy_number": policy.number,
        "before": {"bank_name": policy.bank_name, "bank_account": policy.bank_account},
        "after": {"bank_name": bank, "bank_account": number, "account_holder": holder.name},
    }
    return _open(
        session,
        ticket_type=TicketType.PAYMENT_ACCOUNT_CHANGE,
        catalog_key="payment_account_change",
        policy=policy,
        conversation_id=conversation_id,
        payload=payload,
    )


def readback_payment_account_zh(bank_name: str, card_number: str, holder_name: str) -> str:
    return f"开户银行:{bank_name}\n银行卡号:{mask_bank_account(card_number)}\n开户人:{mask_name(holder_name)}"


def readback_contact_zh(field_name: str, value: str, customer: Customer | None) -> str:
    old = getattr(customer, field_name, None) if customer is not None else None
    label = CONTACT_FIELDS[field_name]
    old_text = mask_contact(field_name, old) if old else "未登记"
    return f"变更项目:{label}\n原{label}:{old_text}\n新{label}:{mask_contact(field_name, value)}"
