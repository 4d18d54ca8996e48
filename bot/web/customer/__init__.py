"""What customers reach: the web chat page and its streams, and the Telegram webhook."""
