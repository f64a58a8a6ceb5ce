"""Tests of the theoretical predictions against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp
from scipy.optimize import minimize_scalar

from sparseflow import basis_pursuit, flow_limit
from sparseflow.experiments.trials import make_instance
from sparseflow.models import Model
from sparseflow.theory import (
    escape_time,
    l1_gap_bound,
    phase_transition_curve,
    phase_transition_m,
    statistical_dimension_l1,
)


def _psi_by_quadrature(rho: float, kappa: float) -> float:
    """ψ by numerical integration of the Gaussian tail and a bounded scalar minimization."""

    def objective(tau: float) -> float:
        tail = quad(lambda t: (t - tau) ** 2 * np.exp(-0.5 * t * t), tau, np.inf)[0]
        return rho * (1 + tau * tau) + (1 - rho) * kappa / np.sqrt(2 * np.pi) * tail

    return minimize_scalar(
        objective, bounds=(0.0, 10.0), method="bounded", options={"xatol": 1e-10}
    ).fun


@pytest.mark.parametrize("rho", [0.01, 0.05, 0.2, 0.5, 0.9])
@pytest.mark.parametrize("nonnegative", [False, True])
def test_statistical_dimension_matches_quadrature(rho: float, nonnegative: bool) -> None:
    expected = _psi_by_quadrature(rho, 1.0 if nonnegative else 2.0)
    got = statistical_dimension_l1(rho, nonnegative=nonnegative)
    assert got == pytest.approx(expected, rel=1e-7)


def test_phase_transition_reference_values() -> None:
    # THEORY §6: N = 100, s = 5 gives m ≈ 20.4.
    assert phase_transition_m(100, 5) == pytest.approx(20.4, abs=0.05)
    # Donoho–Tanner weak thresholds at δ = 1/2 (cross-polytope ≈ 0.385, simplex ≈ 0.558); the
    # statistical-dimension curve coincides with them asymptotically (Amelunxen et al. 2014).
    assert phase_transition_curve(0.5)[0] == pytest.approx(0.385, abs=2e-3)
    assert phase_transition_curve(0.5, nonnegative=True)[0] == pytest.approx(0.558, abs=2e-3)


def test_phase_transition_curve_inverts_psi() -> None:
    delta = np.array([0.1, 0.3, 0.6, 0.9])
    rho = phase_transition_curve(delta)
    for d, r in zip(delta, rho, strict=True):
        assert statistical_dimension_l1(r * d) == pytest.approx(d, rel=1e-10)
    assert np.all(np.diff(rho) > 0)
    # non-negative signals are easier: the curve lies above
    assert np.all(phase_transition_curve(delta, nonnegative=True) > rho)


@pytest.mark.parametrize("depth", [3, 4, 5])
def test_regularizer_sandwich_behind_the_gap_bound(depth: int) -> None:
    # |z| − (L/2) α^{L−2} |z|^{2/L} ≤ c g(z) ≤ |z| with g evaluated by the model's scalar solve.
    alpha = 0.05
    z = np.concatenate([-np.logspace(-6, 2, 40), np.logspace(-6, 2, 40)])
    c = depth * (depth - 2) * alpha ** (depth - 2)
    cg = c * Model(depth, alpha).regularizer(z)
    lower = np.abs(z) - 0.5 * depth * alpha ** (depth - 2) * np.abs(z) ** (2 / depth)
    assert np.all(cg <= np.abs(z) * (1 + 1e-10))
    assert np.all(cg >= lower - 1e-10 * np.abs(z))


@pytest.mark.parametrize(("depth", "alpha"), [(3, 0.1), (3, 0.03), (4, 0.1), (4, 0.2)])
def test_l1_gap_below_bound_against_lp(depth: int, alpha: float) -> None:
    for seed in range(3):
        A, _, y = make_instance(60, 25, 4, seed)
        lim = flow_limit(A, y, depth=depth, alpha=alpha)
        bp = basis_pursuit(A, y)
        l1 = float(np.abs(lim.x).sum())
        gap = l1 - float(np.abs(bp.x).sum())
        assert -1e-7 <= gap <= float(l1_gap_bound(l1, 60, depth, alpha))


def test_gap_bound_depth_two_rate_and_errors() -> None:
    assert float(l1_gap_bound(2.0, 100, 2, 1e-2)) == pytest.approx(2 * np.log(100) / np.log(1e4))
    with pytest.raises(ValueError, match="depth"):
        l1_gap_bound(1.0, 10, 1, 0.1)
    with pytest.raises(ValueError, match="alpha"):
        l1_gap_bound(1.0, 10, 2, 2.0)
    with pytest.raises(ValueError, match="l1_norm"):
        l1_gap_bound(-1.0, 10, 3, 0.1)


def _first_crossing(depth: int, alpha: float, yi: float, level: float) -> float:
    """Scalar flow du/dt = L u^{L−1}(y − u^L + v^L), dv/dt = −L v^{L−1}(y − u^L + v^L) (A = I)."""

    def rhs(_t: float, uv: np.ndarray) -> list[float]:
        u, v = uv
        r = yi - (u**depth - v**depth)
        return [depth * u ** (depth - 1) * r, -depth * v ** (depth - 1) * r]

    def hit(_t: float, uv: np.ndarray) -> float:
        return abs(uv[0] ** depth - uv[1] ** depth) - level

    hit.terminal = True  # type: ignore[attr-defined]
    sol = solve_ivp(
        rhs, (0, 1e9), [alpha, alpha], events=hit, rtol=1e-12, atol=1e-15, method="LSODA"
    )
    return float(sol.t_events[0][0])


@pytest.mark.parametrize(("depth", "alpha"), [(2, 1e-3), (3, 1e-2), (4, 3e-2)])
def test_escape_time_matches_direct_integration(depth: int, alpha: float) -> None:
    # With A = I the coordinates decouple; while |x| ≪ y the residual is y and the prediction
    # is exact up to the feedback of x, of relative size level / y.
    y = np.array([2.0, 0.7, 0.0])
    level = 1e-4
    pred = escape_time(np.eye(3), y, depth, alpha, level=level)
    for i in range(2):
        assert pred[i] == pytest.approx(_first_crossing(depth, alpha, y[i], level), rel=1e-3)
    assert pred[2] == np.inf


def test_escape_blowup_is_barrier_over_rate() -> None:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 8))
    y = rng.standard_normal(5)
    t = escape_time(A, y, 4, 0.1)
    np.testing.assert_allclose(t, 0.1**-2 / 8 / np.abs(A.T @ y))
    # larger level → later time, and the blow-up time bounds every level's time
    t1 = escape_time(A, y, 4, 0.1, level=1.0)
    assert np.all(t1 < t)
    with pytest.raises(ValueError, match="depth"):
        escape_time(A, y, 1, 0.1)
    with pytest.raises(ValueError, match="y must have"):
        escape_time(A, y[:3], 3, 0.1)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: statistical_dimension_l1(1.5), "rho"),
        (lambda: statistical_dimension_l1(0.0), "rho"),
        (lambda: phase_transition_m(10, 10), "s must be"),
        (lambda: phase_transition_curve([0.5, 1.2]), "delta"),
    ],
)
def test_invalid_inputs(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        call()
