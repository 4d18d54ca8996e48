"""Custom actions of the assistant (rasa_sdk). Thin: read slots, call one service in bot.services,
utter, return events. Loaded by `python -m rasa_sdk --actions actions`, which imports every module
of this package, the subpackages (claims/, changes/) included, and registers each concrete Action."""

from bot.masking import install_log_masking

install_log_masking()  # every log line of the action server masks personal data
