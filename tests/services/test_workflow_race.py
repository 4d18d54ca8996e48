"""Issue 12, item 14: with two app processes a ticket could be approved twice (each process
decided on the status it had read). Two sessions on separate connections stand in for the two
processes; on SQLite and PostgreSQL exactly one approval wins, the other gets InvalidTransition."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.errors import InvalidTransition
from bot.models import AuditEntry, StaffUser, Ticket, TicketEvent, TicketStatus
from bot.services.tickets import workflow
from tests.desk_support import World


@pytest.fixture
def ready(engine: Engine) -> Iterator[tuple[int, int]]:
    """A committed surrender ticket in progress, taken by a processor: (ticket id, processor id)."""
    with Session(engine, expire_on_commit=False) as s:
        world = World(s)
        workflow.take(s, world.proc, world.surrender_ticket)
        s.commit()
        yield world.surrender_ticket.id, world.proc.id


def _approvals(engine: Engine, ticket_id: int) -> int:
    with Session(engine) as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(TicketEvent)
                .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "approve")
            )
            or 0
        )


def test_a_stale_second_process_cannot_approve_again(engine: Engine, ready: tuple[int, int]) -> None:
    ticket_id, proc_id = ready
    first, second = Session(engine, expire_on_commit=False), Session(engine, expire_on_commit=False)
    try:
        t2 = second.get(Ticket, ticket_id)  # the second process has the ticket in progress on screen
        u2 = second.get(StaffUser, proc_id)
        assert t2 is not None and u2 is not None and t2.status is TicketStatus.IN_PROGRESS
        second.commit()
        t1, u1 = first.get(Ticket, ticket_id), first.get(StaffUser, proc_id)
        workflow.approve(first, u1, t1, "同意")  # type: ignore[arg-type]
        first.commit()
        with pytest.raises(InvalidTransition):
            workflow.approve(second, u2, t2, "同意")
        second.rollback()
    finally:
        first.close()
        second.close()
    assert _approvals(engine, ticket_id) == 1


def test_two_processes_approving_at_once_exactly_one_succeeds(engine: Engine, ready: tuple[int, int]) -> None:
    ticket_id, proc_id = ready
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def decide() -> None:
        with Session(engine, expire_on_commit=False) as s:
            ticket, user = s.get(Ticket, ticket_id), s.get(StaffUser, proc_id)
            s.commit()  # like a web request: the ticket was read in an earlier transaction
            barrier.wait()
            try:
                workflow.approve(s, user, ticket, "同意")  # type: ignore[arg-type]
                s.commit()
                result = "approved"
            except InvalidTransition:
                s.rollback()
                result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=decide) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert sorted(outcomes) == ["approved", "refused"]
    assert _approvals(engine, ticket_id) == 1
    with Session(engine) as s:
        number = s.scalar(select(Ticket.number).where(Ticket.id == ticket_id))
        audits = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "ticket_approve", AuditEntry.object_id == number)
        )
    assert audits == 1
