"""Independent references for the solvers, written from THEORY.md's formulas, not from the library.

Nothing here imports sparseflow's models or solvers: the flow limit is recomputed with a generic
scipy optimizer on a plainly written dual, basis pursuit with HiGHS, and least squares with SVD.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog, minimize


def min_norm_reference(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A⁺y by an SVD pseudo-inverse (the depth-1 limit)."""
    return np.linalg.pinv(A) @ y


def bp_reference(A: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(Weighted) basis pursuit min Σ wᵢ|zᵢ| s.t. Az = y by the HiGHS LP."""
    n = A.shape[1]
    w = np.ones(n) if weights is None else weights
    sol = linprog(
        np.concatenate([w, w]),
        A_eq=np.hstack([A, -A]),
        b_eq=y,
        bounds=(0, None),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    assert sol.status == 0, sol.message
    return sol.x[:n] - sol.x[n:]


def _naive_link(depth: int, alpha: float):
    """h, h' and H of THEORY §3 written literally (no rescaling, no log-space)."""
    L, a = depth, alpha
    if L == 2:
        return (
            lambda w: 2 * a**2 * np.sinh(4 * w),
            lambda w: 8 * a**2 * np.cosh(4 * w),
            lambda w: 0.5 * a**2 * (np.cosh(4 * w) - 1),
        )
    k, p, c0 = L * (L - 2), L / (L - 2), a ** (2 - L)
    q = 2 / (L - 2)
    return (
        lambda w: (c0 - k * w) ** (-p) - (c0 + k * w) ** (-p),
        lambda w: k * p * ((c0 - k * w) ** (-p - 1) + (c0 + k * w) ** (-p - 1)),
        lambda w: ((c0 - k * w) ** (-q) + (c0 + k * w) ** (-q) - 2 * a**2) / (2 * L),
    )


def limit_reference(A: np.ndarray, y: np.ndarray, depth: int, alpha: float) -> np.ndarray:
    """The flow limit h(Aᵀμ*) with μ* maximizing the dual, by scipy's trust-region Newton.

    Valid where the literal formulas are accurate: depth 2 for any α ≥ 1e-8 and depth ≥ 3 while
    α^{L−2} ≳ 1e-6 (beyond, use :func:`bp_reference` with the THEORY §4 bound).
    """
    if depth == 1:
        return min_norm_reference(A, y)
    h, dh, H = _naive_link(depth, alpha)
    barrier = np.inf if depth == 2 else alpha ** (2 - depth) / (depth * (depth - 2))
    # Work in the scaled variable λ = μ / barrier-scale so the optimizer sees O(1) numbers.
    scale = 1.0 if depth == 2 else barrier

    def inside(w: np.ndarray) -> bool:
        return bool(np.all(np.abs(w) < barrier))

    def f(lam: np.ndarray) -> float:
        w = A.T @ (scale * lam)
        if not inside(w):
            return np.inf
        with np.errstate(over="ignore"):
            return float(np.sum(H(w)) - y @ (scale * lam))

    # scipy evaluates derivatives at rejected trial points too; any finite value will do there
    def grad(lam: np.ndarray) -> np.ndarray:
        w = A.T @ (scale * lam)
        return scale * (A @ h(w) - y) if inside(w) else np.zeros_like(lam)

    def hess(lam: np.ndarray) -> np.ndarray:
        w = A.T @ (scale * lam)
        return scale**2 * (A * dh(w)) @ A.T if inside(w) else np.eye(lam.size)

    sol = minimize(
        f,
        np.zeros(A.shape[0]),
        jac=grad,
        hess=hess,
        method="trust-exact",
        options={"gtol": 1e-13 * max(1.0, scale * float(np.linalg.norm(y))), "maxiter": 5000},
    )
    return h(A.T @ (scale * sol.x))


def l1_gap_bound(depth: int, alpha: float, n: int, l1: float) -> float:
    """THEORY §4: ‖x∞‖₁ − min‖z‖₁ ≤ (L/2) α^{L−2} N^{1−2/L} ‖x∞‖₁^{2/L} (L ≥ 3)."""
    return 0.5 * depth * alpha ** (depth - 2) * n ** (1 - 2 / depth) * l1 ** (2 / depth)


def gaussian_instance(n: int = 200, m: int = 80, s: int = 8, seed: int = 0):
    """The acceptance grid's instance: A with N(0, 1/m) entries, s-sparse x* with N(0,1) values."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x = np.zeros(n)
    x[rng.choice(n, s, replace=False)] = rng.standard_normal(s)
    return A, x, A @ x


def judge_limit(
    A: np.ndarray, y: np.ndarray, depth: int, alpha: float, x: np.ndarray, converged: bool
) -> tuple[str, str]:
    """Classify a flow-limit answer: "ok", "honest" (not converged, finite), "nan" or "wrong".

    "ok" needs converged=True, a relative residual ≤ 1e-8 and agreement with an independent
    reference: the pseudo-inverse (L = 1); the literal dual maximized by scipy (L = 2, and L ≥ 3
    while α^{L−2} ≥ 1e-4; relative distance ≤ 1e-7); otherwise basis pursuit by HiGHS, where the
    ℓ1 gap must lie within THEORY §4's bound and the distance within ten times that bound
    (at least 1e-7 relative). "wrong" (converged but failing the check) must never happen.
    """
    if not np.all(np.isfinite(x)):
        return "nan", "non-finite entries"
    if not converged:
        return "honest", "not converged (reported)"
    rel_res = float(np.linalg.norm(A @ x - y) / np.linalg.norm(y))
    if rel_res > 1e-8:
        return "wrong", f"converged but residual {rel_res:.1e}"
    if depth <= 2 or alpha ** (depth - 2) >= 1e-4:
        ref = limit_reference(A, y, depth, alpha)
        dist = float(np.linalg.norm(x - ref) / np.linalg.norm(ref))
        ok = dist <= 1e-7
        what = "pinv" if depth == 1 else "scipy dual"
        return ("ok" if ok else "wrong"), f"vs {what}: {dist:.1e}"
    bp = bp_reference(A, y)
    l1_bp = float(np.sum(np.abs(bp)))
    l1 = float(np.sum(np.abs(x)))
    bound = l1_gap_bound(depth, alpha, A.shape[1], l1)
    gap = l1 - l1_bp
    dist = float(np.linalg.norm(x - bp) / np.linalg.norm(bp))
    slack = 1e-9 * l1_bp
    ok = -slack <= gap <= bound + slack and dist <= max(1e-7, 10 * bound / l1_bp)
    return (
        "ok" if ok else "wrong"
    ), f"vs BP: l1 gap {gap:.1e} (bound {bound:.1e}), dist {dist:.1e}"
