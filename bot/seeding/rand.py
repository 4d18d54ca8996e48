"""Fast helpers over ``random.Random`` (the stdlib's randint/choice are slow in hot loops)."""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def ri(rng: random.Random, a: int, b: int) -> int:
    """A random integer in [a, b]."""
    return a + int(rng.random() * (b - a + 1))


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    return seq[int(rng.random() * len(seq))]


def wpick(rng: random.Random, seq: Sequence[T], cum_weights: Sequence[float]) -> T:
    """A weighted choice given cumulative weights."""
    return seq[bisect(cum_weights, rng.random() * cum_weights[-1])]
