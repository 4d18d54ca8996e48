"""Customer channels (Telegram, web chat) and the client that talks to the Rasa server."""
