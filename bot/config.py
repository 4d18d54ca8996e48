"""The one settings object. Read from the environment (prefix ``BOT_``) and ``.env``.

``DATABASE_URL`` is the one exception to the prefix: it is the name every tool expects.
Settings are read once, on first use, never at import time of a model.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOT_",
        env_file=PROJECT_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'app.db'}",
        validation_alias=AliasChoices("DATABASE_URL", "BOT_DATABASE_URL"),
    )
    timezone: str = "Asia/Shanghai"

    # Rasa server and action server, both on loopback.
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr = SecretStr("")
    rasa_timeout_seconds: float = 120.0  # the hard limit of one request to Rasa
    action_server_url: str = "http://127.0.0.1:5055"
    # Rasa's SQL tracker store, read by the desk (transcripts) and the reports.
    tracker_database_url: str = "sqlite:///var/rasa_tracker.db"

    # --- procs: process authentication and slow turns ---
    # Rasa -> action server secret (endpoints.yml sends it; actions/server.py checks it). The app
    # itself only reads the action server's /health; the setting is here so init-env generates it.
    action_server_token: SecretStr = SecretStr("")
    # How long a customer waits for Rasa before hearing "still working on it"; the turn goes on in
    # the background and its answer is delivered late on the conversation's channel.
    rasa_reply_deadline_seconds: float = 12.0

    # The app, the only process that faces the outside.
    app_host: str = "127.0.0.1"
    app_port: int = 8000
    public_url: str = ""
    session_secret: SecretStr = SecretStr("")
    staff_session_minutes: int = 480

    # Identity verification.
    verification_ttl_minutes: int = 30
    verification_max_failures: int = 3
    verification_lock_minutes: int = 15

    # Telegram.
    telegram_token: SecretStr = SecretStr("")
    telegram_webhook_secret: SecretStr = SecretStr("")
    telegram_api_base_url: str = "https://api.telegram.org/bot"

    # Documents customers upload.
    upload_dir: Path = PROJECT_ROOT / "var" / "uploads"
    upload_max_bytes: int = 10 * 1024 * 1024

    # Premium reminders.
    reminder_quiet_start_hour: int = 21
    reminder_quiet_end_hour: int = 8
    # The in-app scheduler (hourly, catches up on start); off in tests and when cron runs the job.
    reminder_scheduler_enabled: bool = True

    # --- customer (issue 12): idempotency, verification throttle, abuse limits ---
    # A repeated request returns the open ticket made within this many hours; later, a new one.
    ticket_idempotency_hours: int = 24
    # Wrong verification tries per conversation / per client (IP or chat) before a lock; the lock
    # doubles with each further lock within a day (verification_lock_minutes, 2x, 4x ... capped).
    verification_max_failures_per_client: int = 6
    verification_max_lock_minutes: int = 24 * 60
    # Rate limits (the `limits` library, moving window). storage: memory:// or redis://host:6379
    rate_limit_storage_uri: str = "memory://"
    rate_limit_chat_session: str = "20/minute;200/hour"
    rate_limit_chat_client: str = "60/minute;1000/hour"
    rate_limit_upload_session: str = "5/minute;30/day"
    rate_limit_upload_client: str = "20/minute;100/day"
    rate_limit_stream_session: str = "10/minute"
    rate_limit_stream_client: str = "30/minute"
    # Event streams open at the same time (per process).
    stream_max_open_per_session: int = 2
    stream_max_open_per_client: int = 10
    # Documents one claim or ticket accepts from customers.
    upload_max_per_case: int = 30

    # --- staff helper: audit log key, staff logins, demo mode ---
    # HMAC key of the audit log's hash chain; kept out of the database (generated into .env).
    audit_key: SecretStr = SecretStr("")
    # Demo mode: the seed creates the demo staff logins with the published password. Off, the app
    # refuses to start while any demo login still has that password.
    demo_mode: bool = False
    # Failed staff logins per username and per client address within the window before refusing.
    login_max_failures_per_user: int = 5
    login_max_failures_per_client: int = 20
    login_window_minutes: int = 15

    @field_validator("database_url")
    @classmethod
    def _sqlite_relative_to_project(cls, value: str) -> str:
        """``sqlite:///var/app.db`` means a file under the project, wherever the process started."""
        prefix = "sqlite:///"
        if value.startswith(prefix) and not value.startswith(prefix + "/") and value != prefix + ":memory:":
            return prefix + str(PROJECT_ROOT / value[len(prefix) :])
        return value

    @field_validator("tracker_database_url")
    @classmethod
    def _tracker_sqlite_relative_to_project(cls, value: str) -> str:
        prefix = "sqlite:///"
        if value.startswith(prefix) and not value.startswith(prefix + "/") and value != prefix + ":memory:":
            return prefix + str(PROJECT_ROOT / value[len(prefix) :])
        return value

    @field_validator("upload_dir")
    @classmethod
    def _upload_dir_relative_to_project(cls, value: Path) -> Path:
        return value if value.is_absolute() else PROJECT_ROOT / value

    # --- knowledge (general questions answered from data/knowledge/) ---
    knowledge_dir: Path = PROJECT_ROOT / "data" / "knowledge"

    @field_validator("knowledge_dir")
    @classmethod
    def _knowledge_dir_relative_to_project(cls, value: Path) -> Path:
        return value if value.is_absolute() else PROJECT_ROOT / value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
