r"""Theoretical predictions: the ℓ1 phase transition, the ℓ1-gap bounds and escape times.

Everything here is a formula of THEORY §4–§6, evaluated to full precision; the experiments draw
these predictions beside what they measure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

from ._validation import (
    as_float_array,
    check_alpha,
    check_depth,
    check_positive,
    check_positive_int,
)
from .models import Model
from .operators import as_operator

__all__ = [
    "escape_time",
    "l1_gap_bound",
    "phase_transition_curve",
    "phase_transition_m",
    "statistical_dimension_l1",
]

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _tail_second_moment(tau: float) -> float:
    """∫_τ^∞ (t − τ)² φ(t) dt = (1 + τ²) Q(τ) − τ φ(τ), φ the standard normal density."""
    phi = _INV_SQRT_2PI * np.exp(-0.5 * tau * tau)
    return (1.0 + tau * tau) * ndtr(-tau) - tau * phi


def _check_fraction(rho: Any, name: str) -> float:
    value = check_positive(rho, name)
    if value >= 1.0:
        raise ValueError(f"{name} must lie in (0, 1), got {value!r}")
    return value


def statistical_dimension_l1(rho: float, *, nonnegative: bool = False) -> float:
    r"""Normalized statistical dimension ψ(ρ) of the ℓ1 descent cone at an ρN-sparse vector.

    Parameters
    ----------
    rho : float
        Sparsity fraction s/N in (0, 1).
    nonnegative : bool, default False
        Use the descent cone of ℓ1 restricted to the non-negative orthant (non-negative signals
        recovered by min 1ᵀz s.t. Az = y, z ≥ 0).

    Returns
    -------
    float
        ψ(ρ) ∈ (0, 1): basis pursuit with Gaussian A succeeds with probability about ½ at
        m ≈ N ψ(s/N).

    Notes
    -----
    Amelunxen, Lotz, McCoy and Tropp (2014):

    .. math::

        \psi(\rho) = \min_{\tau \ge 0}\Big\{\rho(1+\tau^2)
            + (1-\rho)\,\kappa\int_\tau^\infty (t-\tau)^2 \varphi(t)\,dt\Big\},

    with φ the standard normal density, κ = 2 for signed signals and κ = 1 for non-negative ones.
    The integral equals :math:`(1+\tau^2)Q(\tau) - \tau\varphi(\tau)` and the objective is convex
    in τ with derivative :math:`2\rho\tau - 2\kappa(1-\rho)(\varphi(\tau) - \tau Q(\tau))`, whose
    root is found by Brent's method.

    Examples
    --------
    >>> from sparseflow.theory import statistical_dimension_l1
    >>> round(100 * statistical_dimension_l1(0.05), 1)
    20.4
    """
    rho = _check_fraction(rho, "rho")
    kappa = 1.0 if nonnegative else 2.0

    def slope(tau: float) -> float:
        phi = _INV_SQRT_2PI * np.exp(-0.5 * tau * tau)
        return rho * tau - kappa * (1.0 - rho) * (phi - tau * ndtr(-tau))

    # slope(0) < 0 and slope grows without bound, so a bracket exists.
    hi = 1.0
    while slope(hi) < 0:
        hi *= 2.0
    tau = brentq(slope, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    return float(rho * (1.0 + tau * tau) + kappa * (1.0 - rho) * _tail_second_moment(tau))


def phase_transition_m(n: int, s: int, *, nonnegative: bool = False) -> float:
    """Predicted number of measurements at which basis pursuit succeeds half the time.

    Parameters
    ----------
    n : int
        Ambient dimension N.
    s : int
        Sparsity, 1 ≤ s < N.
    nonnegative : bool, default False
        Predict for non-negative signals (see :func:`statistical_dimension_l1`).

    Returns
    -------
    float
        m* = N ψ(s/N).

    Notes
    -----
    The statistical dimension δ of the descent cone locates the phase transition of a random
    convex program: with Gaussian A, success is likely for m ≥ δ + O(√N) and unlikely below.

    Examples
    --------
    >>> from sparseflow.theory import phase_transition_m
    >>> round(phase_transition_m(100, 5), 1)
    20.4
    """
    n = check_positive_int(n, "n")
    s = check_positive_int(s, "s")
    if s >= n:
        raise ValueError(f"s must be smaller than n={n}, got s={s}")
    return n * statistical_dimension_l1(s / n, nonnegative=nonnegative)


def phase_transition_curve(delta: Any, *, nonnegative: bool = False) -> np.ndarray:
    r"""The ℓ1 phase-transition curve ρ(δ) in Donoho–Tanner coordinates δ = m/N, ρ = s/m.

    Parameters
    ----------
    delta : float or array_like
        Undersampling ratios m/N in (0, 1).
    nonnegative : bool, default False
        The curve for non-negative signals.

    Returns
    -------
    ndarray
        ρ(δ) such that ψ(ρδ) = δ, i.e. basis pursuit succeeds half the time at s = ρ m.

    Notes
    -----
    ψ is increasing in the sparsity fraction, so :math:`\psi(\rho_N) = \delta` has one root
    :math:`\rho_N = s/N` in (0, 1); then ρ = ρ_N / δ.

    Examples
    --------
    >>> from sparseflow.theory import phase_transition_curve
    >>> curve = phase_transition_curve([0.25, 0.5, 0.75])
    >>> bool(curve[0] < curve[1] < curve[2] < 1)
    True
    """
    d = as_float_array(np.atleast_1d(delta), "delta", ndim=(1,))
    if np.any((d <= 0) | (d >= 1)):
        raise ValueError("delta must lie in (0, 1) in every entry")
    out = np.empty_like(d)
    for i, di in enumerate(d):
        root = brentq(
            lambda r, di=di: statistical_dimension_l1(r, nonnegative=nonnegative) - di,
            1e-12,
            1 - 1e-12,
            xtol=1e-14,
        )
        out[i] = root / di
    return out


def l1_gap_bound(l1_norm: Any, n: int, depth: int, alpha: Any) -> np.ndarray:
    r"""Upper bound on the ℓ1 gap ‖x∞‖₁ − min_{Az=y} ‖z‖₁ of the flow's limit (THEORY §4).

    Parameters
    ----------
    l1_norm : float or array_like
        ‖x∞‖₁ (the bound is stated in terms of the limit's own ℓ1 norm).
    n : int
        Ambient dimension N.
    depth : int
        Depth L ≥ 2.
    alpha : float or array_like
        Initial scale α (broadcast against ``l1_norm``).

    Returns
    -------
    ndarray
        For L ≥ 3 the rigorous bound :math:`\tfrac L2\alpha^{L-2}N^{1-2/L}\|x_\infty\|_1^{2/L}`.
        For L = 2 the rate :math:`\|x_\infty\|_1\log N/\log(1/\alpha^2)`, which THEORY states up
        to a constant (it is the order of magnitude, not a certified bound).

    Notes
    -----
    For L ≥ 3 and c = L(L−2)α^{L−2} the regularizer satisfies
    :math:`|z| - \tfrac L2\alpha^{L-2}|z|^{2/L} \le c\,g_{\alpha,L}(z) \le |z|`; comparing
    :math:`\sum g(x_\infty) \le \sum g(z_{BP})` and applying Hölder's inequality to
    :math:`\sum|x_i|^{2/L}` gives the bound.

    Examples
    --------
    >>> from sparseflow.theory import l1_gap_bound
    >>> round(float(l1_gap_bound(4.0, 100, 4, 1e-2)), 6)
    0.004
    """
    depth = check_depth(depth)
    n = check_positive_int(n, "n")
    if depth < 2:
        raise ValueError(f"depth must be at least 2 for an ℓ1 gap bound, got {depth}")
    norm = np.asarray(l1_norm, dtype=np.float64)
    a = np.asarray(alpha, dtype=np.float64)
    if np.any(~np.isfinite(norm)) or np.any(norm < 0):
        raise ValueError("l1_norm must be finite and non-negative")
    if np.any(~np.isfinite(a)) or np.any(a <= 0):
        raise ValueError("alpha must be positive and finite")
    if depth == 2:
        if np.any(a >= 1):
            raise ValueError("alpha must be below 1 for the depth-2 rate log N / log(1/alpha^2)")
        return norm * np.log(n) / np.log(1.0 / a**2)
    return 0.5 * depth * a ** (depth - 2) * n ** (1 - 2 / depth) * norm ** (2 / depth)


def escape_time(
    A: Any, y: Any, depth: int, alpha: Any, *, level: float | None = None
) -> np.ndarray:
    r"""Predicted time at which each coordinate of the flow leaves its small initial value.

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator, shape (m, N)
    y : array_like, shape (m,)
    depth : int
        Depth L ≥ 2.
    alpha : float or array_like of shape (N,)
        Initial scale.
    level : float, optional
        Report the time at which |x_i| reaches ``level``. By default, for L ≥ 3 the blow-up time
        of the early-phase dynamics (the factor reaches infinity) and, for L = 2, ``level = 1``.

    Returns
    -------
    ndarray of shape (N,)
        Predicted escape times (∞ for coordinates with (Aᵀy)_i = 0).

    Notes
    -----
    While x ≈ 0 the residual is ≈ −y, so μ(t) ≈ t y and w_i(t) = (Aᵀμ)_i ≈ t c_i with
    c = Aᵀy. The coordinate reaches level ℓ when h(w_i) = ℓ, at :math:`t_i = h^{-1}(\ell)/|c_i|`.
    For L ≥ 3 the blow-up time is the barrier over the rate,
    :math:`t_i = \alpha^{2-L}/(L(L-2)|c_i|)`; for L = 2 the time grows like
    :math:`\log(\ell/\alpha^2)/(4|c_i|)`. Coordinates with large correlation escape first
    (saddle-to-saddle dynamics); the prediction holds until the first coordinates have escaped.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseflow.theory import escape_time
    >>> escape_time(np.eye(2)[:1], [2.0], depth=3, alpha=0.1).round(4)
    array([1.6667,    inf])
    """
    op = as_operator(A)
    y_arr = as_float_array(y, "y", ndim=(1,))
    if y_arr.shape[0] != op.shape[0]:
        raise ValueError(f"y must have {op.shape[0]} entries to match A, got {y_arr.shape[0]}")
    depth = check_depth(depth)
    if depth < 2:
        raise ValueError(f"depth must be at least 2 for an escape time, got {depth}")
    alpha_v = check_alpha(alpha, op.shape[1])
    rate = np.abs(op.rmatvec(y_arr))
    model = Model(depth, alpha_v)
    if level is None and depth >= 3:
        reach = np.broadcast_to(model.barrier, rate.shape)
    else:
        lv = 1.0 if level is None else check_positive(level, "level")
        reach = np.broadcast_to(model.link_inverse(lv * np.ones(op.shape[1])), rate.shape)
    with np.errstate(divide="ignore"):
        return np.where(rate > 0, reach / np.where(rate > 0, rate, 1.0), np.inf)
