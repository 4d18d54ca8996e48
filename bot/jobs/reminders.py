"""Premium reminders, the sending side: send what is due, once per (premium, stage).

The due set and the records are ``bot.services.reminders``. Once per (premium, stage),
crash-safe: the ``reminder_records`` row is inserted and COMMITTED before the message is sent
(insert-then-send). A crash between the commit and the send can lose that one reminder but never
repeat it, and the row stays as ``failed``/``sending`` for an operator to see; send-then-record
would instead repeat it after such a crash, which the issue forbids ("at most once"). Failures
where nothing reached the customer (Rasa down) are marked ``retry:`` and taken again by the next
run; a channel refusal is final. A conversation paused for a human still gets the reminder, as a
plain message (``bot.channels.notices``), so it counts as sent.

Quiet hours (settings, local time): a run inside them sends nothing and the next hourly run
after them sends what is due.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.channels.hub import ChannelHub
from bot.channels.outbound import DeliveryFailed, notify_conversation
from bot.channels.rasa_client import RasaUnavailable
from bot.models import ReminderStatus
from bot.models.base import utcnow
from bot.services.reminders import INTENT, RETRY_PREFIX, DueReminder, claim, finish, select_due

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    on_date: date
    deferred: bool = False
    due: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    per_stage: dict[str, int] = field(default_factory=dict)

    def summary_zh(self) -> str:
        if self.deferred:
            return f"{self.on_date}: 当前为免打扰时段,提醒顺延至下一次运行。"
        return (
            f"{self.on_date}: 待发送 {self.due} 条,已发送 {self.sent} 条,"
            f"失败 {self.failed} 条,跳过 {self.skipped} 条。"
        )


def in_quiet_hours(local: datetime, start_hour: int, end_hour: int) -> bool:
    if start_hour == end_hour:
        return False
    if start_hour > end_hour:  # across midnight, e.g. 21 → 8
        return local.hour >= start_hour or local.hour < end_hour
    return start_hour <= local.hour < end_hour


async def send_one(hub: ChannelHub, item: DueReminder) -> ReminderStatus:
    with hub.session() as session:
        if not claim(session, item):
            return ReminderStatus.SKIPPED
    detail: str | None
    try:
        messages = await notify_conversation(item.conversation_id, INTENT, item.entities(), hub=hub)
    except RasaUnavailable:
        status, detail = ReminderStatus.FAILED, RETRY_PREFIX + "rasa unavailable"
    except DeliveryFailed as exc:
        status, detail = ReminderStatus.FAILED, f"delivery failed: {exc}"[:255]
    else:
        if messages:
            status, detail = ReminderStatus.SENT, None
        else:  # nothing rendered at all (no template for the intent): try again next run
            status, detail = ReminderStatus.FAILED, RETRY_PREFIX + "no messages rendered"
    with hub.session() as session:
        finish(session, item, status, detail)
    return status


async def run_reminders(
    hub: ChannelHub, on_date: date | None = None, now: datetime | None = None
) -> RunReport:
    """Send what is due on ``on_date`` (default: today, local time) unless it is quiet hours."""
    settings = hub.settings
    tz = ZoneInfo(settings.timezone)
    now = now or utcnow()
    local = now.astimezone(tz)
    report = RunReport(on_date=on_date or local.date())
    if in_quiet_hours(local, settings.reminder_quiet_start_hour, settings.reminder_quiet_end_hour):
        report.deferred = True
        return report
    with hub.session() as session:
        due = select_due(session, report.on_date)
    report.due = len(due)
    for item in due:
        status = await send_one(hub, item)
        report.per_stage[item.stage.value] = report.per_stage.get(item.stage.value, 0) + 1
        if status is ReminderStatus.SENT:
            report.sent += 1
        elif status is ReminderStatus.FAILED:
            report.failed += 1
        else:
            report.skipped += 1
    log.info("premium reminders: %s", report.summary_zh())
    return report
