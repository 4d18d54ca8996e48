"""The change forms (actions/changes/): identity inside the form, the
beneficiary loop with the 100% check, the masked read-back, confirmation and the idempotent
maker-checker ticket — actions run as the Rasa server runs them, on a real (rolled-back) session."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from rasa_sdk import Action
from sqlalchemy import select

from actions.changes.base import ActionCancelChange
from actions.changes.beneficiary import (
    ActionAskBfConfirm,
    ActionSubmitBeneficiaryChange,
    ValidateBeneficiaryForm,
)
from actions.changes.contact import ActionAskCcConfirm, ActionSubmitContactChange, ValidateContactForm
from actions.changes.payment_account import (
    ActionAskPaConfirm,
    ActionSubmitPaymentAccountChange,
    ValidatePaymentAccountForm,
)
from bot.models import Ticket, TicketType
from bot.services import identity
from tests.actions.helpers import make_tracker, responses, run_action, slot_events
from tests.factories import make_customer, make_policy, valid_id_number

CONV = "web:change-test"
WIFE = valid_id_number(date(1987, 2, 3), 2)
SON = valid_id_number(date(2015, 5, 6), 1)


@pytest.fixture
def zhang(action_session):
    holder = make_customer(
        action_session, name="张伟", id_number=valid_id_number(date(1985, 3, 15), 731), mobile="13800138000"
    )
    policy = make_policy(action_session, holder, number="LF2023000123")
    return holder, policy


@pytest.fixture
def verified(action_session, zhang):
    holder, policy = zhang
    identity.verify(
        action_session,
        conversation_id=CONV,
        policy_number=policy.number,
        name="张伟",
        id_tail=holder.id_number[-6:],
    )
    return zhang


def turn(
    validator: Action,
    form: str,
    slots: dict[str, Any],
    new: dict[str, Any],
    *,
    text: str = "",
    intent: str = "inform",
):
    """One user turn in ``form``: ``new`` are the values Rasa extracted from this message."""
    events = [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}]
    events += [{"event": "slot", "name": k, "value": v} for k, v in new.items()]
    tracker = make_tracker(
        sender_id=CONV, slots={**slots, **new}, intent=intent, text=text, active_loop=form, events=events
    )
    out, dispatcher = run_action(validator, tracker)
    got = slot_events(out)
    state = {**slots, **new, **got}
    return state, responses(dispatcher), dispatcher.messages


def bf(state, new, **kw):
    return turn(ValidateBeneficiaryForm(), "beneficiary_form", state, new, **kw)


def run_plain(action: Action, slots: dict[str, Any], intent: str = "affirm", sender: str = CONV):
    tracker = make_tracker(sender_id=sender, slots=slots, intent=intent)
    events, dispatcher = run_action(action, tracker)
    return slot_events(events), responses(dispatcher), dispatcher.messages


def test_identity_questions_come_first_inside_the_form(zhang):
    holder, _ = zhang
    # While identity is missing the form's slots are the domain's list, in the domain's order, so
    # the SDK leaves the next question to Rasa, which asks the first empty one: policy_number.
    state, _, _ = bf({}, {}, text="我想改受益人", intent="change_beneficiary")
    assert "requested_slot" not in state
    state, _, _ = bf(
        {"requested_slot": "policy_number"}, {"policy_number": "lf2023000123"}, text="lf2023000123"
    )
    assert state["policy_number"] == "LF2023000123"
    state, _, _ = bf({**state, "requested_slot": "person_name"}, {"person_name": "张伟"}, text="张伟")
    state, said, messages = bf(
        {**state, "requested_slot": "id_tail"}, {"id_tail": holder.id_number[-6:]}, text=holder.id_number[-6:]
    )
    assert state["verified"] is True and "utter_verified" in said
    assert messages[said.index("utter_verified")]["customer_name"] == "张*"
    assert state["requested_slot"] == "bf_name"


def test_two_beneficiaries_with_the_100_percent_check_then_masked_read_back(verified):
    state: dict[str, Any] = {"verified": True, "requested_slot": "bf_name"}
    state, _, _ = bf(state, {"bf_name": "陈静"}, text="陈静")
    assert state["requested_slot"] == "bf_relationship"
    state, _, _ = bf(state, {"bf_relationship": "是我老婆"}, text="是我老婆")
    assert state["bf_relationship"] == "配偶" and state["requested_slot"] == "bf_id_number"
    state, said, messages = bf(state, {"bf_id_number": WIFE[:-1] + ("1" if WIFE[-1] == "0" else "0")})
    assert state["requested_slot"] == "bf_id_number" and "校验位不正确" in messages[0]["text"]
    state, _, _ = bf(state, {"bf_id_number": WIFE})
    state, _, _ = bf(state, {"bf_share": "60%"}, text="60%")
    assert state["bf_total"] == "60%" and state["requested_slot"] == "bf_more"
    assert len(state["bf_list"]) == 1
    # "没有了" at 60%: the customer is told the total and what is missing, and asked again.
    state, said, messages = bf(state, {"bf_more": False}, intent="deny")
    assert "utter_beneficiary_share_incomplete" in said
    assert messages[0]["bf_total"] == "60%" and messages[0]["bf_missing"] == "40%"
    assert state["requested_slot"] == "bf_more"
    state, _, _ = bf(state, {"bf_more": True}, intent="affirm")
    assert state["requested_slot"] == "bf_name" and state["bf_name"] is None
    state, _, _ = bf(state, {"bf_name": "张子涵"})
    state, _, _ = bf(state, {"bf_relationship": "子女"})
    state, _, messages = bf(state, {"bf_id_number": WIFE})  # the same person twice
    assert "已经添加过" in messages[0]["text"]
    state, _, _ = bf(state, {"bf_id_number": SON})
    state, _, messages = bf(state, {"bf_share": "50%"})
    assert "最多还可分配40%" in messages[0]["text"] and state["requested_slot"] == "bf_share"
    state, _, _ = bf(state, {"bf_share": "百分之四十"})
    assert state["bf_total"] == "100%" and state["bf_more"] is False  # complete: no need to ask
    assert state["requested_slot"] == "bf_confirm"
    _, said, messages = run_plain(ActionAskBfConfirm(), state)
    readback = messages[0]["readback"]
    assert said == ["utter_beneficiary_readback"]
    assert "陈*" in readback and "张*涵" in readback and "陈静" not in readback and "张子涵" not in readback
    assert f"{WIFE[:6]}{'*' * 12}" in readback and WIFE not in readback
    assert "受益比例合计:100%" in readback


def test_an_invalid_id_twice_explains_and_offers_a_human(verified):
    state = {
        "verified": True,
        "requested_slot": "bf_id_number",
        "bf_name": "李小红",
        "bf_relationship": "子女",
    }
    state, said, _ = bf(state, {"bf_id_number": "1101052010"})
    assert "utter_invalid_twice" not in said
    state, said, _ = bf(state, {"bf_id_number": "还是不知道"})
    assert said[-2:] == ["utter_help_bf_id_number", "utter_invalid_twice"]


def test_the_insured_cannot_be_the_beneficiary(verified):
    holder, _ = verified
    state = {"verified": True, "requested_slot": "bf_id_number", "bf_name": "张伟", "bf_relationship": "其他"}
    state, _, messages = bf(state, {"bf_id_number": holder.id_number})
    assert state["bf_id_number"] is None and "不能是被保险人本人" in messages[0]["text"]


def beneficiary_done(confirm: bool) -> dict[str, Any]:
    row = {"name": "张子涵", "relationship": "子女", "id_number": SON, "share_pct": "100.00", "order": 1}
    return {"verified": True, "bf_list": [row], "bf_total": "100%", "bf_confirm": confirm}


def test_confirmed_change_opens_one_maker_checker_ticket_with_documents_and_timeline(
    action_session, verified
):
    _, policy = verified
    slots, said, messages = run_plain(ActionSubmitBeneficiaryChange(), beneficiary_done(True))
    assert said == ["utter_change_submitted"]
    number = messages[0]["ticket_number"]
    assert "被保险人同意变更的书面声明" in messages[0]["checklist"] and "复核" in messages[0]["timeline"]
    assert slots["bf_list"] is None and slots["bf_confirm"] is None  # the form is cleared
    _, _, retried = run_plain(ActionSubmitBeneficiaryChange(), beneficiary_done(True))
    assert retried[0]["ticket_number"] == number
    ticket = action_session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).one()
    assert ticket.ticket_type is TicketType.BENEFICIARY_CHANGE and ticket.requires_checker
    assert ticket.payload["after"][0]["id_number"] == SON and ticket.conversation_id == CONV


def test_denied_at_confirmation_submits_nothing_and_asks_what_to_do(action_session, verified):
    _, policy = verified
    _, said, _ = run_plain(ActionSubmitBeneficiaryChange(), beneficiary_done(False), intent="deny")
    assert said == ["utter_change_not_confirmed_beneficiary"]
    assert action_session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).all() == []


def test_a_locked_caller_is_not_asked_anything_and_gets_a_human(action_session, zhang):
    state, _, _ = bf({"identity_locked": True}, {}, text="改受益人", intent="change_beneficiary")
    assert state["requested_slot"] is None
    _, said, _ = run_plain(
        ActionSubmitBeneficiaryChange(), {"identity_locked": True, "bf_confirm": None}, sender="web:locked"
    )
    assert said == ["utter_error_verification_locked", "utter_offer_human"]


def test_stop_clears_the_form(verified):
    slots, said, _ = run_plain(
        ActionCancelChange(), {"bf_name": "李小红", "bf_list": [{"name": "x"}]}, intent="affirm"
    )
    assert said == ["utter_form_cancelled"] and slots["bf_name"] is None and slots["bf_list"] is None


def cc(state, new, **kw):
    return turn(ValidateContactForm(), "contact_form", state, new, **kw)


def test_contact_change_mobile_from_the_first_message(action_session, verified):
    _, policy = verified
    state, _, _ = cc({"verified": True}, {}, text="我换手机号了", intent="change_contact_info")
    assert state["cc_field"] == "mobile" and state["requested_slot"] == "cc_value"
    state, _, messages = cc(state, {"cc_value": "13800138000"})
    assert "相同" in messages[0]["text"] and state["requested_slot"] == "cc_value"
    state, _, _ = cc(state, {"cc_value": "新号是139 1234 5678"})
    assert state["cc_value"] == "13912345678" and state["requested_slot"] == "cc_confirm"
    _, _, messages = run_plain(ActionAskCcConfirm(), state)
    assert "139****5678" in messages[0]["readback"] and "13912345678" not in messages[0]["readback"]
    _, said, messages = run_plain(ActionSubmitContactChange(), {**state, "cc_confirm": True})
    assert said == ["utter_change_submitted"] and messages[0]["change_title"] == "联系方式变更"
    ticket = action_session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).one()
    assert ticket.payload["after"]["mobile"] == "13912345678"


def test_contact_change_asks_which_detail_when_unclear(verified):
    state, _, _ = cc({"verified": True}, {}, text="修改联系方式", intent="change_contact_info")
    assert state["requested_slot"] == "cc_field"
    state, said, _ = cc(state, {}, text="能用微信交保费吗", intent="ask_payment_methods")
    assert state.get("cc_field") is None and said == []  # a digression is not an answer
    state, _, _ = cc(state, {}, text="电子邮箱")
    assert state["cc_field"] == "email" and state["requested_slot"] == "cc_value"


def pa(state, new, **kw):
    return turn(ValidatePaymentAccountForm(), "payment_account_form", state, new, **kw)


def test_payment_account_change_with_luhn_and_holder_checks(action_session, verified):
    _, policy = verified
    state, _, _ = pa({"verified": True}, {}, text="换扣款卡", intent="change_payment_account")
    assert state["requested_slot"] == "pa_bank"
    state, said, _ = pa(state, {"pa_bank": "花旗"})
    assert said == ["utter_invalid_pa_bank"]
    state, _, _ = pa(state, {"pa_bank": "招行"})
    assert state["pa_bank"] == "招商银行"
    state, _, messages = pa(state, {"pa_card": "6225 8801 3700 5317"})
    assert "没有通过校验" in messages[0]["text"] and state["requested_slot"] == "pa_card"
    state, _, messages = pa(state, {"pa_card": policy.bank_account})
    assert "目前的扣款账户" in messages[0]["text"]
    state, _, _ = pa(state, {"pa_card": "6225 8801 3700 5311"})
    assert state["pa_card"] == "6225880137005311" and state["requested_slot"] == "pa_holder"
    state, _, messages = pa(state, {"pa_holder": "李四"})
    assert "投保人本人" in messages[0]["text"] and state["pa_holder"] is None
    state, _, _ = pa(state, {"pa_holder": "张伟"})
    assert state["requested_slot"] == "pa_confirm"
    _, _, messages = run_plain(ActionAskPaConfirm(), state)
    assert "6225 **** **** 5311" in messages[0]["readback"] and "张*" in messages[0]["readback"]
    _, said, _ = run_plain(ActionSubmitPaymentAccountChange(), {**state, "pa_confirm": True})
    assert said == ["utter_change_submitted"]
    ticket = action_session.scalars(select(Ticket).where(Ticket.policy_id == policy.id)).one()
    assert ticket.ticket_type is TicketType.PAYMENT_ACCOUNT_CHANGE
    assert ticket.payload["after"]["bank_account"] == "6225880137005311"


def test_starting_a_change_form_answers_an_open_offer(verified):
    state, _, _ = pa(
        {"verified": True, "offer_open": "ticket", "service_offer": "payment_relief"},
        {},
        text="变更扣款账户",
        intent="change_payment_account",
    )
    assert state["offer_open"] is None and state["requested_slot"] == "pa_bank"
