"""Policy-service change requests made in the chat: beneficiaries, contact details, debit account.

The assistant never changes a policy itself. It validates what the customer asked for, builds a
typed change (one module per kind: ``beneficiary``, ``contact``, ``payment_account``) and opens a
ticket carrying it as JSON; a back-office processor works the ticket and a second person approves
it (maker-checker, ``TICKET_RULES[...].requires_checker``). The desk calls ``validate_change``
before the ticket goes to the checker and ``apply_change`` on final approval: both read the stored
change back into its typed form and check it with the same rules as at creation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.errors import ChangeRequestInvalid
from bot.models import StaffUser, Ticket, TicketType
from bot.services.changes import beneficiary, contact, payment_account
from bot.services.changes.common import bad_payload
from bot.services.tickets.access import actor_label


@dataclass(frozen=True)
class ChangeKind:
    check: Callable[[Session, Ticket], object]  # read the stored change and check it; raise if bad
    apply: Callable[[Session, str, Ticket], dict[str, Any]]  # check, write, audit (actor label)


KINDS: dict[TicketType, ChangeKind] = {
    TicketType.BENEFICIARY_CHANGE: ChangeKind(beneficiary.check, beneficiary.apply),
    TicketType.CONTACT_CHANGE: ChangeKind(contact.check, contact.apply),
    TicketType.PAYMENT_ACCOUNT_CHANGE: ChangeKind(payment_account.check, payment_account.apply),
}


@contextmanager
def _in_desk_wording() -> Iterator[None]:
    """At the desk a broken rule is the ticket's fault, not the customer's: say so to the staff."""
    try:
        yield
    except ChangeRequestInvalid as exc:
        raise bad_payload(exc.message_zh.rstrip("。")) from exc


def validate_change(session: Session, ticket: Ticket) -> None:
    """Check the change carried by a maker-checker ticket before it goes to the checker."""
    kind = KINDS.get(ticket.ticket_type)
    if kind is not None:
        with _in_desk_wording():
            kind.check(session, ticket)


def apply_change(session: Session, user: StaffUser, ticket: Ticket) -> dict[str, Any]:
    """Apply the ticket's change to the policy records, with before and after in the audit log.

    Runs inside the caller's transaction, with the approval that triggers it."""
    kind = KINDS.get(ticket.ticket_type)
    if kind is None:
        return {}
    with _in_desk_wording():
        return kind.apply(session, actor_label(user), ticket)
