"""What the tracker store keeps of a conversation once a turn is over (standard library only, so
that the app's tests can check it without Rasa).

A finished turn is every event up to the latest ``action_listen``. In those events:

- the verification answers (slots ``person_name`` and ``id_tail``) become ``None`` once no
  identity question is open any more (the check has run: the slots are never read again; when a
  verification expires the form asks again), and every user text that carried them has them
  masked (``张*伟``, ``******``);
- full resident IDs, bank cards and mobiles in user and bot texts are masked (``bot.masking``);
  in slot values too, but only while no form is active (a form still waiting for its
  confirmation reads them in a later turn, e.g. the new bank card of a payment-account change).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.masking import mask_name, mask_text

VERIFICATION_SLOTS = ("person_name", "id_tail")
IDENTITY_QUESTIONS = frozenset({"policy_number", "person_name", "id_tail"})
# only these event types carry customer text or slot values
TEXT_EVENTS = frozenset({"user", "bot", "slot"})
# keys whose values are never customer text (ids, names of intents and slots): left as they are
_NOT_TEXT = frozenset({"event", "name", "message_id", "input_channel", "intent", "intent_ranking", "entity"})


def _mask_secret(slot: str, value: str) -> str:
    return mask_name(value) if slot == "person_name" else "*" * len(value)


def _deep(value: Any, fn: Any) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [_deep(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: v if k in _NOT_TEXT else _deep(v, fn) for k, v in value.items()}
    return value


def finished_count(events: list[dict[str, Any]]) -> int:
    """How many leading events belong to finished turns (up to and with the last action_listen)."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "action" and event.get("name") == "action_listen":
            return index + 1
    return 0


def verification_answers(events: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Raw answer → its masked form, for every verification answer the events set."""
    answers: dict[str, str] = {}
    for event in events:
        if event.get("event") == "slot" and event.get("name") in VERIFICATION_SLOTS:
            value = event.get("value")
            if isinstance(value, str) and value.strip() and "*" not in value:
                answers[value.strip()] = _mask_secret(str(event["name"]), value.strip())
    return answers


def redact_event(
    event: dict[str, Any], answers: dict[str, str], *, identity_done: bool, form_active: bool
) -> dict[str, Any]:
    kind = event.get("event")
    if kind not in TEXT_EVENTS:
        return event

    def scrub(text: str) -> str:
        if identity_done:
            for raw in sorted(answers, key=len, reverse=True):
                if raw in text:
                    text = text.replace(raw, answers[raw])
        return mask_text(text)

    if kind == "slot":
        if event.get("name") in VERIFICATION_SLOTS:
            return {**event, "value": None} if identity_done and event.get("value") is not None else event
        if form_active:
            return event
        return {**event, "value": _deep(event.get("value"), scrub)}
    return _deep(event, scrub)  # type: ignore[no-any-return]


def redact_events(
    events: list[dict[str, Any]], *, requested_slot: str | None, active_loop: str | None
) -> list[dict[str, Any]]:
    """The events as the store keeps them once the turn is over (see the module docstring).

    ``requested_slot`` and ``active_loop``: the conversation's state after the latest event."""
    done = finished_count(events)
    identity_done = requested_slot not in IDENTITY_QUESTIONS
    answers = verification_answers(events)
    kept = [
        redact_event(e, answers, identity_done=identity_done, form_active=active_loop is not None)
        for e in events[:done]
    ]
    return kept + events[done:]
