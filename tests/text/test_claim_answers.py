"""What a customer answers while reporting a claim: claim-type cues, police/photos, plate, corrections."""

from __future__ import annotations

import pytest

from bot.models import ClaimType
from bot.text.claim_answers import (
    claim_type_from_cues,
    correction_target,
    normalize_plate,
    parse_photos,
    parse_police_photos,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("出了交通事故", ClaimType.MOTOR),
        ("要做手术", ClaimType.MEDICAL),
        ("确诊白血病", ClaimType.CRITICAL_ILLNESS),
        ("手被烫伤", ClaimType.ACCIDENT),
        ("意外身亡", ClaimType.DEATH),  # death is checked before an accident
        ("车险", ClaimType.MOTOR),
        ("随便问问", None),
    ],
)
def test_claim_type_cues(text, expected):
    assert claim_type_from_cues(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("已报警,已拍照", (True, True)),
        ("都没有", (False, False)),
        ("没报警,拍了照片", (False, True)),
        ("报警了", (True, None)),
        ("是的", (True, True)),
        ("没有", (False, False)),
        ("报了警但是没拍照", (True, False)),
    ],
)
def test_police_and_photos_answers(text, expected):
    assert parse_police_photos(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("京A8K2J6", "京A8K2J6"),
        ("车牌 沪a·12345", "沪A12345"),
        ("粤BD12345", "粤BD12345"),
        ("A12345", None),
        ("京A123", None),
        ("京12345", None),
    ],
)
def test_plate_numbers(text, expected):
    assert normalize_plate(text) == expected


def test_correction_targets():
    assert correction_target("地点说错了") == "incident_place"
    assert correction_target("修改事故时间") == "incident_time"
    assert correction_target("车牌号写错了") == "plate_number"
    assert correction_target("嗯") is None


def test_photos_alone():
    assert parse_photos("拍了照片") is True
    assert parse_photos("没拍") is False
    assert parse_photos("") is None
