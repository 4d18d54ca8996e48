"""The NLU's number and business-name patterns and training-data contract, checked without Rasa.

The regexes in data/nlu/patterns.yml are what RegexEntityExtractor and RegexFeaturizer use
(case-insensitive, ``re.finditer`` over the raw text). They must find numbers inside Chinese
sentences, where Python's ``\\b`` does not work, and must not fire on near misses.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NLU_DIR = ROOT / "data" / "nlu"
INTENTS_DOC = ROOT.parent / "shared" / "docs" / "intents.md"

CONTRACT_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "stop", "inform", "bot_challenge",
    "request_human", "complain", "out_of_scope", "report_claim", "ask_claim_status",
    "ask_documents", "query_policy", "change_beneficiary", "change_contact_info",
    "change_payment_account", "ask_premium_due", "ask_payment_methods", "report_payment_failed",
    "ask_grace_period", "request_payment_relief", "subscribe_reminders", "unsubscribe_reminders",
    "ask_surrender", "ask_reinstatement", "ask_cooling_off", "ask_waiting_period",
}  # fmt: skip
CONTRACT_ENTITIES = {
    "policy_number", "claim_number", "ticket_number", "id_number", "phone_number", "person_name",
    "relationship", "claim_type", "business_type", "plate_number", "date", "amount", "share",
}  # fmt: skip
REGEX_ENTITIES = {
    "policy_number", "claim_number", "ticket_number", "id_number", "phone_number", "plate_number",
    "business_type",
}  # fmt: skip
FEATURE_ONLY_REGEXES = {"call_off"}  # features for the classifiers, never extracted as entities
CANONICAL = {
    "relationship": {"配偶", "子女", "父母", "兄弟姐妹", "其他"},
    "claim_type": {"车险", "医疗", "重疾", "意外", "身故"},
    "business_type": {"理赔", "受益人变更", "联系方式变更", "扣款账户变更", "复效", "退保", "犹豫期退保",
                      "保单贷款", "缓交", "减额交清"},
}  # fmt: skip
MIN_EXAMPLES = 40

# [text](entity) or [text]{"entity": "...", ...}
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\((\w+)(?::[^)]*)?\)|\{([^}]*)\})")

GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GB11643_CHECK = "10X98765432"


def _load_items() -> list[dict]:
    items: list[dict] = []
    for path in sorted(NLU_DIR.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert str(doc.get("version")) == "3.1", path
        items.extend(doc.get("nlu") or [])
    return items


def _examples(block: str) -> list[str]:
    return [line[2:].strip() for line in block.splitlines() if line.startswith("- ")]


ITEMS = _load_items()
PATTERNS: dict[str, list[re.Pattern[str]]] = {
    item["regex"]: [re.compile(p, re.IGNORECASE) for p in _examples(item["examples"])]
    for item in ITEMS
    if "regex" in item
}


def find(entity: str, text: str) -> list[str]:
    """Every value the entity's patterns extract from text, as RegexEntityExtractor would."""
    return [m.group(0) for pattern in PATTERNS[entity] for m in pattern.finditer(text)]


def valid_resident_id(value: str) -> bool:
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], GB11643_WEIGHTS, strict=True))
    return GB11643_CHECK[total % 11] == value[17].upper()


def test_every_regex_entity_has_a_pattern() -> None:
    assert set(PATTERNS) == REGEX_ENTITIES | FEATURE_ONLY_REGEXES
    assert not FEATURE_ONLY_REGEXES & CONTRACT_ENTITIES  # else RegexEntityExtractor would extract it


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我想改受益人", ["改受益人"]),
        ("犹豫期内退保要扣钱吗", ["犹豫期内退保"]),
        ("过了犹豫期退保扣多少", ["退保"]),  # a surrender after the cooling-off period
        ("申请理赔要什么材料", ["理赔"]),
        ("理赔款什么时候到 理赔员说要等", []),  # money and a person, not the business
        ("退保金怎么算", []),
        ("减额缴清和保单贷款哪个划算", ["减额缴清", "保单贷款"]),
        ("我换手机号了", ["换手机号"]),
    ],
)
def test_business_names_found_in_chinese_text(text: str, expected: list[str]) -> None:
    assert find("business_type", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("保单号LF2023000456想退保", ["LF2023000456"]),
        ("我的保单lf2023000456下期什么时候交", ["lf2023000456"]),
        ("单号是LF 2023 000456", ["LF 2023 000456"]),
        ("HE2024000567的等待期过了吗", ["HE2024000567"]),
        ("车险AU2025000316,意外险AC2022001890", ["AU2025000316", "AC2022001890"]),
        ("LF2023000123", ["LF2023000123"]),
    ],
)
def test_policy_number_found_in_chinese_text(text: str, expected: list[str]) -> None:
    assert find("policy_number", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "保单号LF20230004567想退保",  # 7-digit serial
        "保单号LF202300045想退保",  # 5-digit serial
        "保单号XX2023000456",  # unknown line of business
        "保单号ALF2023000456",  # glued to another letter
        "CL2023000456",  # a claim-like prefix is no policy
    ],
)
def test_policy_number_rejects_near_misses(text: str) -> None:
    assert find("policy_number", text) == []


def test_claim_and_ticket_numbers() -> None:
    assert find("claim_number", "案件号CL2026001234到哪一步了") == ["CL2026001234"]
    assert find("claim_number", "cl2026001234进度") == ["cl2026001234"]
    assert find("claim_number", "CL202600123到哪了") == []  # 9 digits
    assert find("claim_number", "CL20260012345到哪了") == []  # 11 digits
    assert find("claim_number", "TK2026001234") == []
    assert find("ticket_number", "工单TK2026000123处理得怎么样了") == ["TK2026000123"]
    assert find("ticket_number", "工单TK202600012处理得怎么样了") == []
    assert find("ticket_number", "CL2026000123") == []


def test_resident_id_found_in_chinese_text() -> None:
    assert find("id_number", "身份证号310104198902129314谢谢") == ["310104198902129314"]
    assert find("id_number", "我的身份证是35020319890725476X,手机13812345678") == ["35020319890725476X"]
    assert find("id_number", "证件50010319580425132x") == ["50010319580425132x"]
    assert find("id_number", "身份证后六位25476X") == ["25476X"]
    assert find("id_number", "身份证后六位是043818") == ["043818"]


@pytest.mark.parametrize(
    "text",
    [
        "身份证31010419890212931",  # 17 digits
        "身份证3101041989021293145",  # 19 digits
        "身份证310104198913129314",  # month 13
        "身份证310104198902329314",  # day 32
        "编号123456",  # six digits without the 后六位 context
    ],
)
def test_resident_id_rejects_near_misses(text: str) -> None:
    assert find("id_number", text) == []


def test_resident_ids_in_training_data_carry_valid_check_digits() -> None:
    for value in _annotated_values("id_number"):
        if len(value) == 18:
            assert valid_resident_id(value), value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的新号码是13812345678谢谢", ["13812345678"]),
        ("电话换成18622334455了", ["18622334455"]),
        ("手机 139 1234 5678", ["139 1234 5678"]),
        ("号码199-1234-5678", ["199-1234-5678"]),
        ("号码换成+8613912345678", ["13912345678"]),
    ],
)
def test_mobile_found_in_chinese_text(text: str, expected: list[str]) -> None:
    assert find("phone_number", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "号码是138123456789",  # 12 digits
        "号码是1381234567",  # 10 digits
        "号码是12812345678",  # 12x is no mobile prefix
        "号码是10012345678",
        "身份证310104198902129314",  # digits inside an ID number
        "座机010-12345678",
    ],
)
def test_mobile_rejects_near_misses(text: str) -> None:
    assert find("phone_number", text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("车牌京A12345的车被追尾了", ["京A12345"]),
        ("我的车粤BD12345今天出事了", ["粤BD12345"]),
        ("粤B D12345", ["粤B D12345"]),
        ("车牌沪A·8K5P2", ["沪A·8K5P2"]),
        ("川A12345D这辆新能源", ["川A12345D"]),
        ("苏e12345", ["苏e12345"]),
    ],
)
def test_plate_found_in_chinese_text(text: str, expected: list[str]) -> None:
    assert find("plate_number", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "京A1234",  # too short
        "京A1234567",  # too long
        "京I12345",  # I is never used in plates
        "北A12345",  # not a province abbreviation
    ],
)
def test_plate_rejects_near_misses(text: str) -> None:
    assert find("plate_number", text) == []


def _intent_examples() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in ITEMS:
        if "intent" in item:
            out.setdefault(item["intent"], []).extend(_examples(item["examples"]))
    return out


def _annotations() -> list[tuple[str, str]]:
    """(value, entity) for every annotation in every intent example."""
    found = []
    for examples in _intent_examples().values():
        for example in examples:
            for m in ANNOTATION.finditer(example):
                if m.group(2):
                    found.append((m.group(1), m.group(2)))
                else:
                    found.append((m.group(1), yaml.safe_load("{" + m.group(3) + "}")["entity"]))
    return found


def _annotated_values(entity: str) -> list[str]:
    return [value for value, name in _annotations() if name == entity]


def test_intents_match_the_contract_document() -> None:
    if INTENTS_DOC.exists():  # the shared docs sit beside the repo on the team's machines
        doc_intents = set(re.findall(r"^\| ([a-z_]+) \|", INTENTS_DOC.read_text(encoding="utf-8"), re.M))
        doc_intents.discard("intent")
        assert doc_intents == CONTRACT_INTENTS
    assert set(_intent_examples()) == CONTRACT_INTENTS


def test_every_intent_has_enough_distinct_examples() -> None:
    for intent, examples in _intent_examples().items():
        assert len(set(examples)) >= MIN_EXAMPLES, (intent, len(set(examples)))


def test_no_example_is_labelled_with_two_intents() -> None:
    counts = Counter(ex for examples in _intent_examples().values() for ex in set(examples))
    assert [ex for ex, n in counts.items() if n > 1] == []


def test_only_contract_entities_are_annotated() -> None:
    names = {name for _, name in _annotations()}
    assert names <= CONTRACT_ENTITIES, names - CONTRACT_ENTITIES
    assert names == CONTRACT_ENTITIES  # and every entity has training examples


def test_regex_entities_annotated_exactly_where_the_patterns_match() -> None:
    """An unannotated number the regex finds would count as a false positive, and vice versa."""
    for examples in _intent_examples().values():
        for example in examples:
            plain, spans, pos = "", [], 0
            for m in ANNOTATION.finditer(example):
                plain += example[pos : m.start()]
                entity = m.group(2) or yaml.safe_load("{" + m.group(3) + "}")["entity"]
                spans.append((len(plain), len(plain) + len(m.group(1)), entity))
                plain += m.group(1)
                pos = m.end()
            plain += example[pos:]
            for entity in REGEX_ENTITIES:
                for pattern in PATTERNS[entity]:
                    for m in pattern.finditer(plain):
                        assert (m.start(), m.end(), entity) in spans, (example, m.group(0))


def test_synonyms_map_to_canonical_values() -> None:
    for item in ITEMS:
        if "synonym" in item:
            assert any(item["synonym"] in values for values in CANONICAL.values()), item["synonym"]
