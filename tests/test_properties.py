"""Property tests (hypothesis) for the closed forms and for batching."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

import sparseflow
from sparseflow.models import Model

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

depths = st.integers(min_value=1, max_value=10)
alphas = st.floats(min_value=1e-4, max_value=1.0)
# a point of the domain, as a fraction of the barrier (L ≥ 3) or of a fixed range (L ≤ 2)
fractions = st.floats(min_value=-0.995, max_value=0.995)


def _point(model: Model, fraction: float) -> float:
    barrier = float(model.barrier)
    return fraction * (barrier if np.isfinite(barrier) else 3.0)


@SETTINGS
@given(depths, alphas, fractions, fractions)
def test_link_is_odd_and_increasing(depth: int, alpha: float, f1: float, f2: float) -> None:
    model = Model(depth, alpha)
    w = np.array([_point(model, f1), _point(model, f2)])
    h = model.link(w)
    assert np.array_equal(model.link(-w), -h)
    if w[0] < w[1]:
        assert h[0] <= h[1]
    assert np.all(model.link_derivative(w) > 0)


@SETTINGS
@given(depths, alphas, fractions)
def test_potential_derivative_is_link(depth: int, alpha: float, fraction: float) -> None:
    model = Model(depth, alpha)
    w = _point(model, fraction)
    scale = float(model.barrier) if np.isfinite(model.barrier) else 1.0
    delta = 1e-5 * scale * (1 - abs(fraction))
    numeric = (model.potential(w + delta) - model.potential(w - delta)) / (2 * delta)
    exact = model.link(w)
    # Central difference: error O(δ² H''') plus rounding of H; compare against h' δ as the scale.
    tolerance = 1e-6 * abs(exact) + 1e-4 * float(model.link_derivative(w)) * delta
    assert abs(numeric - exact) <= tolerance


@SETTINGS
@given(depths, st.floats(min_value=1e-3, max_value=1.0), fractions)
def test_regularizer_is_the_conjugate_of_the_potential(
    depth: int, alpha: float, fraction: float
) -> None:
    model = Model(depth, alpha)
    z = float(model.link(_point(model, fraction)))
    # g(z) = sup_w (z w − H(w)), maximized numerically over the domain of H
    barrier = float(model.barrier) if np.isfinite(model.barrier) else 10.0
    with np.errstate(all="ignore"):
        best = minimize_scalar(
            lambda w: -(z * w - float(model.potential(w))),
            bounds=(-barrier * (1 - 1e-12), barrier * (1 - 1e-12)),
            method="bounded",
            options={"xatol": 1e-14 * barrier},
        )
    sup = -float(best.fun)
    g = float(model.regularizer(z))
    assert g >= 0
    assert abs(g - sup) <= 1e-7 * max(1.0, abs(z) * barrier, abs(sup))


@SETTINGS
@given(
    st.integers(min_value=2, max_value=6),
    st.floats(min_value=1e-2, max_value=1.0),
    st.integers(min_value=0, max_value=10_000),
)
def test_dual_gradient_is_the_residual(depth: int, alpha: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((4, 9)) / 2
    y = rng.standard_normal(4)
    model = Model(depth, alpha)
    barrier = float(model.barrier) if np.isfinite(model.barrier) else 1.0
    mu = rng.uniform(-0.3, 0.3, 4) * barrier / np.abs(A).sum(axis=0).max()

    def dual(v: np.ndarray) -> float:
        return float(y @ v - np.sum(model.potential(A.T @ v)))

    grad = np.empty(4)
    step = 1e-6 * barrier / np.abs(A).sum(axis=0).max()
    for i in range(4):
        e = np.zeros(4)
        e[i] = step
        grad[i] = (dual(mu + e) - dual(mu - e)) / (2 * step)
    residual = A @ model.link(A.T @ mu) - y
    assert np.allclose(grad, -residual, rtol=1e-5, atol=1e-6 * (1 + np.abs(y).max()))


problem_seeds = st.integers(min_value=0, max_value=1000)


def _batch(seed: int, n_problems: int = 3):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((10, 25)) / np.sqrt(10)
    X = np.zeros((25, n_problems))
    for j in range(n_problems):
        X[rng.choice(25, 2, replace=False), j] = rng.standard_normal(2)
    return A, A @ X


@settings(max_examples=10, deadline=None)
@given(problem_seeds, st.sampled_from(["descent", "adaptive", "limit", "omp", "lasso"]))
def test_batched_equals_looped(seed: int, method: str) -> None:
    A, Y = _batch(seed)
    Y = Y * np.array([1.0, 10.0, 0.1])  # different scales: per-problem steps must differ
    descent = {"depth": 2, "alpha": 1e-2, "max_iter": 300}  # step="auto": chosen per problem
    adaptive = {**descent, "step_schedule": "adaptive"}
    options = {"descent": descent, "adaptive": adaptive, "limit": {"depth": 3}}
    opts = options.get(method, {})
    name = "descent" if method == "adaptive" else method
    batched = sparseflow.recover(A, Y, method=name, **opts)
    for j in range(Y.shape[1]):
        single = sparseflow.recover(A, Y[:, j], method=name, **opts)
        assert np.allclose(batched.x[:, j], single.x, rtol=1e-12, atol=1e-14)


@settings(max_examples=10, deadline=None)
@given(problem_seeds, st.permutations(range(3)), st.sampled_from(["descent", "limit"]))
def test_batch_order_does_not_matter(seed: int, order: list[int], method: str) -> None:
    A, Y = _batch(seed)
    opts = {"depth": 2, "alpha": 1e-2, "max_iter": 300} if method == "descent" else {}
    base = sparseflow.recover(A, Y, method=method, **opts)
    permuted = sparseflow.recover(A, Y[:, order], method=method, **opts)
    assert np.allclose(permuted.x, base.x[:, order], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("depth", [3, 5, 10])
def test_primal_dual_agrees_with_the_link(depth: int) -> None:
    model = Model(depth, 0.5)
    z = np.array([-3.0, -0.2, 1e-6, 0.7, 4.0])
    s, gap, slope = model.primal_dual(z)
    k = depth * (depth - 2)
    w = s / (k * 0.5 ** (depth - 2))
    assert np.allclose(model.link(w), z, rtol=1e-10)
    assert np.allclose(gap, 1 - np.abs(s), rtol=1e-10)
    assert np.allclose(slope, k * 0.5 ** (depth - 2) / model.link_derivative(w), rtol=1e-8)
