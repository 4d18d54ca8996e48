"""The security suite's live scan runs on the live stack of tests/live (started only when a test
asks for it)."""

from tests.live.conftest import live_stack  # noqa: F401  (the fixture, shared)
