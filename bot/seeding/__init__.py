"""Deterministic demo data for local use: ``python -m bot seed`` and ``python -m bot demo-info``.

Fixed demo customers (same whatever --customers and --seed): 张伟 (LF2023000123, AU2024000088,
claim CL2600000088, ticket TK2600000123), 李娜 (HE2025000456, HE2024000321), 王芳 (LF2021000234,
LF2020000567), 刘洋 (AC2024000345, claim CL2600000345). Staff: agent1, claims1, service1, service2,
renewals1, cs1, reviewer1, supervisor1, … with the password ``Demo@2026`` (local demo only).
"""

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
