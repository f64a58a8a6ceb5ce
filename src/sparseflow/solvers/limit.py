r"""The limit of the gradient flow, computed directly by Newton's method on the dual."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as sla

from .._validation import check_alpha, check_depth, check_positive, check_positive_int
from ..models import Model
from ..operators import MeasurementOperator
from ..result import RecoveryResult, StopReason
from ._common import Timer, combine, prepare, residual_norm
from ._newton_cg import newton_cg_direction

__all__ = ["flow_limit"]

_ARMIJO = 1e-4
# Newton steps without halving the residual after which the solve is declared stalled.
_STALL_WINDOW = 30


def flow_limit(
    A: Any,
    y: Any,
    depth: int = 3,
    alpha: Any = 1e-3,
    *,
    nonnegative: bool = False,
    tol: float = 1e-10,
    max_iter: int = 500,
) -> RecoveryResult:
    r"""Limit :math:`x_\infty = \lim_{t\to\infty} x(t)` of the gradient flow on the factors.

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator, shape (m, N)
        Measurement operator.
    y : array_like, shape (m,) or (m, B)
        Measurements; B columns are B independent problems.
    depth : int, default 3
        Depth L ≥ 1 of the factorization x = u^L − v^L.
    alpha : float or array_like of shape (N,), default 1e-3
        Initial scale u(0) = v(0) = α.
    nonnegative : bool, default False
        Use the non-negative model x = u^L.
    tol : float, default 1e-10
        Stop when ‖A x − y‖₂ ≤ tol · ‖y‖₂.
    max_iter : int, default 500
        Bound on the number of Newton iterations.

    Returns
    -------
    RecoveryResult
        ``x`` is the limit; ``info["dual"]`` holds μ*.

    Notes
    -----
    Along the flow :math:`x(t) = h(A^\top\mu(t))` with :math:`\dot\mu = y - A\,h(A^\top\mu)`, which
    is gradient ascent on the concave dual :math:`D(\mu) = \langle y,\mu\rangle - \sum_i
    H((A^\top\mu)_i)` (see :mod:`sparseflow.models`). The limit is :math:`h(A^\top\mu^*)` with
    :math:`\mu^*` the maximizer of D, equivalently

    .. math:: x_\infty = \arg\min_{Az = y} \sum_i g_{\alpha,L}(z_i), \qquad g = H^*.

    Newton's method is applied to D with Hessian :math:`-A\,\mathrm{diag}(h'(A^\top\mu))A^\top`
    (an m×m Cholesky factorization for matrices, conjugate gradients for matrix-free operators),
    with a backtracking line search that keeps :math:`A^\top\mu` inside the domain of H.

    Examples
    --------
    >>> import numpy as np
    >>> import sparseflow
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((40, 100)) / np.sqrt(40)
    >>> x_true = np.zeros(100); x_true[[3, 50, 77]] = [1.0, -2.0, 0.5]
    >>> res = sparseflow.flow_limit(A, A @ x_true, depth=3, alpha=1e-3)
    >>> res.converged, bool(np.linalg.norm(res.x - x_true) < 1e-3)
    (True, True)
    """
    timer = Timer()
    op, y_arr = prepare(A, y)
    depth = check_depth(depth)
    alpha_v = check_alpha(alpha, op.shape[1])
    tol = check_positive(tol, "tol")
    max_iter = check_positive_int(max_iter, "max_iter")
    if y_arr.ndim == 2:
        results = [
            _solve_one(op, y_arr[:, j], depth, alpha_v, nonnegative, tol, max_iter)
            for j in range(y_arr.shape[1])
        ]
        return combine(results, "flow_limit", timer.elapsed())
    result = _solve_one(op, y_arr, depth, alpha_v, nonnegative, tol, max_iter)
    result.time = timer.elapsed()
    return result


def _solve_one(
    op: MeasurementOperator,
    y: np.ndarray,
    depth: int,
    alpha: float | np.ndarray,
    nonnegative: bool,
    tol: float,
    max_iter: int,
) -> RecoveryResult:
    timer = Timer()
    y_norm = float(np.linalg.norm(y))
    model = Model(depth, alpha, nonnegative)
    mu, x, status, n_iter, message = _newton(
        op, y, model, np.zeros(op.shape[0]), tol * max(y_norm, np.finfo(float).tiny), max_iter
    )
    res = residual_norm(op, x, y)
    converged = status is StopReason.CONVERGED
    if converged:
        message = f"converged: relative residual {res / max(y_norm, 1e-300):.2e} <= tol {tol:.1e}"
    elif status is StopReason.MAX_ITER:
        message = f"reached max_iter={max_iter} Newton iterations; {message}"
    return RecoveryResult(
        x=x,
        converged=converged,
        status=status,
        message=message,
        n_iter=n_iter,
        time=timer.elapsed(),
        method="flow_limit",
        residual_norm=res,
        info={"dual": mu},
    )


def _objective(model: Model, w: np.ndarray, mu: np.ndarray, y: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sum(model.potential(w)) - y @ mu)


def _newton_direction(op: MeasurementOperator, d: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Solve (A diag(d) Aᵀ) Δ = −r."""
    m = op.shape[0]
    if (op.is_matrix and op.kind == "dense") or (op.is_matrix and m <= 4000):
        A = op.toarray()
        B = A * np.sqrt(d)
        M = B @ B.T
        ridge = 0.0
        top = float(np.max(np.diag(M))) or 1.0
        for _ in range(8):
            try:
                factor = sla.cho_factor(M + ridge * np.eye(m), lower=True, check_finite=False)
                return -sla.cho_solve(factor, r, check_finite=False)
            except (np.linalg.LinAlgError, sla.LinAlgError):
                ridge = max(ridge * 100, top * 1e-15)
        return -np.linalg.lstsq(M, r, rcond=None)[0]
    return newton_cg_direction(op, d, r)


def _max_step(model: Model, w: np.ndarray, dw: np.ndarray) -> float:
    """Largest t with w + t·dw strictly inside the barrier (L ≥ 3); ∞ otherwise."""
    if model.depth < 3:
        return np.inf
    s, _ = model._scaled(w)
    ds, _ = model._scaled(dw)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(ds > 0, (1 - s) / ds, np.inf)
        down = np.where(ds < 0, (-1 - s) / ds, np.inf) if not model.nonnegative else np.inf
    return float(np.min(np.minimum(up, down)))


def _newton(
    op: MeasurementOperator,
    y: np.ndarray,
    model: Model,
    mu: np.ndarray,
    abs_tol: float,
    budget: int,
) -> tuple[np.ndarray, np.ndarray, StopReason, int, str]:
    eps = np.finfo(float).eps
    w = op.rmatvec(mu)
    x = model.link(w)
    r = op.matvec(x) - y
    f = _objective(model, w, mu, y)
    r_norm = float(np.linalg.norm(r))
    best, best_it = r_norm, 0
    for it in range(budget + 1):
        if r_norm <= abs_tol:
            return mu, x, StopReason.CONVERGED, it, "converged"
        if it == budget:
            break
        if r_norm < 0.5 * best:
            best, best_it = r_norm, it
        elif it - best_it >= _STALL_WINDOW:
            rel = r_norm / max(float(np.linalg.norm(y)), 1e-300)
            return (
                mu,
                x,
                StopReason.PRECISION,
                it,
                (
                    f"the residual stalled at relative {rel:.2e} for {_STALL_WINDOW} Newton steps: "
                    "float64 cannot resolve the dual variable near the barrier for this alpha and "
                    "depth (precision about eps / alpha^(L-2)); use a larger alpha or smaller depth"
                ),
            )
        delta = _newton_direction(op, model.link_derivative(w), r)
        dw = op.rmatvec(delta)
        slope = float(r @ delta)  # directional derivative of F = ΣH(Aᵀμ) − yᵀμ
        if not np.isfinite(slope) or slope >= 0:
            delta, dw, slope = -r, op.rmatvec(-r), -float(r @ r)
        t = min(1.0, 0.99 * _max_step(model, w, dw))
        accepted = False
        for _ in range(60):
            mu_new = mu + t * delta
            w_new = w + t * dw
            if model.in_domain(w_new):
                with np.errstate(over="ignore", invalid="ignore"):
                    f_new = _objective(model, w_new, mu_new, y)
                    x_new = model.link(w_new)
                    r_new = op.matvec(x_new) - y
                    r_new_norm = float(np.linalg.norm(r_new))
                armijo = f_new <= f + _ARMIJO * t * slope
                # Near the optimum F's decrease drops below its rounding error; then a step that
                # reduces the residual is accepted instead.
                flat = abs(t * slope) <= 1e3 * eps * (abs(f) + 1.0)
                if (
                    np.isfinite(f_new)
                    and np.isfinite(r_new_norm)
                    and (armijo or (flat and r_new_norm < r_norm))
                ):
                    accepted = True
                    break
            t *= 0.5
        if not accepted:
            s_max = float(np.max(np.abs(model._scaled(w)[0]))) if model.depth >= 3 else 0.0
            rel = r_norm / max(float(np.linalg.norm(y)), 1e-300)
            message = f"line search made no progress at relative residual {rel:.2e}: " + (
                "the dual is within float64 rounding of the barrier (max |s| = "
                f"{s_max:.17g}); use a larger alpha or a smaller depth for this precision"
                if model.depth >= 3 and 1 - s_max < 1e-6
                else "the tolerance is below what float64 resolves for this problem"
            )
            return mu, x, StopReason.PRECISION, it, message
        mu, w, x, r, f, r_norm = mu_new, w_new, x_new, r_new, f_new, r_new_norm
    rel = r_norm / max(float(np.linalg.norm(y)), 1e-300)
    return mu, x, StopReason.MAX_ITER, budget, f"relative residual {rel:.2e}"
