"""gradient_descent's engines: the compiled loop takes the numpy loop's steps and stops."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import sparseflow
from sparseflow.result import StopReason
from sparseflow.solvers import _jit

from .conftest import make_problem

needs_numba = pytest.mark.skipif(not _jit.available(), reason="numba is not installed")


def both(A, y, **kw):  # type: ignore[no-untyped-def]
    return (
        sparseflow.gradient_descent(A, y, engine="numpy", **kw),
        sparseflow.gradient_descent(A, y, engine="numba", **kw),
    )


@needs_numba
@pytest.mark.parametrize(
    ("depth", "nonnegative", "order", "alpha"),
    [
        (2, False, "C", 0.5),
        (2, False, "F", 0.5),
        (2, True, "C", 0.5),
        (3, False, "F", 0.5),
        (5, False, "C", 1.0),
    ],
)
def test_engines_agree_to_rounding_and_stop_alike(depth, nonnegative, order, alpha):
    A, x, _ = make_problem(120, 50, 4, seed=depth, nonnegative=nonnegative)
    A = np.asarray(A, order=order)
    y = A @ x
    # converged, and a window (checkpoints every 7 iterations) that does not divide the count
    kw = {"depth": depth, "alpha": alpha, "nonnegative": nonnegative, "tol": 1e-3}
    ref, fast = both(A, y, max_iter=50_000, stagnation_window=7, **kw)
    assert ref.status is StopReason.CONVERGED and fast.status is StopReason.CONVERGED
    assert fast.n_iter == ref.n_iter
    np.testing.assert_allclose(fast.x, ref.x, rtol=1e-9, atol=1e-12)
    assert fast.residual_norm == pytest.approx(ref.residual_norm, rel=1e-6)
    # stopped by the budget
    ref, fast = both(A, y, max_iter=333, **kw)
    assert fast.status is ref.status is StopReason.MAX_ITER and fast.n_iter == ref.n_iter == 333
    np.testing.assert_allclose(fast.x, ref.x, rtol=1e-11, atol=1e-14)


@needs_numba
def test_compiled_engine_divergence_and_stagnation_match_numpy():
    A, x, y = make_problem(80, 30, 3, seed=2)
    ref, fast = both(A, y, depth=3, alpha=0.1, step=50.0, max_iter=500)
    assert ref.status is fast.status is StopReason.DIVERGED and fast.n_iter == ref.n_iter
    assert np.all(np.isfinite(fast.x)) and np.isfinite(fast.residual_norm)
    np.testing.assert_allclose(fast.x, ref.x, rtol=1e-9, atol=1e-12)
    # no non-negative solution (A ≥ 0, y < 0): a stationary point that does not fit y
    ref, fast = both(
        np.abs(A),
        -np.ones(y.size),
        depth=2,
        alpha=0.1,
        nonnegative=True,
        step=0.05,
        max_iter=100_000,
        stagnation_window=500,
    )
    assert ref.status is fast.status is StopReason.INFEASIBLE and fast.n_iter == ref.n_iter
    np.testing.assert_allclose(fast.x, ref.x, rtol=1e-9, atol=1e-14)


@needs_numba
@pytest.mark.parametrize(
    ("depth", "nonnegative", "order"),
    [(2, False, "C"), (2, False, "F"), (3, False, "C"), (4, False, "C"), (3, True, "C")],
)
def test_batched_engines_agree_on_every_problem_and_stop(depth, nonnegative, order):
    """A batch whose problems stop at different iterations, for different reasons."""
    A, x, _ = make_problem(120, 50, 4, seed=10 + depth, nonnegative=nonnegative)
    A = np.asarray(A, order=order)
    rng = np.random.default_rng(depth)
    X = np.abs(rng.standard_normal((120, 6))) * (rng.random((120, 6)) < 0.03)
    X[:, 0] = x
    Y = A @ X
    kw = {"depth": depth, "alpha": 0.6, "nonnegative": nonnegative, "stagnation_window": 7}
    # per-problem automatic steps; tolerances met at different iterations
    ref, fast = both(A, Y, tol=1e-2, max_iter=20_000, **kw)
    assert fast.info["engine"] == "numba" and ref.info["engine"] == "numpy"
    assert fast.info["status"] == ref.info["status"]
    assert fast.info["n_iter"] == ref.info["n_iter"]
    assert len(set(ref.info["n_iter"])) > 2  # the problems really left at different times
    np.testing.assert_allclose(fast.x, ref.x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.residual_norm, ref.residual_norm, rtol=1e-6)
    # one common step that a 400 times larger problem cannot take: it diverges, the others go on
    step = 2 * float(sparseflow.gradient_descent(A, Y[:, [0]], max_iter=1, **kw).info["step"][0])
    Y[:, 1] *= 400.0
    ref, fast = both(A, Y, tol=1e-2, max_iter=3_000, step=step, **kw)
    assert ref.info["status"][1] is StopReason.DIVERGED and ref.info["n_iter"][1] < 50
    assert fast.info["status"] == ref.info["status"]
    assert fast.info["n_iter"] == ref.info["n_iter"]
    np.testing.assert_allclose(fast.x, ref.x, rtol=1e-9, atol=1e-12)
    assert np.all(np.isfinite(fast.x))


@needs_numba
def test_auto_engine_uses_the_compiled_loop_only_where_it_applies():
    A, _, y = make_problem(60, 25, 2, seed=3)
    kw = {"depth": 2, "alpha": 0.1, "step": 0.01, "max_iter": 20}
    assert sparseflow.gradient_descent(A, y, **kw).info["engine"] == "numba"
    Y = np.column_stack([y, 2 * y])
    assert sparseflow.gradient_descent(A, Y, **kw).info["engine"] == "numba"
    for other in (
        {"A": sp.csr_matrix(A)},
        {"history": True},
        {"callback": lambda k, xk: None},
        {"step_schedule": "adaptive"},
        {"parametrization": "separate"},
    ):
        args = {"A": A, "y": y, **kw, **other}
        assert sparseflow.gradient_descent(**args).info["engine"] == "numpy"
        with pytest.raises(ValueError, match='engine="numba" does not apply'):
            sparseflow.gradient_descent(**{**args, "engine": "numba"})


def test_engine_is_validated_and_missing_numba_is_explained(monkeypatch):
    A, _, y = make_problem(40, 20, 2, seed=4)
    with pytest.raises(ValueError, match="engine"):
        sparseflow.gradient_descent(A, y, engine="fortran")
    monkeypatch.setattr(_jit, "available", lambda: False)
    with pytest.raises(ImportError, match=r"sparseflow\[jit\]"):
        sparseflow.gradient_descent(A, y, engine="numba", max_iter=3)
    assert sparseflow.gradient_descent(A, y, max_iter=3).info["engine"] == "numpy"


def test_a_broken_numba_falls_back_under_auto_and_is_explained(monkeypatch):
    A, _, y = make_problem(40, 20, 2, seed=5)
    monkeypatch.setattr(_jit, "available", lambda: True)
    monkeypatch.setattr(_jit, "_failure", "ImportError: numba needs an older numpy")
    assert not _jit.usable()
    assert sparseflow.gradient_descent(A, y, max_iter=3).info["engine"] == "numpy"
    with pytest.raises(ImportError, match="unavailable: ImportError: numba needs an older numpy"):
        sparseflow.gradient_descent(A, y, engine="numba", max_iter=3)


@pytest.mark.parametrize(
    "engine",
    ["numpy", pytest.param("numba", marks=needs_numba)],
)
def test_tiny_alpha_sign_changes_follow_the_textbook_loop(engine):
    """α = 1e-8: a learned entry's smaller factor (≈ α²/u ≈ 1e-16) must be kept exactly, as an
    entry that changes sign later grows back from it (a form with s = u ± v loses it and lands
    on another point)."""
    rng = np.random.default_rng(18)
    A = rng.standard_normal((4, 8)) / 2
    y = rng.standard_normal(4)
    u = np.full(8, 1e-8)
    v = u.copy()
    for k in range(20_001):  # the textbook loop, written out
        x = u * u - v * v
        r = A @ x - y
        if np.linalg.norm(r) <= 1e-9 * np.linalg.norm(y) or k == 20_000:
            break
        g = A.T @ r
        u, v = u - 0.04 * u * g, v + 0.04 * v * g
    assert k < 20_000
    res = sparseflow.gradient_descent(
        A,
        y,
        depth=2,
        alpha=1e-8,
        step=0.02,
        max_iter=20_000,
        tol=1e-9,
        stagnation_window=None,
        engine=engine,
    )
    assert res.status is StopReason.CONVERGED and res.n_iter == k
    np.testing.assert_allclose(res.x, x, rtol=1e-12, atol=1e-14)
