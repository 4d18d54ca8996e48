"""The FastAPI app: web chat, agent console, ticket desk, Telegram webhook, JSON API."""
