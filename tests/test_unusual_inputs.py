"""Unusual but valid inputs get the right answer, each checked against an independent value."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import sparseflow
from sparseflow.result import StopReason
from tests.references import bp_reference, gaussian_instance, min_norm_reference

ALL_METHODS = {
    "limit-L2": ("limit", {"depth": 2}),
    "limit-L3": ("limit", {"depth": 3}),
    "limit-L6-tiny-alpha": ("limit", {"depth": 6, "alpha": 1e-8}),
    "descent": ("descent", {"depth": 2, "max_iter": 2000}),
    "basis-pursuit": ("basis-pursuit", {}),
    "min-norm": ("min-norm", {}),
    "omp": ("omp", {}),
    "iht": ("iht", {"sparsity": 3}),
    "lasso": ("lasso", {}),
}


@pytest.fixture(scope="module")
def small():
    return gaussian_instance(60, 25, 3, seed=11)


def _kkt_check_limit(
    A: np.ndarray, y: np.ndarray, res: sparseflow.RecoveryResult, depth: int, alpha: float
) -> None:
    """Independent optimality check of a converged flow limit: residual and dual feasibility."""
    assert np.linalg.norm(A @ res.x - y) <= 1e-9 * max(np.linalg.norm(y), 1e-300) + 1e-300
    mu = res.info["dual"]
    if depth >= 3:
        s = depth * (depth - 2) * alpha ** (depth - 2) * (A.T @ mu)
        assert np.all(np.abs(s) <= 1.0 + 1e-9)  # on the support s is within rounding of ±1


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32])
def test_integer_and_float32_inputs_are_computed_in_float64(dtype) -> None:
    rng = np.random.default_rng(2)
    A = rng.integers(-3, 4, size=(12, 30))
    x = np.zeros(30)
    x[[2, 17]] = [2.0, -1.0]
    y = A @ x  # integers
    A_in, y_in = A.astype(dtype), y.astype(dtype)
    ref = bp_reference(A.astype(float), y.astype(float))
    for method, opts in [("limit", {"depth": 4, "alpha": 1e-6}), ("basis-pursuit", {})]:
        res = sparseflow.recover(A_in, y_in, method=method, **opts)
        assert res.x.dtype == np.float64
        assert res.converged
        assert np.linalg.norm(res.x - ref) <= 1e-7 * np.linalg.norm(ref)
    # integer arithmetic would overflow or truncate; float64 descent matches the float input
    a = sparseflow.gradient_descent(A_in, y_in, depth=2, alpha=1e-2, max_iter=50, step=1e-3)
    b = sparseflow.gradient_descent(
        A.astype(np.float64), y.astype(np.float64), depth=2, alpha=1e-2, max_iter=50, step=1e-3
    )
    assert a.x.dtype == np.float64
    assert np.array_equal(a.x, b.x)


@pytest.mark.parametrize("name", list(ALL_METHODS))
def test_zero_measurements_give_exactly_zero(small, name: str) -> None:
    A, _, _ = small
    method, opts = ALL_METHODS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sparseflow.recover(A, np.zeros(A.shape[0]), method=method, **opts)
    assert res.converged
    assert res.status is StopReason.CONVERGED
    assert np.array_equal(res.x, np.zeros(A.shape[1]))


@pytest.mark.parametrize("name", list(ALL_METHODS))
def test_zero_column_gets_exactly_zero(small, name: str) -> None:
    A, x_true, y = small
    A = A.copy()
    A[:, 5] = 0.0
    x_true = x_true.copy()
    x_true[5] = 0.0
    y = A @ x_true
    method, opts = ALL_METHODS[name]
    res = sparseflow.recover(A, y, method=method, **opts)
    assert np.all(np.isfinite(res.x))
    assert res.x[5] == 0.0
    if name.startswith("limit") or name == "basis-pursuit":
        # independent: basis pursuit on the matrix without that column (unique, sparse x_true)
        if name != "limit-L2" and name != "limit-L3":
            keep = np.arange(A.shape[1]) != 5
            ref = bp_reference(A[:, keep], y)
            assert np.linalg.norm(res.x[keep] - ref) <= 1e-7 * np.linalg.norm(ref)
    if name == "min-norm":
        assert np.allclose(res.x, min_norm_reference(A, y), atol=1e-12)


def test_duplicate_columns() -> None:
    A, x_true, y = gaussian_instance(60, 25, 3, seed=11)
    j = int(np.flatnonzero(x_true)[0])
    A2 = np.column_stack([A, A[:, j]])  # column 60 duplicates column j
    ref_value = np.sum(np.abs(bp_reference(A, y)))  # independent optimal ℓ1 value
    bp = sparseflow.basis_pursuit(A2, y)
    assert bp.converged
    assert abs(np.sum(np.abs(bp.x)) - ref_value) <= 1e-8 * ref_value
    assert np.linalg.norm(A2 @ bp.x - y) <= 1e-8 * np.linalg.norm(y)
    for depth, alpha in [(2, 1e-3), (3, 1e-4), (6, 1e-8)]:
        limit = sparseflow.flow_limit(A2, y, depth=depth, alpha=alpha)
        assert limit.converged
        # g is strictly convex and the problem symmetric in the two copies: they split equally
        assert np.isclose(limit.x[j], limit.x[60], rtol=1e-8, atol=1e-14)
        if depth >= 3:
            # and the sum is the ℓ1 solution of the problem without the copy
            ref = bp_reference(A, y)
            merged = limit.x[:60].copy()
            merged[j] += limit.x[60]
            assert np.linalg.norm(merged - ref) <= 1e-6 * np.linalg.norm(ref)


def test_columns_of_very_different_norms() -> None:
    A, x_true, _ = gaussian_instance(60, 25, 3, seed=11)
    scales = 10.0 ** np.random.default_rng(0).uniform(-3, 3, 60)
    A_s = A * scales
    y = A_s @ (x_true / scales)
    ref = bp_reference(A_s, y)  # BP of the scaled matrix (the flow's limit as α → 0)
    res = sparseflow.flow_limit(A_s, y, depth=6, alpha=1e-8)
    assert res.converged
    assert np.all(np.isfinite(res.x))
    assert np.linalg.norm(res.x - ref) <= 1e-7 * np.linalg.norm(ref)
    _kkt_check_limit(A_s, y, res, 6, 1e-8)
    omp = sparseflow.omp(A_s, y)
    assert omp.converged and np.linalg.norm(A_s @ omp.x - y) <= 1e-9 * np.linalg.norm(y)


@pytest.mark.parametrize(
    ("method", "opts"),
    [
        ("limit", {"depth": 3, "alpha": 1e-3}),
        ("limit", {"depth": 2, "alpha": 1e-2}),
        ("limit", {"depth": 5, "alpha": 1e-8}),
        ("basis-pursuit", {}),
        ("min-norm", {}),
    ],
)
def test_rank_deficient_consistent_equals_reduced(method: str, opts: dict) -> None:
    A, _, y = gaussian_instance(60, 25, 3, seed=11)
    combo = np.random.default_rng(1).standard_normal(25)
    A_big = np.vstack([A, combo @ A, A[3]])  # two redundant rows
    y_big = np.concatenate([y, [combo @ y, y[3]]])
    full = sparseflow.recover(A_big, y_big, method=method, **opts)
    reduced = sparseflow.recover(A, y, method=method, **opts)
    assert full.converged
    assert np.linalg.norm(full.x - reduced.x) <= 1e-7 * np.linalg.norm(reduced.x)
    if method == "min-norm":
        assert np.allclose(full.x, min_norm_reference(A, y), atol=1e-10)
    if method == "basis-pursuit" or opts.get("alpha", 1) < 1e-6:
        ref = bp_reference(A, y)
        assert np.linalg.norm(full.x - ref) <= 1e-7 * np.linalg.norm(ref)


@pytest.mark.parametrize(("depth", "alpha"), [(1, 1.0), (2, 1e-2), (3, 1e-3), (4, 1e-2)])
def test_converged_limit_passes_independent_optimality_check(depth: int, alpha: float) -> None:
    A, _, y = gaussian_instance(60, 25, 3, seed=3)
    res = sparseflow.flow_limit(A, y, depth=depth, alpha=alpha)
    assert res.converged
    _kkt_check_limit(A, y, res, depth, alpha)
    # stationarity: x = h(Aᵀμ) with h written from THEORY §3 literally
    w = A.T @ res.info["dual"]
    if depth == 1:
        h = 2 * w
    elif depth == 2:
        h = 2 * alpha**2 * np.sinh(4 * w)
    else:
        k, p, c0 = depth * (depth - 2), depth / (depth - 2), alpha ** (2 - depth)
        h = (c0 - k * w) ** (-p) - (c0 + k * w) ** (-p)
    assert np.allclose(res.x, h, rtol=1e-8, atol=1e-12)
