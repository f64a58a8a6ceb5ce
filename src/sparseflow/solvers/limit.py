r"""The limit of the gradient flow, computed directly by Newton's method on the dual."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import scipy.linalg as sla

from .._validation import (
    check_alpha,
    check_alpha_representable,
    check_depth,
    check_positive,
    check_positive_int,
)
from ..models import Model
from ..operators import MeasurementOperator
from ..result import RecoveryResult, StopReason
from ._common import Timer, prepare, residual_norm, solve_columns
from ._feasibility import infeasibility
from ._newton import NewtonSystem, weighted_gram

__all__ = ["flow_limit"]

_ARMIJO = 1e-4
# Largest change of the exponent 4w of the depth-2 link in one Newton step.
_EXP_STEP = 30.0
# Newton steps without progress after which the solve is declared stalled (and, for matrices,
# refined in mixed variables). Progress is the residual halving; for a "patient" solve (no
# refinement to fall back on: matrix-free operators) also the dual objective falling by a
# relative _STALL_DECREASE, since in the damped phase the residual may stay put for dozens of
# steps while the objective falls steadily (L ≥ 3 on compressible signals).
_STALL_WINDOW = 30
_STALL_DECREASE = 1e-6
# A patient solve still stops after this many steps without halving the residual: on data that
# cannot be fitted the dual objective falls without end.
_PATIENT_WINDOW = 150


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
        ``x`` is the limit; ``info["dual"]`` holds μ*; ``info["refined"]`` says whether the
        mixed primal–dual refinement (below) was used. ``INFEASIBLE`` when an independent check
        shows that no (non-negative) z satisfies Az = y; ``PRECISION`` when float64 cannot reach
        the tolerance, with the best answer found.

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

    For L ≥ 3 and small α the dual sits within :math:`\approx(\alpha^L/|x_i|)^{(L-2)/L}` of its
    barrier on the support, below float64's resolution of :math:`k\alpha^{L-2}w` once that gap
    is about 1e-9 or less. The solver then (or when the plain Newton stalls) solves the same
    optimality conditions with the near-barrier coordinates as primal unknowns :math:`z_i`,
    whose barrier gap is computed from :math:`z_i` to full relative precision
    (:meth:`Model.primal_dual`), starting from the dual solution at a larger α (continuation).
    This delivers the limit wherever float64 represents it (THEORY §5); as α → 0 it is the
    ℓ1 (basis pursuit) solution.

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
    check_alpha_representable(alpha_v, depth)
    tol = check_positive(tol, "tol")
    max_iter = check_positive_int(max_iter, "max_iter")
    # Candidate steps and the scaled link evaluate branches that overflow or divide by zero and
    # are then discarded; every returned status rests on a residual computed at the end.
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        return solve_columns(
            lambda col: _solve_one(op, col, depth, alpha_v, nonnegative, tol, max_iter),
            y_arr,
            "flow_limit",
            timer,
        )


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
    # Tolerances are relative to ‖y‖; for y = 0 (where the non-negative model's limit is the
    # projection of α^L·1 onto {z ≥ 0, Az = 0}) relative to the starting residual ‖A h(0)‖.
    ref = y_norm or float(np.linalg.norm(op.matvec(model.link(np.zeros(op.shape[1])))))
    abs_tol = tol * max(ref, np.finfo(float).tiny)
    small_enough = op.is_matrix or op.shape[0] * op.shape[1] <= _MATERIALIZE
    can_refine = depth >= 3 and small_enough and y_norm > 0
    mu, x = np.zeros(op.shape[0]), np.zeros(op.shape[1])
    status, n_iter, message = StopReason.MAX_ITER, 0, ""
    if not (can_refine and _log_barrier_closeness(op, y, alpha, depth) < np.log(_UNRESOLVABLE)):
        # Matrix-free at L ≥ 3, without the refinement to fall back on, a steadily falling
        # objective is progress too (the long damped phase of compressible signals).
        mu, x, status, n_iter, message = _newton(
            op, y, model, mu, abs_tol, max_iter, patient=not can_refine and depth >= 3
        )
    refined = False
    if status is not StopReason.CONVERGED and can_refine and n_iter < max_iter:
        # The dual cannot be resolved near the barrier: refine in mixed primal–dual variables.
        plain_newton_ran = n_iter > 0
        out = _refine(op, y, model, mu, x, abs_tol, max_iter - n_iter)
        if out is not None:
            n_iter += out[3]
            # keep the plain Newton answer when a failed refinement did not improve on it
            better = residual_norm(op, out[1], y) <= residual_norm(op, x, y)
            if out[2] is StopReason.CONVERGED or not plain_newton_ran or better:
                refined = True
                mu, x, status, _, message = out
    if status is not StopReason.CONVERGED:
        reason = infeasibility(op, y, nonnegative, tol)
        if reason is not None:
            status, message = StopReason.INFEASIBLE, reason + "; the last iterate is returned"
    res = residual_norm(op, x, y)
    converged = status is StopReason.CONVERGED
    if converged:
        how = " (refined in mixed primal-dual variables)" if refined else ""
        message = f"converged{how}: relative residual {res / max(ref, 1e-300):.2e} <= tol {tol:.1e}"
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
        info={"dual": mu, "refined": refined},
    )


def _objective(model: Model, w: np.ndarray, mu: np.ndarray, y: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sum(model.potential(w)) - y @ mu)


def _max_step(model: Model, w: np.ndarray, dw: np.ndarray) -> float:
    """Largest t with w + t·dw strictly inside the barrier (L ≥ 3).

    For L = 2 there is no barrier, but h grows like e^{4|w|}: a step may change the exponent by at
    most _EXP_STEP, so that a far-off first Newton step (h'(0) = 8α² is tiny) cannot overflow.
    """
    if model.depth == 2:
        top = float(np.max(np.abs(dw), initial=0.0))
        return _EXP_STEP / (4 * top) if top > 0 else np.inf
    if model.depth < 3:
        return np.inf
    s, _ = model._scaled(w)
    ds, _ = model._scaled(dw)
    # 1/t is the largest speed towards a barrier over the distance to it (1 − s up, 1 + s down)
    speed = float(np.max(ds / (1 - s), initial=0.0))
    if not model.nonnegative:
        speed = max(speed, float(np.max(-ds / (1 + s), initial=0.0)))
    return 1.0 / speed if speed > 0 else np.inf


def _newton(
    op: MeasurementOperator,
    y: np.ndarray,
    model: Model,
    mu: np.ndarray,
    abs_tol: float,
    budget: int,
    patient: bool = False,
) -> tuple[np.ndarray, np.ndarray, StopReason, int, str]:
    eps = np.finfo(float).eps
    # Matrix-free operators: the barrier of L ≥ 3 makes the Hessian weights so stiff that plain CG
    # takes thousands of iterations per direction; for L = 2 plain CG is cheaper than building
    # the preconditioner from columns of A.
    system = NewtonSystem(op, method="auto" if op.is_matrix or model.depth >= 3 else "cg")
    w = op.rmatvec(mu)
    x = model.link(w)
    r = op.matvec(x) - y
    f = _objective(model, w, mu, y)
    r_norm = float(np.linalg.norm(r))
    # relative to y, or to the starting residual when y = 0 (non-negative model)
    y_scale = max(float(np.linalg.norm(y)), r_norm, 1e-300)
    best, best_it, f_mark, halved_it = r_norm, 0, f, 0
    # the iterate with the smallest residual, returned if the solve does not converge
    kept = (r_norm, mu, x)
    hard_streak = 0  # consecutive directions on which CG needed _PCG_HARD iterations or more
    for it in range(budget + 1):
        if r_norm <= abs_tol:
            return mu, x, StopReason.CONVERGED, it, "converged"
        if r_norm < kept[0]:
            kept = (r_norm, mu, x)
        if it == budget:
            break
        if r_norm < 0.5 * best:
            best, best_it, f_mark, halved_it = r_norm, it, f, it
        elif (
            patient
            and f < f_mark - _STALL_DECREASE * abs(f_mark)
            and it - halved_it < _PATIENT_WINDOW
        ):
            best_it, f_mark = it, f
        elif _should_go_direct(system, op, it - best_it, hard_streak):
            # The preconditioned CG directions stopped paying off (e.g. a compressible signal
            # with a large "support"): exact directions from the m × m factorization instead.
            system = NewtonSystem(op, method="direct")
            best_it = it
        elif it - best_it >= _STALL_WINDOW:
            rel = kept[0] / y_scale
            why = (
                "the CG directions may be too inexact for this operator (the Hessian weights "
                "span too many orders of magnitude); pass A as a matrix if it fits in memory, "
                "or use a larger alpha"
                if not op.is_matrix
                else "float64 cannot resolve the dual variable near the barrier for this alpha "
                "and depth (precision about eps / alpha^(L-2)); use a larger alpha or smaller depth"
            )
            return (
                kept[1],
                kept[2],
                StopReason.PRECISION,
                it,
                f"the residual stalled for {it - best_it} Newton steps (best relative residual "
                f"{rel:.2e}): {why}",
            )
        cg_before = system.cg_iterations
        delta, dw = system.direction(model.link_derivative(w), r, r_norm / y_scale)
        hard_streak = hard_streak + 1 if system.cg_iterations - cg_before >= _PCG_HARD else 0
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
                    x_new, potential = model.link_and_potential(w_new)
                    f_new = float(np.sum(potential) - y @ mu_new)
                    r_new = op.matvec(x_new) - y
                    r_new_norm = math.sqrt(float(r_new @ r_new))
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
        if not accepted and _should_go_direct(system, op, _PCG_PATIENCE, _PCG_STREAK):
            system = NewtonSystem(op, method="direct")
            best_it = it
            continue
        if not accepted:
            s_max = float(np.max(np.abs(model._scaled(w)[0]))) if model.depth >= 3 else 0.0
            rel = r_norm / y_scale
            message = f"line search made no progress at relative residual {rel:.2e}: " + (
                "the dual is within float64 rounding of the barrier (max |s| = "
                f"{s_max:.17g}); use a larger alpha or a smaller depth for this precision"
                if model.depth >= 3 and 1 - s_max < 1e-6
                else "the tolerance is below what float64 resolves for this problem"
            )
            return mu, x, StopReason.PRECISION, it, message
        mu, w, x, r, f, r_norm = mu_new, w_new, x_new, r_new, f_new, r_new_norm
    rel = kept[0] / y_scale
    return kept[1], kept[2], StopReason.MAX_ITER, budget, f"best relative residual {rel:.2e}"


# Newton steps without halving the residual after which preconditioned CG, if it works hard,
# gives way to exact directions, when A is small enough (m at most _DIRECT_MAX_ROWS) to factor
# A diag(d) Aᵀ.
_PCG_PATIENCE = 6
# CG iterations per Newton direction that count as hard work, and how many such directions in a
# row show that the preconditioner is failing.
_PCG_HARD = 8
_PCG_STREAK = 3
_DIRECT_MAX_ROWS = 3000


def _should_go_direct(
    system: NewtonSystem, op: MeasurementOperator, stalled_for: int, hard_streak: int
) -> bool:
    """True when preconditioned CG keeps working hard (many iterations per direction) for no
    progress.

    Sparse signals stall too in the damped phase of Newton's method, but there the preconditioner
    (built on the few large Hessian weights) solves each system in one or two CG steps, with at
    most a single harder system as the phase ends; a compressible signal has too many large
    weights for it and CG needs many iterations on every direction.
    """
    return (
        system.method == "pcg"
        and op.is_matrix
        and stalled_for >= _PCG_PATIENCE
        and hard_streak >= _PCG_STREAK
        and op.shape[0] <= _DIRECT_MAX_ROWS
    )


# --- refinement in mixed primal–dual variables ---------------------------------------------------
# Coordinates whose scaled dual |s| is this close to the barrier are solved for in the primal.
_PRIMAL_GAP = 1e-2
# The continuation start solves the dual at an α whose barrier gap (see _log_barrier_closeness)
# is this large, where float64 resolves it.
_RESOLVABLE = 1e-6
# Matrix-free operators up to this many entries are materialized for the refinement.
_MATERIALIZE = 4_000_000
# Below this barrier gap the plain dual Newton stalls or crawls: go straight to the refinement.
_UNRESOLVABLE = 1e-6


def _refine(
    op: MeasurementOperator,
    y: np.ndarray,
    model: Model,
    mu: np.ndarray,
    x: np.ndarray,
    abs_tol: float,
    budget: int,
) -> tuple[np.ndarray, np.ndarray, StopReason, int, str] | None:
    r"""Solve the limit's optimality conditions with the near-barrier coordinates in the primal.

    For i in the primal set S the unknown is :math:`z_i` itself and the condition
    :math:`k\alpha_i^{L-2}(A^\top\mu)_i = s(z_i)` is imposed with the gap :math:`1-|s(z_i)|`
    computed from z to full relative precision (:meth:`Model.primal_dual`); the other
    coordinates stay :math:`z_i = h((A^\top\mu)_i)`. Together with :math:`Az = y` this is a
    square system in (μ, z_S), solved by Newton's method on the residual norm. Its Jacobian stays
    well conditioned as α → 0 (the ℓ1 limit) because near the barrier g'' → 0 only removes a
    regularizing term. The start is the dual solution at a larger α (continuation), where
    float64 still resolves the dual, rescaled to the target α.
    """
    L = model.depth
    A = op.toarray()
    alpha = model.alpha
    log_closeness = _log_barrier_closeness(op, y, alpha, L)
    used = 0
    if log_closeness < np.log(_RESOLVABLE):
        factor = float(np.exp((np.log(_RESOLVABLE) - log_closeness) / (L - 2)))
        start_model = Model(L, alpha * factor, model.nonnegative)
        mu0, x0, _, used, _ = _newton(op, y, start_model, np.zeros(op.shape[0]), abs_tol, budget)
        # The scaled dual k α^{L-2} Aᵀμ converges as α → 0; keep it, rescale μ.
        mu, x = mu0 * factor ** (L - 2), x0
    c = L * (L - 2) * np.broadcast_to(alpha, (A.shape[1],)) ** (L - 2)
    s = c * (A.T @ mu)
    gap = 1.0 - (s if model.nonnegative else np.abs(s))
    primal = gap < _PRIMAL_GAP
    if model.nonnegative:
        x = np.maximum(x, np.finfo(float).tiny)
    best: tuple[np.ndarray, np.ndarray, StopReason, int, str] | None = None
    for _ in range(4):
        out = _mixed_newton(A, y, model, c, primal, mu, x, abs_tol, budget - used)
        mu, x, status, n, message, near = out
        used += n
        best = (mu, x, status, used, message)
        if status is StopReason.CONVERGED or not np.any(near & ~primal) or used >= budget:
            break
        primal = primal | near
    return best


def _log_barrier_closeness(
    op: MeasurementOperator, y: np.ndarray, alpha: float | np.ndarray, depth: int
) -> float:
    r"""Log of the typical gap 1 − |s| on the support, :math:`(\alpha^L / X)^{(L-2)/L}`.

    X = ‖y‖₂ over the median column norm estimates the size of the large entries, so the test
    is invariant to scaling A or y. In logs because the gap itself underflows for tiny α.
    """
    col = op.column_norms()
    positive = col[col > 0]
    typical = float(np.median(positive)) if positive.size else 1.0
    size = max(float(np.linalg.norm(y)) / typical, np.finfo(float).tiny)
    top = float(np.max(alpha))
    return float((depth - 2) / depth * (depth * np.log(top) - np.log(size)))


def _submodel(model: Model, mask: np.ndarray) -> Model:
    a = model.alpha
    return Model(model.depth, a[mask] if isinstance(a, np.ndarray) else a, model.nonnegative)


def _mixed_newton(
    A: np.ndarray,
    y: np.ndarray,
    model: Model,
    c: np.ndarray,
    primal: np.ndarray,
    mu: np.ndarray,
    x: np.ndarray,
    abs_tol: float,
    budget: int,
) -> tuple[np.ndarray, np.ndarray, StopReason, int, str, np.ndarray]:
    eps = np.finfo(float).eps
    m = A.shape[0]
    dual = ~primal
    A_S, A_C = A[:, primal], A[:, dual]
    c_S, c_C = c[primal], c[dual]
    m_S, m_C = _submodel(model, primal), _submodel(model, dual)
    y_norm = float(np.linalg.norm(y))

    def evaluate(mu: np.ndarray, z_S: np.ndarray) -> dict[str, Any] | None:
        w_S, w_C = A_S.T @ mu, A_C.T @ mu
        if w_C.size and not m_C.in_domain(w_C):
            return None
        if model.nonnegative and np.any(z_S <= 0):
            return None
        with np.errstate(over="ignore", invalid="ignore"):
            x_C = m_C.link(w_C)
        s_S, gap_S, slope_S = m_S.primal_dual(z_S) if z_S.size else (z_S, z_S, z_S)
        sign = np.where(s_S >= 0, 1.0, -1.0)
        cw = c_S * w_S
        # Near the barrier s = sign·(1 − gap): subtract sign first so the gap keeps its digits.
        f2 = np.where(gap_S < 0.5, (cw - sign) + sign * gap_S, cw - s_S)
        f1 = A_S @ z_S + A_C @ x_C - y
        # What float64 can resolve of c·Aᵀμ: a few ulps of the terms summed.
        floor = 64 * eps * c_S * (np.abs(A_S).T @ np.abs(mu))
        if not (np.all(np.isfinite(f1)) and np.all(np.isfinite(f2))):
            return None
        # The part of the residual outside range(A_S) can only be balanced by the dual
        # coordinates, whose values are O(α^L): its rounding error (about eps·‖y‖) would send
        # them to the barrier. Only what exceeds that noise is kept.
        f1q = Q.T @ f1
        tail = f1q[rank:]
        noise = 256 * eps * (y_norm + float(np.linalg.norm(A_S @ z_S)))
        tail_norm = float(np.linalg.norm(tail))
        f1q[rank:] = tail * max(0.0, 1.0 - noise / tail_norm) if tail_norm > 0 else tail
        merit = float(f1q @ f1q) / max(y_norm, 1e-300) ** 2 + float(f2 @ f2)
        return {
            "w_C": w_C,
            "x_C": x_C,
            "slope": slope_S,
            "f1": f1,
            "f1q": f1q,
            "f2": f2,
            "floor": floor,
            "merit": merit,
            "noise": noise,
        }

    # In the basis of a QR factorization of A_S, the μ-directions that z_S balances (range A_S)
    # and those only the dual coordinates determine (its complement) separate; their scales
    # differ by about α^L, which a diagonal scaling of this basis can then absorb.
    rank = 0
    Q = np.eye(m)
    if np.any(primal):
        Q, R_S, _ = sla.qr(A_S, mode="full", pivoting=True)
        diag = np.abs(np.diag(R_S))
        rank = int(np.count_nonzero(diag > 1e-12 * diag.max())) if diag.size else 0
    QA_S, QA_C = Q.T @ A_S, Q.T @ A_C
    c_ref = float(np.max(c))
    z_S = x[primal].copy()
    cur = evaluate(mu, z_S)
    if cur is None:
        return mu, x, StopReason.PRECISION, 0, "the refinement could not start", primal
    status, message = StopReason.MAX_ITER, "the refinement reached its iteration budget"
    it = 0
    for it in range(budget + 1):
        f1_norm = float(np.linalg.norm(cur["f1"]))
        f2_ok = bool(np.all(np.abs(cur["f2"]) <= np.maximum(cur["floor"], 1e-11)))
        if f1_norm <= abs_tol and f2_ok:
            status, message = StopReason.CONVERGED, "converged"
            break
        if it == budget:
            break
        d_C = m_C.link_derivative(cur["w_C"])
        J = np.zeros((m + z_S.size, m + z_S.size))
        J[:m, :m] = weighted_gram(QA_C, d_C)
        J[:m, m:] = QA_S
        J[m:, :m] = c_S[:, None] * QA_S.T
        J[m:, m:] = -np.diag(cur["slope"])
        # Proximal damping of the μ-directions outside range(A_S): a move of one unit of the
        # scaled dual there costs as much as the residual's rounding noise. Where the dual
        # coordinates' values are far below that noise (α^L ≪ eps) float64 cannot determine these
        # directions, and the damping keeps them put instead of driving them to the barrier.
        J[rank:m, rank:m] += cur["noise"] * c_ref * np.eye(m - rank)
        step = _equilibrated_solve(J, -np.concatenate([cur["f1q"], cur["f2"]]))
        if step is None:
            status, message = StopReason.PRECISION, "the mixed Newton system is singular"
            break
        d_mu, d_z = Q @ step[:m], step[m:]
        t = 1.0
        if m_C.depth >= 3 and z_S.size < c.size:
            t = min(1.0, 0.99 * _max_step(m_C, cur["w_C"], A_C.T @ d_mu))
        if model.nonnegative and np.any(d_z < 0):
            t = min(t, 0.99 * float(np.min(-z_S[d_z < 0] / d_z[d_z < 0])))
        new = None
        for _ in range(60):
            trial = evaluate(mu + t * d_mu, z_S + t * d_z)
            if trial is not None and trial["merit"] < (1 - 1e-4 * t) * cur["merit"]:
                new = trial
                break
            t *= 0.5
        if new is None:
            rel = f1_norm / max(y_norm, 1e-300)
            worst = float(np.max(np.abs(cur["f2"]), initial=0.0))
            status = StopReason.PRECISION
            message = (
                f"no further progress at relative residual {rel:.2e} and dual stationarity "
                f"{worst:.1e}: float64 cannot resolve this alpha and depth more finely"
            )
            break
        mu, z_S, cur = mu + t * d_mu, z_S + t * d_z, new
    x = np.empty_like(x)
    x[primal], x[dual] = z_S, cur["x_C"]
    s_C = c_C * cur["w_C"]
    near = np.zeros(primal.shape, dtype=bool)
    near[dual] = 1.0 - (s_C if model.nonnegative else np.abs(s_C)) < _PRIMAL_GAP
    return mu, x, status, it, message, near


def _equilibrated_solve(J: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Solve J v = b after scaling rows and columns to unit max-norm (entries span many decades)."""
    with np.errstate(divide="ignore"):
        row = np.max(np.abs(J), axis=1)
        if np.any(row == 0) or not np.all(np.isfinite(row)):
            return None
        R = 1.0 / row
        col = np.max(np.abs(J * R[:, None]), axis=0)
        if np.any(col == 0):
            return None
        C = 1.0 / col
    M = (J * R[:, None]) * C
    rhs = b * R
    v = None
    try:
        with warnings.catch_warnings():
            # ill-conditioning is expected here and judged by the residual afterwards
            warnings.simplefilter("ignore", sla.LinAlgWarning)
            v = sla.solve(M, rhs, check_finite=False)
    except (np.linalg.LinAlgError, sla.LinAlgError):
        pass
    if v is None or np.linalg.norm(M @ v - rhs) > 1e-8 * np.linalg.norm(rhs):
        # Singular, e.g. duplicate columns both solved for in the primal: the minimum-norm
        # step treats the copies alike.
        v = np.linalg.lstsq(M, rhs, rcond=1e-13)[0]
    v = v * C
    return v if np.all(np.isfinite(v)) else None
