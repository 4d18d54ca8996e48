"""Premium-reminder preferences, stored on the customer's binding to this conversation's channel.

A conversation id ``telegram:<chat>`` / ``web:<session>`` names the channel and the address; the
verified customer is bound to it (created or moved to them) and the binding's
``reminders_enabled`` flag is set. The reminder job (bot/jobs/reminders.py) reads it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import RemindersNotSupported
from bot.models import Channel, ChannelBinding, Customer

REMINDER_CHANNELS = (Channel.TELEGRAM, Channel.WEB)


def split_conversation_id(conversation_id: str) -> tuple[Channel, str]:
    channel_text, _, external = conversation_id.partition(":")
    try:
        channel = Channel(channel_text)
    except ValueError:
        raise RemindersNotSupported(conversation_id) from None
    if channel not in REMINDER_CHANNELS or not external:
        raise RemindersNotSupported(conversation_id)
    return channel, external


def set_reminders(
    session: Session, customer: Customer, conversation_id: str, enabled: bool
) -> ChannelBinding:
    """Create or update the binding of this conversation for ``customer`` and set its flag."""
    channel, external = split_conversation_id(conversation_id)
    binding = session.scalars(
        select(ChannelBinding).where(
            ChannelBinding.channel == channel, ChannelBinding.external_id == external
        )
    ).first()
    if binding is None:
        binding = ChannelBinding(customer_id=customer.id, channel=channel, external_id=external)
        session.add(binding)
    elif binding.customer_id != customer.id:
        binding.customer_id = customer.id  # the verified caller now owns this chat
    binding.reminders_enabled = enabled
    if enabled:
        customer.reminders_enabled = True  # an explicit opt-in overrides an earlier global opt-out
    session.flush()
    return binding
