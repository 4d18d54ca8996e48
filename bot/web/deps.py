"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session


def get_db(request: Request) -> Iterator[Session]:
    """A session per request in one transaction: committed when the handler returns, rolled
    back when it raises."""
    factory = request.app.state.sessionmaker
    session: Session = factory()
    try:
        with session.begin():
            yield session
    finally:
        session.close()
