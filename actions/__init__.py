"""Custom actions of the assistant (rasa_sdk). Thin: read slots, call one service in bot.services,
utter, return events. Loaded by `python -m rasa_sdk --actions actions`."""
