"""General questions answered from the knowledge base: out of scope (action_answer_from_knowledge)
and the NLU fallback (action_default_fallback), with the misses counted toward the human offer."""

from __future__ import annotations

import re
from typing import Any

import pytest

from actions import knowledge as knowledge_actions
from actions.fallback import ActionDefaultFallback
from actions.knowledge import ActionAnswerFromKnowledge, warm_up
from bot.services.knowledge import get_index
from bot.services.knowledge.base import SEED_SOURCES_ZH
from tests.actions.helpers import make_tracker, responses, run_action

HUMAN = "/request_human"
# Anything of a customer's own policy: numbers, dates, amounts, masked names.
POLICY_DATA = re.compile(r"(LF|HE|AC|AU)\d{10}|CL\d{10}|TK\d{10}|\d{4}年\d{1,2}月\d{1,2}日|张\*")


def _user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def _action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def _bot(response: str | None = None, **metadata: str) -> dict[str, Any]:
    """A bot event as the tracker stores it: a domain response, or a knowledge message's kind."""
    return {"event": "bot", "text": "…", "metadata": {"utter_action": response} if response else metadata}


def _kinds(dispatcher: Any) -> list[str]:
    """What each message was: a domain response's name, or the knowledge message's kind."""
    return [m.get("response") or f"knowledge:{m.get('knowledge')}" for m in dispatcher.messages]


def _ask(action: Any, text: str, intent: str, **kwargs: Any):
    events = [*kwargs.pop("events", []), _action("action_listen"), _user(text, intent)]
    return run_action(action, make_tracker(intent=intent, text=text, events=events, **kwargs))


def _entry(entry_id: str) -> Any:
    return next(e for e in get_index().entries if e.id == entry_id)


def _payloads(message: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in message.get("buttons") or []]


@pytest.mark.parametrize(
    ("text", "entry", "flow"),
    [
        ("犹豫期是多久，过了还能退吗", "cooling_off_after", "/ask_surrender"),
        ("宽限期是什么意思", "grace_what", "/ask_grace_period"),
        ("减额交清是什么意思", "relief_rpu_what", "/request_payment_relief"),
        ("退保要多久到账", "surrender_refund_time", "/ask_surrender"),
        ("什么是现金价值", "surrender_cash_value", "/query_policy"),
    ],
)
def test_a_general_question_gets_a_sourced_answer_and_the_matching_flow(text, entry, flow):
    events, dispatcher = _ask(ActionDefaultFallback(), text, "nlu_fallback")
    assert events == [] and _kinds(dispatcher) == ["knowledge:answer"]
    message = dispatcher.messages[0]
    assert message["knowledge_entry"] == entry
    shown = message["text"]
    answer, source = shown.split("\n")
    assert answer == _entry(entry).answer and "你" not in shown
    assert re.fullmatch(r"（依据：.+）", source)
    # The customer reads the kind of rule, never a seed file name.
    assert source in {f"（依据：{label}）" for label in ("保险常识", *SEED_SOURCES_ZH.values())}
    assert ".txt" not in shown
    assert _payloads(message) == [flow]


@pytest.mark.parametrize(
    ("text", "entry"),
    [("重疾险和医疗险有什么区别", "cover_critical_illness"), ("什么是免赔额", "claim_deductible")],
)
def test_an_out_of_scope_general_question_is_answered_not_refused(text, entry):
    """Questions today's intent model reads as out_of_scope."""
    _, dispatcher = _ask(ActionAnswerFromKnowledge(), text, "out_of_scope")
    assert _kinds(dispatcher) == ["knowledge:answer"]
    assert dispatcher.messages[0]["knowledge_entry"] == entry
    assert "（依据：" in dispatcher.messages[0]["text"]


def test_out_of_scope_without_a_close_answer_gets_the_out_of_scope_reply():
    """Films, social insurance transfers, a health check: no clarifying question about insurance
    topics, the polite out-of-scope reply (which offers a human) as before."""
    for text in ("推荐一部电影", "我在深圳社保怎么转回老家", "体检异常还能买保险吗", "阿斯顿发送到"):
        events, dispatcher = _ask(ActionAnswerFromKnowledge(), text, "out_of_scope")
        assert responses(dispatcher) == ["utter_out_of_scope"], text
        assert events == []


def test_out_of_scope_in_a_form_keeps_the_out_of_scope_reply():
    _, dispatcher = _ask(
        ActionAnswerFromKnowledge(), "重疾险和医疗险有什么区别", "out_of_scope", active_loop="identity_form"
    )
    assert responses(dispatcher) == ["utter_out_of_scope"]


@pytest.mark.parametrize(
    ("text", "flow"),
    [
        ("我的犹豫期还剩几天", "/ask_cooling_off"),
        ("保单失效后多久内可以复效", "/ask_reinstatement"),
        ("复效要补交利息吗", "/ask_reinstatement"),
    ],
)
def test_a_policy_specific_question_gets_the_rule_and_a_look_up_after_verification(text, flow):
    """The answer depends on the customer's own policy: the general rule, the offer to look it up
    after verification, and nothing of the policy, even when the conversation knows one."""
    slots = {"policy_number": "LF2023000123", "person_name": "张伟", "id_tail": "15731X", "verified": False}
    _, dispatcher = _ask(ActionDefaultFallback(), text, "nlu_fallback", slots=slots)
    message = dispatcher.messages[0]
    assert _kinds(dispatcher) == ["knowledge:answer"]
    shown = message["text"]
    assert "核实身份" in shown
    assert message["buttons"] == [{"title": message["buttons"][0]["title"], "payload": flow}]
    assert message["buttons"][0]["title"].endswith("（需核实身份）")
    everything = repr(dispatcher.messages)
    assert not POLICY_DATA.search(everything)
    assert "LF2023000123" not in everything and "张伟" not in everything and "15731X" not in everything


def test_a_verified_caller_gets_the_flow_button_without_the_verification_note():
    _, dispatcher = _ask(
        ActionDefaultFallback(), "我的犹豫期还剩几天", "nlu_fallback", slots={"verified": True}
    )
    assert dispatcher.messages[0]["buttons"] == [{"title": "查询犹豫期", "payload": "/ask_cooling_off"}]


def test_a_policy_specific_entry_without_a_flow_offers_the_policy_look_up():
    from bot.services.knowledge import KnowledgeAnswer

    entry = _entry("cooling_off_length")
    flowless = KnowledgeAnswer(entry.__class__(**{**entry.__dict__, "flow": None}), 0.9)
    assert knowledge_actions._buttons(flowless, verified=False) == [
        {"title": "核实身份后查询我的保单", "payload": "/query_policy"}
    ]


def test_an_unclear_question_gets_the_two_best_topics_and_a_human():
    events, dispatcher = _ask(ActionDefaultFallback(), "保险合同丢了还有效吗", "nlu_fallback")
    assert events == [] and _kinds(dispatcher) == ["knowledge:clarify"]
    message = dispatcher.messages[0]
    assert "请您选择" in message["text"]
    topics, human = message["buttons"][:2], message["buttons"][2:]
    assert human == [{"title": "转人工客服", "payload": HUMAN}]
    assert [b["title"] for b in topics] == ["发票丢了怎么办", "保单丢了怎么办"]
    # A topic button sends that topic's own question, which the knowledge base answers.
    _, again = _ask(ActionDefaultFallback(), topics[1]["payload"], "nlu_fallback")
    assert again.messages[0]["knowledge_entry"] == "general_lost_policy"


def test_nonsense_falls_back_as_before_and_the_second_miss_offers_a_human():
    events, dispatcher = _ask(ActionDefaultFallback(), "阿斯顿发送到", "nlu_fallback")
    assert responses(dispatcher) == ["utter_default"] and events == []
    before = [
        _action("action_listen"),
        _user("阿斯顿发送到", "nlu_fallback"),
        _action("action_default_fallback"),
    ]
    before.append(_bot("utter_default"))
    _, dispatcher = _ask(ActionDefaultFallback(), "嗯嗯那个啥", "nlu_fallback", events=before)
    assert responses(dispatcher) == ["utter_default_twice"]


def test_a_clarifying_question_counts_as_a_miss():
    """Not understood, asked back; not understood again: the human offer, not a second question."""
    before = [
        _action("action_listen"),
        _user("保险合同丢了还有效吗", "nlu_fallback"),
        _action("action_default_fallback"),
        _bot(knowledge="clarify"),
    ]
    _, dispatcher = _ask(ActionDefaultFallback(), "体检异常还能买保险吗", "nlu_fallback", events=before)
    assert responses(dispatcher) == ["utter_default_twice"]
    # ... but a clear question after it is still answered.
    _, dispatcher = _ask(ActionDefaultFallback(), "宽限期是什么意思", "nlu_fallback", events=before)
    assert _kinds(dispatcher) == ["knowledge:answer"]


def test_a_miss_after_a_knowledge_answer_is_the_first_miss():
    before = [
        _action("action_listen"),
        _user("宽限期是什么意思", "nlu_fallback"),
        _action("action_default_fallback"),
        _bot(knowledge="answer"),
    ]
    _, dispatcher = _ask(ActionDefaultFallback(), "阿斯顿发送到", "nlu_fallback", events=before)
    assert responses(dispatcher) == ["utter_default"]


def test_the_fallback_in_a_form_or_on_a_button_payload_does_not_consult_the_knowledge_base():
    _, dispatcher = _ask(
        ActionDefaultFallback(), "宽限期是什么意思", "nlu_fallback", active_loop="claim_form"
    )
    assert responses(dispatcher) == ["utter_default"]
    _, dispatcher = _ask(ActionDefaultFallback(), '/inform{"x":"宽限期"}', "nlu_fallback")
    assert responses(dispatcher) == ["utter_default"]


def test_a_broken_knowledge_base_does_not_break_the_turn(monkeypatch):
    def broken() -> None:
        raise OSError("no such folder")

    monkeypatch.setattr(knowledge_actions.knowledge, "get_index", broken)
    _, dispatcher = _ask(ActionDefaultFallback(), "宽限期是什么意思", "nlu_fallback")
    assert responses(dispatcher) == ["utter_default"]
    _, dispatcher = _ask(ActionAnswerFromKnowledge(), "重疾险和医疗险有什么区别", "out_of_scope")
    assert responses(dispatcher) == ["utter_out_of_scope"]


def test_warm_up_builds_the_index_once():
    warm_up()
    assert get_index() is get_index()
