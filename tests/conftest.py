"""Shared fixtures: small seeded compressed-sensing instances."""

from __future__ import annotations

import numpy as np
import pytest


def make_problem(n: int, m: int, s: int, seed: int, nonnegative: bool = False):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x = np.zeros(n)
    support = rng.choice(n, s, replace=False)
    values = rng.standard_normal(s)
    x[support] = np.abs(values) + 0.2 if nonnegative else values + 0.2 * np.sign(values)
    return A, x, A @ x


@pytest.fixture
def problem():
    """N = 200, m = 80, s = 8: well inside the ℓ1 recovery region."""
    return make_problem(200, 80, 8, seed=1)


@pytest.fixture
def small_problem():
    """N = 40, m = 20, s = 3: small enough for slow references."""
    return make_problem(40, 20, 3, seed=7)
