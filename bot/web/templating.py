"""The one Jinja2 environment of the web pages (templates in ``bot/web/templates``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def local_time(value: str | None, tz: str = "Asia/Shanghai") -> str:
    """ISO timestamp → ``YYYY-MM-DD HH:MM`` in Beijing time, for pages."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["local"] = local_time
