"""FastAPI dependencies shared by the routers: settings, database sessions, the channel hub and
its Rasa client, the customer notifier, and the signed-in staff member.

Database access in the web layer goes through ``get_sessionmaker`` only:

- ``SessionDep``: one session per request in one transaction, committed when the handler
  returns, rolled back when it raises;
- ``TransactionsDep``: short transactions opened by hand, for work that must commit before a
  network call (notify the customer after the ticket changed) or while no session may stay open
  (a server-sent event stream).

Tests replace these through ``app.dependency_overrides`` (e.g. ``get_sessionmaker`` for a
rollback per test, ``get_rasa`` for a fake Rasa, ``get_notifier`` for a fake notification).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.hub import ChannelHub
from bot.channels.outbound import notify_conversation
from bot.channels.rasa_client import RasaClient
from bot.config import Settings
from bot.db import transaction
from bot.errors import PermissionDenied
from bot.models import StaffRole, StaffUser
from bot.web.staff.cookies import (
    CSRF_HEADER,
    ApiUnauthenticated,
    LoginRequired,
    PageForbidden,
    check_csrf_value,
    user_from_request,
)

# ---------------------------------------------------------------- settings, database


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    return factory


class Transactions:
    """Opens one short transaction per ``with``: committed on success, rolled back on error."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def __call__(self) -> AbstractContextManager[Session]:
        return transaction(self._factory)


def get_transactions(factory: Annotated[sessionmaker[Session], Depends(get_sessionmaker)]) -> Transactions:
    return Transactions(factory)


TransactionsDep = Annotated[Transactions, Depends(get_transactions)]


def get_session(tx: TransactionsDep) -> Iterator[Session]:
    """A session per request in one transaction: committed when the handler returns, rolled
    back when it raises."""
    with tx() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

# ---------------------------------------------------------------- channels


def get_hub(request: Request) -> ChannelHub:
    hub: ChannelHub = request.app.state.hub
    return hub


HubDep = Annotated[ChannelHub, Depends(get_hub)]


def get_rasa(hub: HubDep) -> RasaClient:
    """The hub's Rasa client: one per app, reused by every request."""
    return hub.rasa


RasaDep = Annotated[RasaClient, Depends(get_rasa)]

# (conversation id, EXTERNAL_* intent, entities) -> the messages delivered
Notifier = Callable[[str, str, dict[str, Any]], Awaitable[list[dict[str, Any]]]]


def get_notifier(hub: HubDep) -> Notifier:
    """Tells a customer about their ticket on their own channel (``bot.channels.outbound``)."""

    async def notify(conversation_id: str, intent: str, entities: dict[str, Any]) -> list[dict[str, Any]]:
        return await notify_conversation(conversation_id, intent, entities, hub=hub)

    return notify


NotifierDep = Annotated[Notifier, Depends(get_notifier)]

# ---------------------------------------------------------------- staff

R = StaffRole
DESK_ROLES = (R.PROCESSOR, R.REVIEWER, R.SUPERVISOR)
CONSOLE_ROLES = (R.AGENT, R.SUPERVISOR)  # the agent console and the live queue


def page_user(*roles: StaffRole) -> Callable[..., StaffUser]:
    """Dependency for pages: redirect to the login page, or a 403 page for other roles."""

    def dependency(request: Request, db: SessionDep) -> StaffUser:
        user = user_from_request(request, db)
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(target)
        if roles and user.role not in roles:
            raise PageForbidden()
        return user

    return dependency


def api_user(*roles: StaffRole) -> Callable[..., StaffUser]:
    """Dependency for the JSON API: 401 without a session, 403 for other roles, and the
    ``X-CSRF-Token`` header on every write."""

    def dependency(request: Request, db: SessionDep) -> StaffUser:
        user = user_from_request(request, db)
        if user is None:
            raise ApiUnauthenticated()
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            check_csrf_value(request, request.headers.get(CSRF_HEADER))
        if roles and user.role not in roles:
            raise PermissionDenied("role")
        return user

    return dependency


CurrentStaff = Annotated[StaffUser, Depends(api_user())]
DeskPageUser = Annotated[StaffUser, Depends(page_user(*DESK_ROLES))]
DeskApiUser = Annotated[StaffUser, Depends(api_user(*DESK_ROLES))]
ConsolePageUser = Annotated[StaffUser, Depends(page_user(*CONSOLE_ROLES))]
ConsoleApiUser = Annotated[StaffUser, Depends(api_user(*CONSOLE_ROLES))]
SupervisorPageUser = Annotated[StaffUser, Depends(page_user(R.SUPERVISOR))]
SupervisorApiUser = Annotated[StaffUser, Depends(api_user(R.SUPERVISOR))]
