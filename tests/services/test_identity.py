from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import VerificationFailed, VerificationLocked
from bot.models.base import utcnow
from bot.services import identity
from tests.factories import make_customer, make_policy


@pytest.fixture
def holder_and_policy(session):
    holder = make_customer(session, name="张伟")
    policy = make_policy(session, holder, number="LF2023000123")
    return holder, policy


def test_verification_succeeds_with_the_three_facts_and_expires(session, holder_and_policy):
    holder, policy = holder_and_policy
    now = utcnow()
    ctx = identity.verify(
        session,
        conversation_id="web:a",
        policy_number="lf 2023 000123",
        name="张 伟",
        id_tail=holder.id_number[-6:].lower(),
        now=now,
    )
    assert ctx.policy.id == policy.id
    assert identity.get_verified(session, "web:a", now + timedelta(minutes=29)) is not None
    assert identity.get_verified(session, "web:a", now + timedelta(minutes=31)) is None
    assert identity.get_verified(session, "web:other", now) is None


def test_three_failures_lock_the_conversation_for_15_minutes(session, holder_and_policy):
    holder, _ = holder_and_policy
    now = utcnow()
    for expected_remaining in (2, 1):
        with pytest.raises(VerificationFailed) as err:
            identity.verify(
                session,
                conversation_id="web:b",
                policy_number="LF2023000123",
                name="张伟",
                id_tail="000000",
                now=now,
            )
        assert err.value.context["remaining"] == expected_remaining
    with pytest.raises(VerificationLocked):
        identity.verify(
            session,
            conversation_id="web:b",
            policy_number="LF2023000123",
            name="李四",
            id_tail="000000",
            now=now,
        )
    # The right answer does not help while locked, in this conversation.
    right_tail = holder.id_number[-6:]
    with pytest.raises(VerificationLocked):
        identity.verify(
            session,
            conversation_id="web:b",
            policy_number="LF2023000123",
            name="张伟",
            id_tail=right_tail,
            now=now + timedelta(minutes=5),
        )
    ctx = identity.verify(
        session,
        conversation_id="web:b",
        policy_number="LF2023000123",
        name="张伟",
        id_tail=right_tail,
        now=now + timedelta(minutes=16),
    )
    assert ctx.customer.id == holder.id


def test_unknown_policy_fails_without_saying_which_fact_was_wrong(session):
    with pytest.raises(VerificationFailed) as err:
        identity.verify(
            session, conversation_id="web:c", policy_number="LF2099000001", name="张伟", id_tail="12345X"
        )
    assert err.value.message_zh.startswith("身份核验未通过")


def test_switching_to_another_policy_of_the_same_holder_only(session, holder_and_policy):
    holder, _ = holder_and_policy
    own = make_policy(session, holder, number="HE2024000001")
    stranger = make_customer(session, name="王芳", mobile="13900001111")
    other = make_policy(session, stranger, number="HE2024000002")
    identity.verify(
        session,
        conversation_id="web:d",
        policy_number="LF2023000123",
        name="张伟",
        id_tail=holder.id_number[-6:],
    )
    assert identity.switch_policy(session, "web:d", "HE2024000001").policy.id == own.id
    assert identity.switch_policy(session, "web:d", other.number) is None


def _fail(session, conv: str, number: str, client: str | None, now) -> Exception:
    with pytest.raises((VerificationFailed, VerificationLocked)) as err:
        identity.verify(
            session,
            conversation_id=conv,
            policy_number=number,
            name="某某",
            id_tail="000000",
            client_key=client,
            now=now,
        )
    return err.value


def test_failures_across_policies_count_per_conversation(session, holder_and_policy):
    now = utcnow()
    _fail(session, "web:x", "LF2023000001", None, now)
    _fail(session, "web:x", "LF2023000002", None, now)
    assert isinstance(_fail(session, "web:x", "LF2023000003", None, now), VerificationLocked)


def test_failures_across_conversations_count_per_client(session, holder_and_policy):
    now = utcnow()
    for i in range(5):  # new cookie each try, same client
        assert isinstance(
            _fail(session, f"web:c{i}", f"LF20230000{i:02d}", "ip:10.0.0.9", now), VerificationFailed
        )
    assert isinstance(_fail(session, "web:c5", "LF2023000099", "ip:10.0.0.9", now), VerificationLocked)
    holder, _ = holder_and_policy
    with pytest.raises(VerificationLocked):  # a fresh cookie from the locked client
        identity.verify(
            session,
            conversation_id="web:c6",
            policy_number="LF2023000123",
            name="张伟",
            id_tail=holder.id_number[-6:],
            client_key="ip:10.0.0.9",
            now=now,
        )
    # another client is not affected
    assert identity.verify(
        session,
        conversation_id="web:c7",
        policy_number="LF2023000123",
        name="张伟",
        id_tail=holder.id_number[-6:],
        client_key="ip:10.0.0.10",
        now=now,
    )


def test_each_further_lock_lasts_twice_as_long(session, holder_and_policy):
    now = utcnow()
    for _ in range(2):
        _fail(session, "web:b2", "LF2023000123", None, now)
    first = _fail(session, "web:b2", "LF2023000123", None, now)
    assert isinstance(first, VerificationLocked)
    later = now + timedelta(minutes=16)
    for _ in range(2):
        _fail(session, "web:b2", "LF2023000123", None, later)
    second = _fail(session, "web:b2", "LF2023000123", None, later)
    assert isinstance(second, VerificationLocked)
    lock = identity.active_lock(session, "web:b2", None, later)
    assert lock is not None and lock.locked_until - later == timedelta(minutes=30)
    assert identity.lock_minutes(9, 3) == 60
