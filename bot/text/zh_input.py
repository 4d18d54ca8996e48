"""What customers type for a change request, read into canonical values: relationships, shares,
banks, card numbers (with the Luhn check), e-mail addresses and names."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bot.text.zh_numbers import cn_number

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


def _longest_match(value: str, table: dict[str, tuple[str, ...]]) -> str | None:
    """The canonical key whose longest alias occurs in ``value`` (aliases compared lower-case)."""
    best: tuple[int, str] | None = None
    for canonical, words in table.items():
        for word in words:
            if word.lower() in value and (best is None or len(word) > best[0]):
                best = (len(word), canonical)
    return best[1] if best else None


def canonical_relationship(text: str | None) -> str | None:
    """``我女儿`` → ``子女``; ``老公`` → ``配偶``; None when no relationship is recognised."""
    value = re.sub(r"\s+", "", str(text or ""))
    return _longest_match(value, RELATIONSHIPS) if value else None


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
        n = cn_number(m.group(1))
        return Decimal(n) if n is not None else None
    m = re.search(r"([一二两三四五六七八九十])成", value)
    if m:
        n = cn_number(m.group(1))
        return Decimal(n * 10) if n is not None else None
    return None


def canonical_bank(text: str | None) -> str | None:
    """``招行`` → ``招商银行``; the bank's full name, or None for a bank we do not know."""
    value = re.sub(r"\s+", "", str(text or "")).lower()
    if not value:
        return None
    return _longest_match(value, {name: (name, *aliases) for name, aliases in BANKS.items()})


def card_digits(text: str | None) -> str | None:
    """The digits of a bank card number typed with spaces or dashes (16-19 digits), else None."""
    digits = re.sub(r"[\s-]", "", str(text or ""))
    m = re.search(r"(?<!\d)(\d{16,19})(?!\d)", digits)
    return m.group(1) if m else None


def _luhn_sum(digits: str, doubled: int) -> int:
    """The Luhn sum of ``digits``, doubling every second digit from the right starting at index
    ``doubled`` (1 for a full number, 0 for a number still missing its check digit)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == doubled:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total


def luhn_ok(number: str) -> bool:
    return _luhn_sum(number, 1) % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The digit that, appended to ``body``, makes a card number that passes ``luhn_ok``."""
    return str(-_luhn_sum(body, 0) % 10)


def email_of(text: str | None) -> str | None:
    """The e-mail address in what was typed, lower-case, or None when there is no valid one."""
    m = re.search(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+", str(text or "").strip())
    email = m.group(0).rstrip(".").lower() if m else ""
    return email if EMAIL_RE.match(email) else None


def names_match(given: str, on_file: str) -> bool:
    def norm(v: str) -> str:
        return re.sub(r"[\s·•.]", "", v).lower()

    return norm(given) == norm(on_file)
