"""The Telegram bridge (python-telegram-bot 22).

Webhook mode when a public URL is configured: the app serves ``/telegram/webhook``
(``bot.web.customer.telegram``, which checks the ``X-Telegram-Bot-Api-Secret-Token`` header in
constant time, 403 otherwise) and ``start_telegram`` calls ``setWebhook`` with that secret.
Polling mode for local runs, when only a token is set.

The bridge registers its sender on the hub (``register_sender``), so proactive messages
(``bot.channels.outbound``) reach Telegram without importing this module.

- Duplicate ``update_id``s are dropped: each accepted id is inserted into ``telegram_updates``
  (primary key) before it is handled, so a Telegram retry, a second replica or a restart never
  handles it twice. Rows older than a week are pruned (Telegram retries for at most a day).
- Webhook mode never loses an update: the webhook stores it (``telegram_updates.payload``) and
  commits before answering 200; the ``Inbox`` worker handles stored updates (a claim, then done),
  also those a stopped process left behind (on start, and claims older than ``CLAIM_TIMEOUT``).
- Group chats get no account services: one member's verification would serve (and show the
  policy to) the whole group. Every message there gets a polite reply asking for a private chat.
- One conversation is handled and answered in order: a per-chat lock around each turn.
- Flood limits: PTB's ``AIORateLimiter``; network errors and ``RetryAfter`` are retried with backoff.
- Rasa's buttons become inline keyboards; ``callback_data`` is the payload when it fits in 64
  bytes, otherwise a short key stored in ``telegram_callbacks``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels import inbound, transcript
from bot.channels.hub import ChannelHub
from bot.config import Settings
from bot.errors import DomainError
from bot.models import TelegramCallback, TelegramUpdate
from bot.models.base import utcnow
from bot.services import uploads

log = logging.getLogger(__name__)
T = TypeVar("T")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
WEBHOOK_PATH = "/telegram/webhook"
CALLBACK_MAX_BYTES = 64
UPDATE_RETENTION = timedelta(days=7)
START_PAYLOAD = "/greet"
CHANNEL = "telegram"
CLAIM_TIMEOUT = timedelta(minutes=5)  # a claimed, unfinished update is taken again after this
INBOX_POLL_SECONDS = 30.0
STOP_GRACE_SECONDS = 10.0  # a stopping app lets updates being handled finish this long
GROUP_REFUSAL_ZH = (
    "为保护您的保单和个人信息，本助手不在群聊中办理业务。"
    "请您点击本助手头像，与本助手私聊，我们将竭诚为您服务。"
)


# ---------------------------------------------------------------- sending, with retries


def _retry_seconds(exc: RetryAfter) -> float:
    value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def with_retry(call: Callable[[], Awaitable[T]], *, attempts: int = 4, base_delay: float = 0.5) -> T:
    """Retry Telegram calls on flood control and network trouble; never on bad requests."""
    for attempt in range(attempts):
        try:
            return await call()
        except (BadRequest, Forbidden):
            raise
        except RetryAfter as exc:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(_retry_seconds(exc) + 0.1)
        except (TimedOut, NetworkError):
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(base_delay * 2**attempt)
    raise AssertionError("unreachable")


def callback_data_for(hub: ChannelHub, payload: str) -> str:
    if len(payload.encode("utf-8")) <= CALLBACK_MAX_BYTES and not payload.startswith("k:"):
        return payload
    key = "k:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
    with hub.session() as session:
        if session.get(TelegramCallback, key) is None:
            session.add(TelegramCallback(key=key, payload=payload))
    return key


def payload_of(hub: ChannelHub, data: str) -> str | None:
    if not data.startswith("k:"):
        return data
    with hub.session() as session:
        row = session.get(TelegramCallback, data)
        return row.payload if row else None


def keyboard_for(hub: ChannelHub, buttons: list[dict[str, Any]]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                str(b.get("title", ""))[:64], callback_data=callback_data_for(hub, str(b.get("payload", "")))
            )
        ]
        for b in buttons
    ]
    return InlineKeyboardMarkup(rows)


async def send_messages(bot: Bot, hub: ChannelHub, chat_id: int, messages: list[dict[str, Any]]) -> None:
    """Send Rasa-shaped messages to a chat, in order."""
    for m in messages:
        text = str(m.get("text") or "")
        buttons = m.get("buttons") or []
        markup = keyboard_for(hub, buttons) if buttons else None
        if m.get("image"):
            image = str(m["image"])
            await with_retry(partial(bot.send_photo, chat_id, image))
        if text or markup:
            await with_retry(partial(bot.send_message, chat_id, text or "请选择:", reply_markup=markup))


class TelegramSender:
    """Sends proactive messages: with the running bridge's bot, or a short-lived one (a process
    without the bridge, e.g. the reminder command)."""

    def __init__(self, hub: ChannelHub, bot: Bot | None = None) -> None:
        self.hub, self.bot = hub, bot

    async def __call__(self, external_id: str, messages: list[dict[str, Any]]) -> None:
        chat_id = int(external_id)
        if self.bot is not None:
            await send_messages(self.bot, self.hub, chat_id, messages)
            return
        application = build_application(self.hub, self.hub.settings, webhook=True)
        async with application.bot as bot:
            await send_messages(bot, self.hub, chat_id, messages)


def register_sender(hub: ChannelHub, bot: Bot | None = None) -> None:
    hub.register_sender(CHANNEL, TelegramSender(hub, bot))


# ---------------------------------------------------------------- handlers


def _hub(context: ContextTypes.DEFAULT_TYPE) -> ChannelHub:
    hub: ChannelHub = context.application.bot_data["hub"]
    return hub


async def drop_duplicates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Group -1: accept each update_id once (persisted), stop the rest. Private chats only."""
    chat = update.effective_chat
    if chat is not None and chat.type != chat.PRIVATE:
        await _refuse_group(update, context)
        raise ApplicationHandlerStop
    if context.application.bot_data.get("inbox") is not None:
        return  # webhook mode: the inbox stored the id (primary key) before the update got here
    hub = _hub(context)
    try:
        with hub.session() as session:
            session.add(TelegramUpdate(update_id=update.update_id))
            session.flush()
            if update.update_id % 200 == 0:
                session.execute(
                    delete(TelegramUpdate).where(TelegramUpdate.received_at < utcnow() - UPDATE_RETENTION)
                )
    except IntegrityError:
        log.info("dropping duplicate update %s", update.update_id)
        raise ApplicationHandlerStop from None


async def _refuse_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """No account services in a group: ask for a private chat (once per message, never via Rasa)."""
    chat = update.effective_chat
    if update.callback_query is not None:
        with contextlib.suppress(Exception):
            await with_retry(update.callback_query.answer)
    if chat is not None and (update.message is not None or update.callback_query is not None):
        await with_retry(partial(context.bot.send_message, chat.id, GROUP_REFUSAL_ZH))


async def _answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, shown: str | None = None
) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    hub = _hub(context)
    conversation_id = f"telegram:{chat.id}"
    async with hub.lock(conversation_id):
        replies = await inbound.handle_customer_message(
            hub, conversation_id, text, shown_text=shown, client=f"telegram:{chat.id}"
        )
        await send_messages(context.bot, hub, chat.id, replies)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer(update, context, START_PAYLOAD, shown="/start")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message and update.message.text:
        await _answer(update, context, update.message.text)


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    try:
        await with_retry(query.answer)
    except Exception:  # the spinner times out by itself; the turn still goes on
        log.warning("answerCallbackQuery failed", exc_info=True)
    payload = payload_of(_hub(context), query.data or "")
    if payload:
        await _answer(update, context, payload)


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo or a document: store it, attach it to the conversation's claim or ticket, confirm."""
    message = update.message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    hub = _hub(context)
    conversation_id = f"telegram:{chat.id}"
    if message.photo:
        item: Any = message.photo[-1]  # the largest size
        file_name, declared_type = f"photo_{message.message_id}.jpg", "image/jpeg"
    else:
        item = message.document
        file_name = (item.file_name if item else None) or "document"
        declared_type = (item.mime_type if item else None) or "application/octet-stream"
    async with hub.lock(conversation_id):
        reply: str
        if item is None:
            return
        if item.file_size and item.file_size > hub.settings.upload_max_bytes:
            reply = uploads.TooLarge.message_zh
        else:
            try:
                tg_file = await with_retry(lambda: context.bot.get_file(item.file_id))
                data = bytes(await with_retry(tg_file.download_as_bytearray))
                with hub.session() as session:
                    transcript.record(session, conversation_id, "customer", f"[文件] {file_name}")
                    result = uploads.receive_document(
                        session,
                        conversation_id,
                        data,
                        file_name=file_name,
                        declared_type=declared_type,
                        channel="telegram",
                        hint=message.caption,
                        settings=hub.settings,
                    )
                    reply = result.message_zh
            except DomainError as exc:
                reply = exc.message_zh
        with hub.session() as session:
            transcript.record(session, conversation_id, "bot", reply)
        await send_messages(context.bot, hub, chat.id, [{"text": reply}])


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("telegram update failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await with_retry(
                lambda: context.bot.send_message(update.effective_chat.id, inbound.APOLOGY_ZH)  # type: ignore[union-attr]
            )
        except Exception:
            log.error("could not apologise", exc_info=True)


# ---------------------------------------------------------------- webhook inbox


class Inbox:
    """Updates Telegram delivered to the webhook, stored before the 200 and handled by a worker."""

    def __init__(self, hub: ChannelHub, application: Application) -> None:
        self.hub, self.application = hub, application
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._handling: set[asyncio.Task[None]] = set()
        self._in_flight: dict[asyncio.Task[None], int] = {}
        # Every update this process claimed and has not finished: a claim committed while the
        # worker was being stopped (its result never reached ``run``) is given back too.
        self._claimed: set[int] = set()
        self._claim_lock = threading.Lock()

    def _store(self, update_id: int, data: dict[str, Any]) -> bool:
        try:
            with self.hub.session() as session:
                session.add(TelegramUpdate(update_id=update_id, payload=json.dumps(data, ensure_ascii=False)))
                session.flush()
        except IntegrityError:
            return False
        return True

    async def store(self, update_id: int, data: dict[str, Any]) -> bool:
        """Store (and commit) an update; False for an id already stored (a Telegram retry)."""
        stored = await anyio_to_thread(self._store, update_id, data)
        if stored:
            self._wake.set()
        return stored

    def _claim_pending(self) -> list[tuple[int, str]]:
        with self._claim_lock:
            return self._claim_pending_locked()

    def _claim_pending_locked(self) -> list[tuple[int, str]]:
        now = utcnow()
        claimed: list[tuple[int, str]] = []
        with self.hub.session() as session:
            pending = session.execute(
                select(TelegramUpdate.update_id, TelegramUpdate.payload)
                .where(
                    TelegramUpdate.payload.is_not(None),
                    TelegramUpdate.done_at.is_(None),
                    or_(TelegramUpdate.claimed_at.is_(None), TelegramUpdate.claimed_at < now - CLAIM_TIMEOUT),
                )
                .order_by(TelegramUpdate.update_id)
                .limit(100)
            ).all()
            for update_id, payload in pending:
                # compare-and-set: a second replica may be claiming the same row
                taken = session.execute(
                    update(TelegramUpdate)
                    .where(
                        TelegramUpdate.update_id == update_id,
                        TelegramUpdate.done_at.is_(None),
                        or_(
                            TelegramUpdate.claimed_at.is_(None),
                            TelegramUpdate.claimed_at < now - CLAIM_TIMEOUT,
                        ),
                    )
                    .values(claimed_at=now)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append((update_id, payload))
            if claimed and claimed[-1][0] % 200 == 0:
                session.execute(
                    delete(TelegramUpdate).where(
                        and_(
                            TelegramUpdate.received_at < now - UPDATE_RETENTION,
                            or_(TelegramUpdate.done_at.is_not(None), TelegramUpdate.payload.is_(None)),
                        )
                    )
                )
        self._claimed.update(update_id for update_id, _ in claimed)  # committed: ours until done
        return claimed

    def _done(self, update_id: int) -> None:
        with self.hub.session() as session:
            session.execute(
                update(TelegramUpdate)
                .where(TelegramUpdate.update_id == update_id)
                .values(done_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        self._claimed.discard(update_id)

    async def _handle(self, update_id: int, payload: str) -> None:
        try:
            update_ = Update.de_json(json.loads(payload), self.application.bot)
            if update_ is not None:
                await self.application.process_update(update_)  # handler errors go to on_error
        except Exception:
            log.exception("telegram update %s could not be handled", update_id)
        await anyio_to_thread(self._done, update_id)  # not reached when cancelled: stays pending

    async def run(self) -> None:
        """Handle stored updates, in update_id order (per-chat order: the hub's FIFO lock)."""
        while True:
            self._wake.clear()
            try:
                claimed = await anyio_to_thread(self._claim_pending)
            except Exception:
                log.exception("telegram inbox: could not read stored updates")
                claimed = []
            for update_id, payload in claimed:
                task = asyncio.ensure_future(self._handle(update_id, payload))
                self._handling.add(task)
                self._in_flight[task] = update_id
                task.add_done_callback(self._forget)
                await asyncio.sleep(0)  # let it queue on its chat's lock before the next one
            if len(claimed) == 100:
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), INBOX_POLL_SECONDS)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._handling.discard(task)
        if not task.cancelled():
            self._in_flight.pop(task, None)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self.run())

    def _release(self, update_ids: list[int]) -> None:
        with self.hub.session() as session:
            session.execute(
                update(TelegramUpdate)
                .where(TelegramUpdate.update_id.in_(update_ids), TelegramUpdate.done_at.is_(None))
                .values(claimed_at=None)
                .execution_options(synchronize_session=False)
            )

    async def stop(self) -> None:
        """Stop taking updates; let those being handled finish for a while, and give the others
        back (unclaimed) so that the next start handles them."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._handling:
            await asyncio.wait(set(self._handling), timeout=STOP_GRACE_SECONDS)
        unfinished = {task: uid for task, uid in self._in_flight.items() if not task.done()}
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.wait(set(unfinished), timeout=1)
        await anyio_to_thread(self._give_back, set(unfinished.values()))

    def _give_back(self, unfinished: set[int]) -> None:
        # A claim may still be committing on its worker thread (the cancelled ``run`` does not wait
        # for it): the claim lock waits for it, then everything claimed here and not done goes back.
        with self._claim_lock:
            given_back = unfinished | self._claimed
            if given_back:  # _release leaves the finished ones alone (done_at is set)
                self._release(sorted(given_back))


async def anyio_to_thread(fn: Callable[..., T], *args: Any) -> T:
    import anyio.to_thread

    return await anyio.to_thread.run_sync(fn, *args)


# ---------------------------------------------------------------- application


def file_base_url(api_base_url: str) -> str:
    """``https://api.telegram.org/bot`` → ``https://api.telegram.org/file/bot``."""
    base = api_base_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


def build_application(hub: ChannelHub, settings: Settings, *, webhook: bool) -> Application:
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_base_url(settings.telegram_api_base_url))
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(16)
    )
    if webhook:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data["hub"] = hub
    application.add_handler(TypeHandler(Update, drop_duplicates), group=-1)
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(CallbackQueryHandler(on_callback))
    application.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, on_file))
    application.add_handler(MessageHandler(filters.TEXT, on_text))
    application.add_error_handler(on_error)
    return application


async def start_telegram(hub: ChannelHub, settings: Settings) -> Application:
    """Start the bridge: webhook mode with a public URL, polling otherwise."""
    webhook = bool(settings.public_url)
    application = build_application(hub, settings, webhook=webhook)
    await application.initialize()
    register_sender(hub, application.bot)
    if webhook:
        url = settings.public_url.rstrip("/") + WEBHOOK_PATH
        secret = settings.telegram_webhook_secret.get_secret_value()
        try:
            await with_retry(
                lambda: application.bot.set_webhook(
                    url=url, secret_token=secret or None, allowed_updates=Update.ALL_TYPES
                )
            )
        except Exception:
            log.error("setWebhook failed; Telegram will not reach the app until it succeeds", exc_info=True)
        await application.start()
        inbox = application.bot_data["inbox"] = Inbox(hub, application)
        inbox.start()  # also handles what a stopped process left stored
    else:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
    log.info("telegram bridge started (%s mode)", "webhook" if webhook else "polling")
    return application


async def stop_telegram(hub: ChannelHub, application: Application) -> None:
    inbox: Inbox | None = application.bot_data.get("inbox")
    if inbox is not None:
        await inbox.stop()
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
    register_sender(hub)  # proactive messages still go out, through a short-lived bot
