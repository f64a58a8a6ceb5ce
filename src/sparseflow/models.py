r"""Closed forms of the overparameterized models, in one numerically careful place.

Gradient flow on :math:`\tfrac12\|A(u^{\odot L} - v^{\odot L}) - y\|^2` from :math:`u = v = \alpha`
keeps :math:`x(t) = h(A^\top \mu(t))` coordinate-wise, where :math:`\mu` solves an m-dimensional
ODE (THEORY §3). This module evaluates, for every depth :math:`L \ge 1` and for the signed model
:math:`x = u^L - v^L` as well as the non-negative model :math:`x = u^L`:

- the link :math:`h` (dual variable → signal), its derivative :math:`h'` and inverse;
- the dual potential :math:`H` with :math:`H' = h`;
- the implicit regularizer :math:`g = H^*`, the function the flow's limit minimizes subject to
  :math:`Az = y`.

Notes
-----
For :math:`L \ge 3` write :math:`k = L(L-2)`, :math:`p = L/(L-2)`, :math:`c_0 = \alpha^{2-L}` and
the *scaled dual variable* :math:`s = k w / c_0`. The factors are :math:`u^{2-L} = c_0 (1 - s)` and
:math:`v^{2-L} = c_0(1 + s)`, so the admissible set is :math:`|s| < 1` (:math:`s < 1` for the
non-negative model) and

.. math::

    h(w) = \alpha^L\big[(1-s)^{-p} - (1+s)^{-p}\big]
         = 2\alpha^L (1-s^2)^{-p/2} \sinh\!\big(p\,\mathrm{atanh}\, s\big).

The second form has no cancellation for small :math:`s`; :math:`H` and :math:`h'` are evaluated the
same way (``log1p``/``expm1``), and the depth-2 formulas use exponentials of
:math:`4|w| + 2\log\alpha` so that nothing overflows before the signal itself would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import check_depth, check_positive

__all__ = ["Model", "link", "link_derivative", "link_inverse", "potential", "regularizer"]

# Depths whose exponent p = L/(L−2) is an integer: there h, h' and H are rational in the scaled
# dual s and are evaluated without transcendental functions (a several-fold cheaper Newton step
# of the limit solver); the value is the exponent p.
_RATIONAL = {3: 3, 4: 2}


def _rational_link(L: int, s: np.ndarray, a: Any, q: np.ndarray) -> np.ndarray:
    """Signed h at L = 3, 4 from s and q = (1 − s)(1 + s), over a common denominator."""
    if L == 3:  # α³[(1−s)⁻³ − (1+s)⁻³] without the cancellation of the difference
        return 2 * a**3 * s * (3 + s * s) / (q * q * q)
    return 4 * a**4 * s / (q * q)


def _rational_potential(L: int, s: np.ndarray, a: Any, q: np.ndarray) -> np.ndarray:
    """Signed H at L = 3, 4 from s and q = (1 − s)(1 + s)."""
    s2 = s * s
    if L == 3:  # (α²/6)[(1−s)⁻² + (1+s)⁻² − 2]
        return a**2 * s2 * (3 - s2) / (3 * (q * q))
    return a**2 * s2 / (4 * q)


def _as_alpha(alpha: Any) -> float | np.ndarray:
    if np.ndim(alpha) == 0:
        return check_positive(alpha, "alpha")
    arr = np.asarray(alpha, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"alpha must be a scalar or a 1-D vector, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError("alpha must be positive and finite in every coordinate")
    return arr


@dataclass(frozen=True, eq=False)
class Model:
    """An overparameterized model of depth L with initial scale α.

    Parameters
    ----------
    depth : int
        The Hadamard power L ≥ 1.
    alpha : float or ndarray of shape (N,)
        Initial scale u(0) = v(0) = α; a vector gives each coordinate its own scale (a weighted
        implicit regularizer).
    nonnegative : bool, default False
        Use x = u^L (x ≥ 0) instead of x = u^L − v^L.

    Notes
    -----
    All methods broadcast: ``w`` may have shape (N,) or (N, B); a vector α is aligned with axis 0.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseflow.models import Model
    >>> model = Model(depth=2, alpha=0.1)
    >>> w = np.array([-0.3, 0.0, 0.5])
    >>> bool(np.allclose(model.link(w), 2 * 0.1**2 * np.sinh(4 * w)))
    True
    >>> bool(np.allclose(model.link_inverse(model.link(w)), w))
    True
    """

    depth: int
    alpha: float | np.ndarray
    nonnegative: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", check_depth(self.depth))
        object.__setattr__(self, "alpha", _as_alpha(self.alpha))
        object.__setattr__(self, "nonnegative", bool(self.nonnegative))

    # --- helpers --------------------------------------------------------------------------------
    def _alpha_like(self, w: np.ndarray) -> float | np.ndarray:
        a = self.alpha
        if isinstance(a, np.ndarray):
            if w.shape[0] != a.shape[0]:
                raise ValueError(
                    f"alpha has length {a.shape[0]} but the signal has {w.shape[0]} coordinates"
                )
            if w.ndim == 2:
                return a[:, None]
        return a

    def _scaled(self, w: np.ndarray) -> tuple[np.ndarray, float | np.ndarray]:
        """Return the scaled dual variable s = k w α^{L-2} and α (broadcast), for L ≥ 3."""
        L = self.depth
        a = self._alpha_like(w)
        return L * (L - 2) * w * a ** (L - 2), a

    @property
    def barrier(self) -> float | np.ndarray:
        """Supremum of admissible ``|w|`` (of w for the non-negative model); ∞ for L ≤ 2."""
        L = self.depth
        if L <= 2:
            return np.inf
        return self.alpha ** (2 - L) / (L * (L - 2))

    def in_domain(self, w: np.ndarray) -> bool:
        """True when every w is inside the open domain of H and h(w) is finite."""
        w = np.asarray(w, dtype=np.float64)
        if self.depth >= 3:
            # One reduction instead of a comparison and np.all: NaN propagates through max and
            # fails the test, and so does ±inf (|s| = inf); −inf only needs the extra min.
            s, _ = self._scaled(w)
            if self.nonnegative:
                return bool(np.max(s, initial=-np.inf) < 1.0 and np.min(s, initial=0.0) > -np.inf)
            return bool(np.max(np.abs(s), initial=0.0) < 1.0)
        if not np.all(np.isfinite(w)):
            return False
        if self.depth == 2:
            with np.errstate(over="ignore"):
                return bool(np.all(np.isfinite(self.potential(w))))
        return True

    # --- the link h and its relatives -----------------------------------------------------------
    def link(self, w: Any) -> np.ndarray:
        """x = h(w): the signal produced by the dual variable w = Aᵀμ."""
        w = np.asarray(w, dtype=np.float64)
        L, a = self.depth, self._alpha_like(w)
        if self.nonnegative:
            if L == 1:
                return a + w
            if L == 2:
                return np.exp(4 * w + 2 * np.log(a))
            s, _ = self._scaled(w)
            if L in _RATIONAL:
                return a**L / (1 - s) ** _RATIONAL[L]
            return a**L * np.exp(-(L / (L - 2)) * np.log1p(-s))
        if L == 1:
            return 2.0 * w
        if L == 2:
            aw = np.abs(w)
            return np.sign(w) * np.exp(4 * aw + 2 * np.log(a)) * -np.expm1(-8 * aw)
        s, _ = self._scaled(w)
        if L in _RATIONAL:
            return _rational_link(L, s, a, (1 - s) * (1 + s))
        p = L / (L - 2)
        return 2 * a**L * np.exp(-0.5 * p * np.log1p(-(s * s))) * np.sinh(p * np.arctanh(s))

    def link_derivative(self, w: Any) -> np.ndarray:
        """h'(w) > 0, the Hessian weight of the dual."""
        w = np.asarray(w, dtype=np.float64)
        L, a = self.depth, self._alpha_like(w)
        if self.nonnegative:
            if L == 1:
                return np.ones_like(w)
            if L == 2:
                return 4 * np.exp(4 * w + 2 * np.log(a))
            s, _ = self._scaled(w)
            if L in _RATIONAL:
                return L**2 * a ** (2 * L - 2) / (1 - s) ** (_RATIONAL[L] + 1)
            p = L / (L - 2)
            return L**2 * a ** (2 * L - 2) * np.exp(-(p + 1) * np.log1p(-s))
        if L == 1:
            return np.full_like(w, 2.0)
        if L == 2:
            aw = np.abs(w)
            return 4 * np.exp(4 * aw + 2 * np.log(a)) * (1 + np.exp(-8 * aw))
        s, _ = self._scaled(w)
        if L == 3:
            q = (1 - s) * (1 + s)
            s2 = s * s
            return 18 * a**4 * (1 + s2 * (6 + s2)) / ((q * q) * (q * q))
        if L == 4:
            q = (1 - s) * (1 + s)
            return 32 * a**6 * (1 + 3 * (s * s)) / (q * q * q)
        q = L / (L - 2) + 1
        return (
            2
            * L**2
            * a ** (2 * L - 2)
            * np.exp(-0.5 * q * np.log1p(-(s * s)))
            * np.cosh(q * np.arctanh(s))
        )

    def potential(self, w: Any) -> np.ndarray:
        """H(w) with H' = h and H(0) = 0 (signed model)."""
        w = np.asarray(w, dtype=np.float64)
        L, a = self.depth, self._alpha_like(w)
        if self.nonnegative:
            if L == 1:
                return a * w + 0.5 * w * w
            if L == 2:
                return a**2 * np.expm1(4 * w) / 4
            s, _ = self._scaled(w)
            if L == 3:  # (α²/6)[(1−s)⁻² − 1]
                return a**2 * s * (2 - s) / (6 * (1 - s) ** 2)
            if L == 4:
                return a**2 * s / (8 * (1 - s))
            return a**2 * np.expm1(-(2 / (L - 2)) * np.log1p(-s)) / (2 * L)
        if L == 1:
            return w * w
        if L == 2:
            aw = np.abs(w)
            half = np.exp(2 * aw + np.log(a)) * -np.expm1(-4 * aw)  # 2α sinh(2|w|)
            return 0.25 * half * half
        s, _ = self._scaled(w)
        if L in _RATIONAL:
            return _rational_potential(L, s, a, (1 - s) * (1 + s))
        q = 2 / (L - 2)
        t = q * np.arctanh(s)
        bracket = np.expm1(-0.5 * q * np.log1p(-(s * s))) * np.cosh(t) + 2 * np.sinh(0.5 * t) ** 2
        return a**2 * bracket / L

    def link_and_potential(self, w: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(link(w), potential(w))`` together, sharing their common terms (depths 3 and 4):
        the two evaluations of every line-search trial of the limit solver."""
        w = np.asarray(w, dtype=np.float64)
        L = self.depth
        if self.nonnegative or L not in _RATIONAL:
            return self.link(w), self.potential(w)
        s, a = self._scaled(w)
        q = (1 - s) * (1 + s)
        return _rational_link(L, s, a, q), _rational_potential(L, s, a, q)

    def link_inverse(self, z: Any) -> np.ndarray:
        """w = h⁻¹(z) = g'(z); −∞ at z = 0 and NaN for z < 0 in the non-negative model (L ≥ 2)."""
        z = np.asarray(z, dtype=np.float64)
        L, a = self.depth, self._alpha_like(z)
        k = L * (L - 2)
        if self.nonnegative:
            if L == 1:
                return z - a
            with np.errstate(divide="ignore", invalid="ignore"):
                logz = np.where(z >= 0, np.log(np.where(z > 0, z, 1.0)), np.nan)
                logz = np.where(z == 0, -np.inf, logz)
                if L == 2:
                    return (logz - 2 * np.log(a)) / 4
                s = -np.expm1(-((L - 2) / L) * (logz - L * np.log(a)))
                return s / (k * a ** (L - 2))
        if L == 1:
            return 0.5 * z
        if L == 2:
            return np.arcsinh(z / (2 * a**2)) / 4
        s = _solve_scaled_link(np.abs(z) / a**L, L / (L - 2))
        return np.sign(z) * s / (k * a ** (L - 2))

    def regularizer(self, z: Any) -> np.ndarray:
        """g(z) = H*(z) ≥ 0, the implicit regularizer minimized by the flow's limit.

        +∞ for z < 0 in the non-negative model (L ≥ 2).
        """
        z = np.asarray(z, dtype=np.float64)
        L, a = self.depth, self._alpha_like(z)
        if self.nonnegative:
            if L == 1:
                return 0.5 * (z - a) ** 2
            pos = np.where(z > 0, z, 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                w = self.link_inverse(pos)
                val = pos * w - self.potential(w)
            at_zero = np.broadcast_to(a**2 / (2 * L), z.shape)
            return np.where(z > 0, val, np.where(z == 0, at_zero, np.inf))
        if L == 1:
            return 0.25 * z * z
        if L == 2:
            return 0.25 * (z * np.arcsinh(z / (2 * a**2)) - np.hypot(z, 2 * a**2) + 2 * a**2)
        w = self.link_inverse(z)
        return np.maximum(z * w - self.potential(w), 0.0)

    def primal_dual(self, z: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""For L ≥ 3: the scaled dual s = k α^{L−2} g'(z), its gap to the barrier and ds/dz.

        Returns ``(s, gap, slope)`` with ``gap = 1 − |s|`` (``1 − s`` in the non-negative model)
        computed to full *relative* precision from z, and ``slope = k α^{L−2} g''(z) > 0``.

        Notes
        -----
        Near the barrier :math:`1 - |s| \approx (\alpha^L/|z|)^{(L-2)/L}` is far below the
        resolution of s itself once :math:`\alpha^{L-2} \lesssim 10^{-8}`; solvers that need
        the limit there work with z and this gap instead of with the dual variable w
        (THEORY §5). The slope is evaluated in log-space, so it underflows to 0 rather than
        overflowing anywhere.

        Examples
        --------
        >>> import numpy as np
        >>> from sparseflow.models import Model
        >>> model = Model(depth=4, alpha=1e-8)
        >>> s, gap, slope = model.primal_dual(np.array([1.0, -2.0]))
        >>> bool(np.all(gap > 0) and np.all(gap < 1e-15))
        True
        """
        L = self.depth
        if L < 3:
            raise ValueError(f"primal_dual needs depth >= 3, got depth {L}")
        z = np.asarray(z, dtype=np.float64)
        a = self._alpha_like(z)
        p = L / (L - 2)
        log_scale = np.log(float(L * L)) + (2 * L - 2) * np.log(a)
        if self.nonnegative:
            if np.any(z <= 0):
                raise ValueError("primal_dual needs z > 0 in the non-negative model")
            gap = np.exp(-(np.log(z) - L * np.log(a)) / p)
            s = 1.0 - gap
            log_hprime = log_scale - (p + 1) * np.log(gap)
        else:
            s_abs, gap = _solve_scaled_link_both(np.abs(z) / a**L, p)
            s = np.sign(z) * s_abs
            ratio = gap / (2.0 - gap)
            log_hprime = log_scale - (p + 1) * np.log(gap) + np.log1p(ratio ** (p + 1))
        # h'(w) = dz/dw and ds/dw = k α^{L-2}, so ds/dz = k α^{L-2} / h'(w).
        log_slope = np.log(float(L * (L - 2))) + (L - 2) * np.log(a) - log_hprime
        with np.errstate(under="ignore"):
            slope = np.exp(np.minimum(log_slope, 700.0))
        return s, gap, slope


def _solve_scaled_link(zeta: np.ndarray, p: float) -> np.ndarray:
    """Solve φ(s) = (1−s)^{−p} − (1+s)^{−p} = ζ for s ∈ [0, 1), element-wise, ζ ≥ 0."""
    return _solve_scaled_link_both(zeta, p)[0]


def _solve_scaled_link_both(zeta: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Solve φ(s) = ζ as :func:`_solve_scaled_link`; return (s, d = 1 − s), each to full precision.

    Safeguarded Newton in the variable d = 1 − s, which keeps full relative precision near the
    barrier. Since 2^{−p} ≤ (1+s)^{−p} ≤ 1, the root satisfies (ζ+1)^{−1/p} ≤ d ≤ (ζ+2^{−p})^{−1/p}.
    """
    zeta = np.asarray(zeta, dtype=np.float64)
    lo = (zeta + 1.0) ** (-1.0 / p)
    hi = np.minimum((zeta + 2.0**-p) ** (-1.0 / p), 1.0)
    d = 0.5 * (lo + hi)
    # For small ζ the root is s ≈ ζ/(2p); it is refined below in s to keep its relative precision.
    small = zeta < 1e-3
    for _ in range(100):
        s = 1.0 - d
        f = np.exp(-p * np.log(d)) - np.exp(-p * np.log1p(s)) - zeta
        df = -p * (np.exp(-(p + 1) * np.log(d)) + np.exp(-(p + 1) * np.log1p(s)))  # dφ/dd
        lo = np.where(
            f > 0, np.maximum(lo, d), lo
        )  # φ decreases in d: φ(d) > ζ means d is too small
        hi = np.where(f < 0, np.minimum(hi, d), hi)
        newton = d - f / df
        inside = (newton > lo) & (newton < hi)
        d_new = np.where(inside, newton, 0.5 * (lo + hi))
        done = np.all(np.abs(d_new - d) <= 4 * np.finfo(float).eps * d)
        d = d_new
        if done:
            break
    s = 1.0 - d
    if np.any(small):
        zs = zeta[small]
        ss = zs / (2 * p)
        q = p + 1
        for _ in range(6):
            at = np.arctanh(ss)
            f = 2 * np.exp(-0.5 * p * np.log1p(-ss * ss)) * np.sinh(p * at) - zs
            df = 2 * p * np.exp(-0.5 * q * np.log1p(-ss * ss)) * np.cosh(q * at)
            ss = ss - f / df
        s = np.array(s, copy=True)
        s[small] = ss
        d = np.array(d, copy=True)
        d[small] = 1.0 - ss
    return s, d


# Function-style access, for users who prefer not to build a Model.
def link(w: Any, depth: int, alpha: Any, nonnegative: bool = False) -> np.ndarray:
    """h(w) for the model of the given depth and α; see :class:`Model`."""
    return Model(depth, alpha, nonnegative).link(w)


def link_derivative(w: Any, depth: int, alpha: Any, nonnegative: bool = False) -> np.ndarray:
    """h'(w); see :class:`Model`."""
    return Model(depth, alpha, nonnegative).link_derivative(w)


def link_inverse(z: Any, depth: int, alpha: Any, nonnegative: bool = False) -> np.ndarray:
    """h⁻¹(z) = g'(z); see :class:`Model`."""
    return Model(depth, alpha, nonnegative).link_inverse(z)


def potential(w: Any, depth: int, alpha: Any, nonnegative: bool = False) -> np.ndarray:
    """H(w), the dual potential; see :class:`Model`."""
    return Model(depth, alpha, nonnegative).potential(w)


def regularizer(z: Any, depth: int, alpha: Any, nonnegative: bool = False) -> np.ndarray:
    """g(z) = H*(z), the implicit regularizer; see :class:`Model`."""
    return Model(depth, alpha, nonnegative).regularizer(z)
