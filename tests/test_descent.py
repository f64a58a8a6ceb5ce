"""gradient_descent: convergence to the flow limit, batching, factor forms, stop reasons."""

from __future__ import annotations

import numpy as np
import pytest

import sparseflow
from sparseflow.result import StopReason

from .conftest import make_problem


@pytest.fixture(scope="module")
def easy():
    """A tiny instance where descent from a moderate α converges in a few thousand steps."""
    return make_problem(30, 12, 2, seed=11)


_STEP_CASES = [(2, False), (3, False), (4, False), (2, True)]
_SLOW_STEP_CASES = [(3, True), (4, True)]


@pytest.mark.parametrize(
    ("depth", "nonnegative"),
    _STEP_CASES + [pytest.param(*c, marks=pytest.mark.slow) for c in _SLOW_STEP_CASES],
)
def test_descent_limit_approaches_flow_limit_linearly_in_step(depth, nonnegative):
    """‖x_GD(η) − x∞‖ = O(η): halving the step halves the difference to flow_limit."""
    A, _, y = make_problem(20, 10, 2, seed=11, nonnegative=nonnegative)
    alpha = 0.7
    limit = sparseflow.flow_limit(A, y, depth=depth, alpha=alpha, nonnegative=nonnegative)
    assert limit.converged
    base = sparseflow.gradient_descent(
        A, y, depth=depth, alpha=alpha, nonnegative=nonnegative, max_iter=1
    ).info["step"]
    diffs = []
    for eta in (4 * base, 2 * base, base):
        gd = sparseflow.gradient_descent(
            A,
            y,
            depth=depth,
            alpha=alpha,
            step=eta,
            nonnegative=nonnegative,
            tol=1e-10,
            max_iter=500_000,
        )
        assert gd.converged, gd.message
        diffs.append(np.linalg.norm(gd.x - limit.x))
    ratios = [diffs[0] / diffs[1], diffs[1] / diffs[2]]
    assert all(1.8 < r < 2.3 for r in ratios), (diffs, ratios)


def test_depth_one_converges_to_minimum_norm(easy):
    A, _, y = easy
    gd = sparseflow.gradient_descent(A, y, depth=1, alpha=0.1, tol=1e-10, max_iter=100_000)
    assert gd.converged
    # u − v starts at 0 and moves in the row space of A: the limit is A⁺y exactly
    assert np.allclose(gd.x, np.linalg.pinv(A) @ y, atol=1e-8)


def test_batched_equals_looped(easy):
    A, _, y = easy
    rng = np.random.default_rng(2)
    Y = np.column_stack([y, A @ rng.standard_normal(A.shape[1]), -0.5 * y])
    batch = sparseflow.gradient_descent(A, Y, depth=2, alpha=0.1, step=0.01, max_iter=3000)
    for j in range(Y.shape[1]):
        one = sparseflow.gradient_descent(A, Y[:, j], depth=2, alpha=0.1, step=0.01, max_iter=3000)
        assert np.allclose(one.x, batch.x[:, j], rtol=0, atol=1e-13)
        assert one.n_iter == batch.info["n_iter"][j]
        assert one.status == batch.info["status"][j]


def test_separate_factors_follow_shared_path_with_rescaled_time(easy):
    A, _, y = easy
    for depth in (2, 3):
        shared = sparseflow.gradient_descent(A, y, depth=depth, alpha=0.2, step=0.01, max_iter=500)
        separate = sparseflow.gradient_descent(
            A,
            y,
            depth=depth,
            alpha=0.2,
            step=0.01 * depth,
            max_iter=500,
            parametrization="separate",
        )
        assert np.allclose(shared.x, separate.x, rtol=0, atol=1e-12)


def test_separate_factors_with_unequal_init_still_fit(easy):
    A, _, y = easy
    init = np.array([0.3, 0.5, 0.8])
    res = sparseflow.gradient_descent(
        A, y, depth=3, parametrization="separate", init=init, tol=1e-4, max_iter=200_000
    )
    assert res.converged
    assert np.linalg.norm(A @ res.x - y) <= 1e-4 * np.linalg.norm(y)


def test_divergence_is_detected_and_no_nan_returned(easy):
    A, _, y = easy
    res = sparseflow.gradient_descent(A, y, depth=2, alpha=0.1, step=50.0, max_iter=1000)
    assert res.status is StopReason.DIVERGED and not res.converged
    assert np.all(np.isfinite(res.x))
    assert "diverged" in res.message


def test_auto_step_does_not_diverge_on_large_signal(easy):
    A, _, y = easy
    res = sparseflow.gradient_descent(A, 1e3 * y, depth=3, alpha=1.0, max_iter=20_000)
    assert res.status is not StopReason.DIVERGED


def test_exhausted_budget_is_not_converged(easy):
    A, _, y = easy
    res = sparseflow.gradient_descent(A, y, depth=2, alpha=1e-3, max_iter=10)
    assert not res.converged and res.status is StopReason.MAX_ITER and res.n_iter == 10


def test_callback_can_stop_and_history_is_recorded(easy):
    A, _, y = easy
    seen = []

    def stop_at_five(k, x):
        seen.append(k)
        return k >= 5

    res = sparseflow.gradient_descent(
        A, y, depth=2, alpha=0.1, callback=stop_at_five, history=True, max_iter=100
    )
    assert res.status is StopReason.CALLBACK and res.n_iter == 5
    assert seen == list(range(6))
    loss = res.history["loss"]
    assert loss.shape == (6,)
    assert loss[0] == pytest.approx(0.5 * np.linalg.norm(y) ** 2, rel=1e-3)


def test_discrepancy_principle_stops_noisy_problem():
    A, x_true, y = make_problem(60, 30, 3, seed=4)
    sigma = 0.01
    noisy = y + sigma * np.random.default_rng(1).standard_normal(y.shape)
    res = sparseflow.gradient_descent(
        A, noisy, depth=2, alpha=1e-2, noise_level=sigma, max_iter=100_000
    )
    assert res.converged
    assert res.residual_norm <= 1.1 * sigma * np.sqrt(30) + 1e-12
    assert "discrepancy" in res.message


def test_sparse_recovery_by_descent(problem):
    A, x_true, y = problem
    res = sparseflow.gradient_descent(A, y, depth=2, alpha=1e-3, tol=3e-3, max_iter=100_000)
    assert res.converged, res.message
    assert np.linalg.norm(res.x - x_true) <= 2e-2 * np.linalg.norm(x_true)


def test_auto_step_accounts_for_alpha_when_y_is_tiny():
    """With y at 1e-9 next to α = 1e-3 the factors' start, not y, bounds the stable step."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 80)) / np.sqrt(30)
    x = np.zeros(80)
    x[[3, 17, 40]] = [1.0, -0.5, 2.0]
    res = sparseflow.gradient_descent(A, 1e-9 * (A @ x), max_iter=20_000)
    assert res.status is not StopReason.DIVERGED and res.info["auto_step_halvings"] == 0
    assert res.converged


def test_huge_max_iter_is_fine_on_every_engine():
    A, _, y = make_problem(60, 25, 2, seed=3)
    for engine in ("numpy", "auto"):
        res = sparseflow.gradient_descent(
            A, y, engine=engine, max_iter=2**63, stagnation_window=None, tol=1e-3
        )
        assert res.converged


def test_auto_step_halves_only_the_diverging_problems_of_a_batch(monkeypatch):
    """A batch equals its problems one by one, also when one of them needs smaller steps."""
    from sparseflow.solvers import descent

    safe = descent.auto_step

    def reckless(op, y, depth, alpha=0.0):  # type: ignore[no-untyped-def]
        # far beyond the stability bound for the larger problem: it diverges and is halved
        return safe(op, y, depth, alpha) * (300.0 if np.linalg.norm(y) > 10 else 1.0)

    monkeypatch.setattr(descent, "auto_step", reckless)
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 80)) / np.sqrt(30)
    x = np.zeros(80)
    x[[3, 17, 40]] = [1.0, -0.5, 2.0]
    Y = np.column_stack([A @ x, 40.0 * (A @ x)])
    kw = {"alpha": 0.1, "tol": 1e-3, "max_iter": 5000, "history": True}
    assert sparseflow.gradient_descent(A, Y[:, 1], **kw).info["auto_step_halvings"] > 0
    batch = sparseflow.gradient_descent(A, Y, **kw)
    for j in range(2):
        one = sparseflow.gradient_descent(A, Y[:, j], **kw)
        assert batch.info["step"][j] == one.info["step"]
        assert batch.info["n_iter"][j] == one.n_iter
        np.testing.assert_allclose(batch.x[:, j], one.x, rtol=1e-12, atol=1e-15)
        losses = batch.history["loss"][:, j]
        np.testing.assert_allclose(losses[: one.n_iter + 1], one.history["loss"], rtol=1e-12)
