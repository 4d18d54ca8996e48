"""Reading what a customer types while reporting a claim: claim-type cue words, the police/photos
answer, the plate number, and which item of the summary they want to correct. No database, no Rasa."""

from __future__ import annotations

import re

from bot.models.enums import ClaimType
from bot.text.yes_no import parse_yes_no

# Free-text cues, checked in this order (death before illness before an accident, etc.).
_CUES: list[tuple[ClaimType, tuple[str, ...]]] = [
    (ClaimType.DEATH, ("身故", "去世", "过世", "死亡", "离世", "走了", "逝世", "身亡")),
    (
        ClaimType.CRITICAL_ILLNESS,
        ("重疾", "重大疾病", "癌", "肿瘤", "脑梗", "心梗", "白血病", "尿毒症", "中风"),
    ),
    (
        ClaimType.MOTOR,
        (
            "车险",
            "车祸",
            "追尾",
            "刮蹭",
            "剐蹭",
            "蹭",
            "刮花",
            "倒车",
            "车子",
            "我的车",
            "撞车",
            "撞了",
            "被撞",
            "碰撞",
            "车损",
            "开车",
            "车被",
            "爱车",
            "汽车",
            "交通事故",
        ),
    ),
    (ClaimType.ACCIDENT, ("意外", "摔", "骨折", "扭伤", "烫伤", "咬", "受伤", "伤残", "割伤")),
    (ClaimType.MEDICAL, ("医疗", "住院", "门诊", "看病", "手术", "医药费", "发烧", "急诊", "就医", "报销")),
]

PLATE_RE = re.compile(
    r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])\s*[·•.\-]?\s*([A-Z])\s*[·•.\-]?\s*([A-Z0-9]{5,6})(?![A-Z0-9])"
)

_POLICE = re.compile(r"警|110|122|交警|报案回执")
_PHOTO = re.compile(r"照|拍|相片|图片|视频|图")

CORRECTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("plate_number", ("车牌",)),
    ("police_reported", ("报警", "照片", "拍照", "警")),
    ("incident_time", ("时间", "日期", "几点", "哪天")),
    ("incident_place", ("地点", "地址", "位置", "在哪")),
    ("incident_description", ("经过", "描述", "情况", "过程")),
    ("claim_type", ("类型", "险种")),
]


def claim_type_from_cues(text: str) -> ClaimType | None:
    """The claim type a free-text cue names (追尾 → motor, 住院 → medical), checked in ``_CUES`` order."""
    for claim_type, cues in _CUES:
        if any(cue in text for cue in cues):
            return claim_type
    return None


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"[,,;;。、\s]|但是|但|也|并且|并|而且|然后", text) if c]


def parse_police_photos(text: str | None) -> tuple[bool | None, bool | None]:
    """Answers to "是否已经报警并拍摄了现场照片?": (police reported, photos taken), None if unsaid."""
    if not text:
        return None, None
    value = text.strip()
    if re.search(r"都没|都不|均未|全都没|两个都没", value):
        return False, False
    if re.search(r"都有|都报|都拍|都已|均已|全都", value):
        return True, True
    police: bool | None = None
    photos: bool | None = None
    for clause in _clauses(value):
        answer = parse_yes_no(clause)
        if answer is None and (_POLICE.search(clause) or _PHOTO.search(clause)):
            answer = True  # "报警了" / "拍照片了"
        if _POLICE.search(clause) and police is None:
            police = answer
        elif _PHOTO.search(clause) and photos is None:
            photos = answer
    if police is None and photos is None:
        both = parse_yes_no(value)
        return both, both
    return police, photos


def parse_photos(text: str | None) -> bool | None:
    if not text:
        return None
    _, photos = parse_police_photos(text)
    return photos if photos is not None else parse_yes_no(text)


def normalize_plate(text: str | None) -> str | None:
    """``京a·8k2j6`` → ``京A8K2J6``; None unless province + letter + 5 or 6 letters/digits."""
    if not text:
        return None
    m = PLATE_RE.search(str(text).upper())
    if m is None:
        return None
    return f"{m.group(1)}{m.group(2)}{m.group(3)}"


def correction_target(text: str | None) -> str | None:
    """Which item of the claim summary the customer wants to correct, as a slot name."""
    if not text:
        return None
    for slot, words in CORRECTIONS:
        if any(w in text for w in words):
            return slot
    return None
