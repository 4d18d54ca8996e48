"""Numbers as customers type them: Arabic digits or small Chinese numerals (十二, 二十三, 两, 一百)."""

from __future__ import annotations

CN_DIGITS = {
    "零": 0,
    "〇": 0,
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
# A regex fragment matching what ``cn_number`` reads (1–4 digits or up to three numerals).
NUMBER_PATTERN = r"(?:\d{1,4}|[零〇一二两三四五六七八九十]{1,3})"


def cn_number(text: str) -> int | None:
    """``"12"`` → 12, ``"十二"`` → 12, ``"二十三"`` → 23, ``"两"`` → 2, ``"一百"`` → 100;
    None if not a number."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if text in ("百", "一百"):
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
