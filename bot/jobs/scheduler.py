"""The reminder scheduler that runs with the app (APScheduler, in the app's event loop)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.channels.hub import ChannelHub
from bot.jobs.reminders import run_reminders

log = logging.getLogger(__name__)


async def scheduled_run(hub: ChannelHub, lock: asyncio.Lock) -> None:
    """One run at a time: a run still going when the next is due makes the next one a no-op."""
    if lock.locked():
        return
    async with lock:
        try:
            await run_reminders(hub)
        except Exception:
            log.exception("premium reminder run failed")


def start(hub: ChannelHub) -> Any:
    """Hourly (so a run deferred by quiet hours goes out at their end), and once right after start
    to catch up on what a stopped app missed."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    tz = ZoneInfo(hub.settings.timezone)
    scheduler = AsyncIOScheduler(timezone=tz)
    scheduler.add_job(
        scheduled_run,
        "cron",
        minute=5,
        args=[hub, asyncio.Lock()],
        id="premium-reminders",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
        next_run_time=datetime.now(tz) + timedelta(seconds=2),
    )
    scheduler.start()
    return scheduler


def stop(scheduler: Any) -> None:
    scheduler.shutdown(wait=False)
