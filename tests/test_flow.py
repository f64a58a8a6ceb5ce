"""Tests of the exact gradient flow against gradient descent and the flow's limit."""

from __future__ import annotations

import numpy as np
import pytest

import sparseflow
from sparseflow import StopReason, flow_limit, gradient_descent, gradient_flow
from sparseflow.experiments.trials import make_instance


def _small(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return make_instance(30, 15, 3, seed)


@pytest.mark.parametrize("depth", [2, 3])
def test_descent_converges_to_flow_at_rate_step(depth: int) -> None:
    # k Euler steps of size η reach time kη; the gap to the exact flow must shrink like O(η).
    A, _, y = _small(1)
    alpha, t_end = 0.3, 2.0
    flow = gradient_flow(A, y, depth, alpha, times=[t_end], rtol=1e-11, atol=1e-13)
    errors = []
    for eta in (4e-3, 2e-3, 1e-3):
        k = round(t_end / eta)
        gd = gradient_descent(A, y, depth, alpha, step=eta, max_iter=k, tol=1e-15)
        assert gd.n_iter == k
        errors.append(np.linalg.norm(gd.x - flow.x) / np.linalg.norm(flow.x))
    assert errors[0] > errors[1] > errors[2]
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    assert all(1.7 < r < 2.3 for r in ratios), ratios  # first order in η
    assert errors[2] < 1e-2


@pytest.mark.parametrize(("depth", "alpha"), [(2, 1e-3), (3, 1e-2), (4, 3e-2)])
def test_large_time_matches_flow_limit(depth: int, alpha: float) -> None:
    A, _, y = make_instance(100, 40, 5, 1)
    lim = flow_limit(A, y, depth=depth, alpha=alpha, tol=1e-12)
    flow = gradient_flow(A, y, depth, alpha, times=[1e15])
    assert flow.converged, flow.message
    rel = np.linalg.norm(flow.x - lim.x) / np.linalg.norm(lim.x)
    assert rel <= 1e-8


def test_history_shapes_and_start() -> None:
    A, _, y = _small()
    times = [0.0, 0.5, 3.0]
    res = gradient_flow(A, y, 2, 0.1, times=times)
    assert res.history is not None
    np.testing.assert_array_equal(res.history["t"], times)
    assert res.history["x"].shape == (3, 30)
    np.testing.assert_array_equal(res.history["x"][0], 0.0)  # x(0) = α² − α² = 0
    np.testing.assert_array_equal(res.x, res.history["x"][-1])
    # the loss decreases along a gradient flow
    assert np.all(np.diff(res.history["residual"]) < 0)


def test_nonnegative_starts_at_alpha_power_and_matches_limit() -> None:
    rng = np.random.default_rng(3)
    A = rng.standard_normal((15, 30)) / np.sqrt(15)
    x = np.zeros(30)
    x[[2, 9]] = [1.0, 0.5]
    y = A @ x
    res = gradient_flow(A, y, 3, 0.1, times=[0.0, 1e12], nonnegative=True)
    np.testing.assert_allclose(res.history["x"][0], 0.1**3)
    lim = flow_limit(A, y, depth=3, alpha=0.1, nonnegative=True)
    assert np.all(res.x >= 0)
    np.testing.assert_allclose(res.x, lim.x, rtol=1e-7, atol=1e-10)


def test_batch_equals_loop() -> None:
    A, _, y1 = _small(1)
    Y = np.column_stack([y1, A @ make_instance(30, 15, 3, 2)[1]])  # same A, two right-hand sides
    batch = gradient_flow(A, Y, 2, 0.1, times=[1.0, 10.0])
    for j in range(2):
        one = gradient_flow(A, Y[:, j], 2, 0.1, times=[1.0, 10.0])
        np.testing.assert_allclose(batch.x[:, j], one.x)
        np.testing.assert_allclose(batch.history["x"][:, :, j], one.history["x"])
    assert batch.history["residual"].shape == (2, 2)


def test_recover_dispatches_flow() -> None:
    A, _, y = _small()
    res = sparseflow.recover(A, y, method="flow", depth=2, alpha=0.1, times=[5.0])
    assert res.method == "gradient_flow"


def test_max_steps_reports_stop_reason() -> None:
    A, _, y = _small()
    res = gradient_flow(A, y, 3, 1e-2, times=[1e6], max_steps=3)
    assert not res.converged
    assert res.status is StopReason.MAX_ITER
    assert "max_steps" in res.message
    assert np.all(np.isfinite(res.x))


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"times": [1.0, 0.5]}, ValueError, "increasing"),
        ({"times": [-1.0]}, ValueError, "non-negative"),
        ({"times": [np.nan]}, ValueError, "times"),
        ({"times": 1.0, "rtol": 0.0}, ValueError, "rtol"),
        ({"times": 1.0, "integrator": "RK45"}, ValueError, "integrator"),
        ({"times": 1.0, "max_steps": 0}, ValueError, "max_steps"),
        ({"times": 1.0, "alpha": -1.0}, ValueError, "alpha"),
    ],
)
def test_invalid_arguments(kwargs: dict, err: type, match: str) -> None:
    A, _, y = _small()
    args = {"depth": 2, "alpha": 0.1, **kwargs}
    with pytest.raises(err, match=match):
        gradient_flow(A, y, **args)


def test_early_time_is_not_reported_as_converged() -> None:
    """A trajectory stopped before the flow fits y is a budget run out, never a success."""
    A, _, y = make_instance(60, 20, 3, 2)
    early = gradient_flow(A, y, 3, 1e-2, times=[1e-3])
    assert not early.converged and early.status is StopReason.MAX_ITER
    assert "tol" in early.message
    late = gradient_flow(A, y, 3, 1e-2, times=[1e15])
    assert late.converged
    assert np.linalg.norm(A @ late.x - y) <= 1e-6 * np.linalg.norm(y)
