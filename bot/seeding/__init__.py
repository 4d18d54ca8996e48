"""Deterministic demo data (``python -m bot seed``); ``bot.seed`` re-exports the public names."""

from bot.seeding.core import (
    DEFAULT_CUSTOMERS,
    DEFAULT_SEED,
    SeedResult,
    data_digest,
    print_demo_info,
    run_seed,
    seed_database,
)
from bot.seeding.demo import DEMO_CUSTOMERS, DEMO_PASSWORD, DEMO_STAFF, DemoCustomer, DemoPolicy, DemoStaff

__all__ = [
    "DEFAULT_CUSTOMERS",
    "DEFAULT_SEED",
    "DEMO_CUSTOMERS",
    "DEMO_PASSWORD",
    "DEMO_STAFF",
    "DemoCustomer",
    "DemoPolicy",
    "DemoStaff",
    "SeedResult",
    "data_digest",
    "print_demo_info",
    "run_seed",
    "seed_database",
]
