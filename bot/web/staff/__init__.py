"""What staff reach: login, the ticket desk and its JSON API, the agent console, the live queue, reports."""
