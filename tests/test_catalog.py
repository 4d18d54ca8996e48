"""The document catalog: coverage of every business and claim type, conditions, checklists, YAML errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.catalog as catalog
from bot.catalog import CatalogError, UnknownCatalogKey
from bot.models import ClaimType, TicketType

BUSINESS_TYPES = (
    "理赔",
    "受益人变更",
    "联系方式变更",
    "扣款账户变更",
    "复效",
    "退保",
    "犹豫期退保",
    "保单贷款",
    "缓交",
    "减额交清",
)
CLAIM_WORDS = {
    "车险": "motor",
    "医疗": "medical",
    "重疾": "critical_illness",
    "意外": "accident",
    "身故": "death",
}


@pytest.mark.parametrize("word", BUSINESS_TYPES)
def test_every_business_type_resolves_to_an_entry_with_required_documents(word: str) -> None:
    key = catalog.resolve_business_type(word)
    assert key is not None, word
    entry = catalog.entry(key)
    assert entry.title and entry.timeline and entry.next_steps
    assert any(d.required and d.condition is None for d in entry.documents)


@pytest.mark.parametrize("claim_type", list(ClaimType))
def test_every_claim_type_has_an_entry_with_required_documents(claim_type: ClaimType) -> None:
    docs = catalog.claim_requirements(claim_type)
    assert any(d.required for d in docs)
    assert catalog.entry(claim_type.value).kind == "claim"
    assert catalog.claim_requirements(claim_type.value) == docs


@pytest.mark.parametrize(("word", "key"), CLAIM_WORDS.items())
def test_claim_type_words_resolve(word: str, key: str) -> None:
    assert catalog.resolve_business_type(word) == key
    assert catalog.claim_requirements(word) == catalog.claim_requirements(key)


def test_services_name_their_team_and_ticket_types_map_to_entries() -> None:
    for ticket_type in (
        TicketType.BENEFICIARY_CHANGE,
        TicketType.CONTACT_CHANGE,
        TicketType.PAYMENT_ACCOUNT_CHANGE,
        TicketType.SURRENDER,
        TicketType.COOLING_OFF_CANCELLATION,
        TicketType.REINSTATEMENT,
    ):
        entry = catalog.entry(ticket_type.value)
        assert entry.team == "policy_service"
        assert catalog.service_requirements(ticket_type.value)
    assert catalog.entry("premium_deferral").team == "renewals"


def test_documents_the_seeds_name_are_there() -> None:
    names = " ".join(d.name for d in catalog.claim_requirements("motor", police_reported=True))
    for word in ("报警回执", "事故现场照片", "定损单", "驾驶证", "行驶证", "银行卡", "理赔申请书"):
        assert word in names
    codes = {d.code for d in catalog.service_requirements("beneficiary_change")}
    assert {"change_application", "id_card_policyholder", "insured_consent", "new_beneficiary_id",
            "relationship_proof"} <= codes  # fmt: skip
    reinstatement = " ".join(d.name for d in catalog.service_requirements("reinstatement"))
    assert "健康" in reinstatement and "补交保费" in reinstatement
    invoice = next(d for d in catalog.claim_requirements("medical") if d.code == "medical_invoice")
    assert invoice.form == "original" and "原件" in (invoice.note or "")


def test_surrender_and_cooling_off_say_what_the_customer_gets_back() -> None:
    assert "现金价值" in catalog.entry("surrender").next_steps
    cooling = catalog.entry("cooling_off_cancellation").next_steps
    assert "无息退还" in cooling and "以合同约定为准" in cooling


def test_motor_conditions_follow_the_police_report() -> None:
    with_police = {d.code: d for d in catalog.claim_requirements("motor", police_reported=True)}
    without = {d.code: d for d in catalog.claim_requirements("motor", police_reported=False)}
    unknown = {d.code: d for d in catalog.claim_requirements("motor")}
    assert with_police["police_report"].required
    assert "accident_statement" not in with_police
    assert "police_report" not in without
    assert without["accident_statement"].required
    # Not yet known: both listed, neither demanded.
    assert not unknown["police_report"].required and not unknown["accident_statement"].required


def test_other_conditions() -> None:
    assert "disability_assessment" not in {
        d.code for d in catalog.claim_requirements("accident", disability=False)
    }
    disability = {d.code: d for d in catalog.claim_requirements("accident", disability=True)}
    assert disability["disability_assessment"].required
    hospital = {d.code for d in catalog.claim_requirements("medical", hospitalised=True) if d.required}
    assert "discharge_summary" in hospital
    with pytest.raises(ValueError, match="unknown document condition"):
        catalog.claim_requirements("medical", hospitalized=True)


def test_missing_documents_and_checklist_marks_received() -> None:
    reqs = catalog.claim_requirements("medical", hospitalised=True)
    received = {"claim_application", "medical_invoice"}
    missing = catalog.missing_documents(reqs, received)
    assert {d.code for d in missing}.isdisjoint(received)
    assert all(d.required for d in missing)
    assert len(missing) == len([d for d in reqs if d.required]) - 2

    text = catalog.format_checklist_zh(reqs, received)
    lines = text.splitlines()
    invoice_line = next(line for line in lines if "医疗费用发票" in line)
    assert invoice_line.startswith("✔") and "原件" in invoice_line and "加盖医院收费章" in invoice_line
    records_line = next(line for line in lines if "病历" in line and "门诊" in line)
    assert records_line.startswith("□") and "复印件" in records_line
    assert "选交" in next(line for line in lines if "医保结算单" in line)
    assert lines[-1] == f"必交材料共{len(missing) + 2}项,已收到2项,还差{len(missing)}项。"

    all_codes = {d.code for d in reqs}
    assert catalog.format_checklist_zh(reqs, all_codes).splitlines()[-1].endswith("已全部收到。")


def test_resolve_business_type_inside_sentences_and_unknowns() -> None:
    assert catalog.resolve_business_type("我想办理犹豫期退保") == "cooling_off_cancellation"
    assert catalog.resolve_business_type("退保") == "surrender"
    assert catalog.resolve_business_type("想改受益人") == "beneficiary_change"
    assert catalog.resolve_business_type("减额缴清") == "reduced_paid_up"
    assert catalog.resolve_business_type("今天天气不错") is None
    assert catalog.resolve_business_type("") is None
    with pytest.raises(UnknownCatalogKey):
        catalog.service_requirements("payment_relief")
    with pytest.raises(KeyError):
        catalog.entry("no_such_thing")


def test_catalog_is_read_once() -> None:
    assert catalog.get_catalog() is catalog.get_catalog()


def test_catalog_file_ships_with_the_package() -> None:
    path = Path(catalog.__file__).with_name("documents.yml")
    assert path.is_file()
    assert catalog.load_catalog(path).claims.keys() == catalog.get_catalog().claims.keys()


GOOD_ENTRY = """
conditions:
  police_reported: {label: 已报警, negated: 未报警}
claims:
  motor:
    title: 车险理赔
    timeline: 5个工作日
    next_steps: 请提交材料。
    documents:
%s
services:
  surrender:
    title: 退保
    team: policy_service
    timeline: 5个工作日
    next_steps: 按现金价值退还。
    documents:
      - {code: surrender_application, name: 退保申请书, form: original, required: true}
"""


def _yaml(documents: str) -> str:
    return GOOD_ENTRY % documents


def test_a_valid_minimal_catalog_loads() -> None:
    loaded = catalog.load_catalog(
        _yaml("      - {code: claim_application, name: 理赔申请书, form: original}")
    )
    assert loaded.claims["motor"].documents[0].required is True


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        ("      - {code: claim_application, name: 理赔申请书, form: scan}", "unknown form 'scan'"),
        (
            "      - {code: claim_application, name: 理赔申请书, form: original}\n"
            "      - {code: claim_application, name: 申请书, form: original}",
            "duplicate code 'claim_application'",
        ),
        ("      - {code: ClaimForm, name: 理赔申请书, form: original}", "not snake_case"),
        (
            "      - {code: a, name: 申请书, form: original, condition: raining}",
            "unknown condition 'raining'",
        ),
        ("      - {code: a, name: 申请书, form: original, required: maybe}", "must be true or false"),
        ("      - {code: a, name: 申请书, form: original, colour: red}", "unknown field"),
        ("      - {code: a, name: 申请书, form: original, required: false}", "unconditionally required"),
    ],
)
def test_yaml_errors_name_the_place(documents: str, message: str) -> None:
    with pytest.raises(CatalogError) as info:
        catalog.load_catalog(_yaml(documents))
    assert message in str(info.value)
    assert "claims.motor" in str(info.value)


def test_broken_yaml_and_bad_mappings_are_reported() -> None:
    with pytest.raises(CatalogError, match="invalid YAML"):
        catalog.load_catalog("claims: [unclosed")
    bad_mapping = (
        _yaml("      - {code: a, name: 申请书, form: original}") + "business_types:\n  退保: nowhere\n"
    )
    with pytest.raises(CatalogError, match="unknown entry 'nowhere'"):
        catalog.load_catalog(bad_mapping)
