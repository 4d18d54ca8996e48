"""Builds the channel hub of a process: the Rasa client it owns and the senders of the channels
that are configured (Telegram when a bot token is set)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.channels import telegram
from bot.channels.hub import ChannelHub
from bot.channels.rasa_client import RasaClient
from bot.config import Settings


def build_hub(
    settings: Settings, factory: sessionmaker[Session], rasa: RasaClient | None = None
) -> ChannelHub:
    hub = ChannelHub(settings=settings, sessionmaker=factory, rasa=rasa or RasaClient(settings))
    if settings.telegram_token.get_secret_value():
        telegram.register_sender(hub)
    return hub
