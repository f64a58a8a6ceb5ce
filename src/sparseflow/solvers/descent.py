r"""Vanilla gradient descent on the factors of the overparameterized model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.linalg import get_blas_funcs

from .._validation import (
    as_float_array,
    check_alpha,
    check_choice,
    check_depth,
    check_positive,
    check_positive_int,
)
from ..operators import MeasurementOperator
from ..result import RecoveryResult, StopReason
from . import _jit
from ._common import Timer, prepare
from ._feasibility import infeasibility

_daxpy, _ddot = get_blas_funcs(("axpy", "dot"), dtype=np.float64)

__all__ = ["auto_step", "gradient_descent"]

# The loss may grow this much over its starting value before the run is declared divergent.
_DIVERGENCE_FACTOR = 1e4
# How often step="auto" halves its step and restarts after a divergence.
_AUTO_RETRIES = 6
# Stagnation: over a window, the loss fell by less than this relative amount and no factor grew by
# more than this relative amount (shrinking factors are ignored: they decay slowly at a stationary
# point of the non-negative model).
_STAGNATION_RTOL = 1e-8
# The "adaptive" schedule never multiplies the step by more than this.
_SCHEDULE_CAP = 100.0
_INT64_MAX = 2**63 - 1


def auto_step(
    op: MeasurementOperator, y: np.ndarray, depth: int, alpha: float | np.ndarray = 0.0
) -> float:
    r"""A step size that keeps constant-step descent stable.

    Uses :math:`\eta = 1 / (2 L^2 \|A\|_2^2 M^{2-2/L})`, half the stability bound
    :math:`2/\lambda_{\max}` with :math:`\lambda_{\max} \le 2L^2\|A\|_2^2 M^{2-2/L}` for the
    loss Hessian in (u, v), where M over-estimates max|x_i| as 2‖y‖₂ over the median column norm,
    and is at least :math:`\max_i\alpha_i^L`, the size of the factors' start (which matters when
    y is tiny next to α). Computed in logarithms and kept within [tiny, 1e300], so that extreme
    scales of A or y give a representable step, not an overflow.
    """
    norm = op.norm()
    if norm == 0:
        return 1.0
    power = 2.0 - 2.0 / depth
    log_big = max(np.log(_magnitude_bound(op, y)), depth * np.log(float(np.max(alpha)) or 1e-300))
    if not np.isfinite(log_big) or log_big * power < np.log(np.finfo(float).tiny):
        log_big = 0.0  # y = 0 and no start to speak of: nothing moves, any finite step will do
    log_step = np.log(0.5) - 2 * np.log(depth) - 2 * np.log(norm) - power * log_big
    return float(np.exp(np.clip(log_step, np.log(np.finfo(float).tiny), np.log(1e300))))


def _magnitude_bound(op: MeasurementOperator, y: np.ndarray) -> float:
    """Over-estimate of max|x_i| for solutions of interest: 2‖y‖₂ over the median column norm."""
    col = op.column_norms() if op.has_cheap_column_norms else np.full(op.shape[1], op.norm() / 2)
    positive = col[col > 0]
    typical = float(np.median(positive)) if positive.size else 1.0
    y_norm = float(np.max(np.linalg.norm(y, axis=0)))
    return max(2.0 * y_norm / typical, np.finfo(float).tiny)


def _schedule_factor(x: np.ndarray, bound: np.ndarray, depth: int) -> np.ndarray | float:
    r"""Step multiplier of the "adaptive" schedule, one per problem (columns of x).

    The stability bound scales like :math:`\max_i|x_i|^{-(2-2/L)}`; the base step assumes
    max|x_i| = ``bound``, so while the iterate is still small (the plateau) the step can grow by
    :math:`(\text{bound}/\max_i|x_i|)^{2-2/L}`, capped at ``_SCHEDULE_CAP``.
    """
    power = 2.0 - 2.0 / depth
    if power == 0:
        return 1.0
    top = np.max(np.abs(x), axis=0)
    floor = bound * _SCHEDULE_CAP ** (-1.0 / power)
    return (bound / np.maximum(top, floor)) ** power


class _StagnationMonitor:
    """Flags problems whose loss and factors have stopped moving over a window of iterations."""

    def __init__(self, window: int | None) -> None:
        self.window = window
        self.loss: np.ndarray | None = None
        self.factors: np.ndarray | None = None

    def check(self, k: int, loss: np.ndarray, f: np.ndarray) -> np.ndarray:
        stalled = np.zeros(loss.shape, dtype=bool)
        if self.window is None or k % self.window:
            return stalled
        if self.loss is not None and self.factors is not None:
            no_descent = loss >= self.loss * (1 - _STAGNATION_RTOL)
            with np.errstate(divide="ignore", invalid="ignore"):
                growth = np.abs(f) / np.abs(self.factors) - 1.0
            growth = np.where(np.isfinite(growth), growth, 0.0)
            no_growth = growth.reshape(-1, loss.size).max(axis=0) <= _STAGNATION_RTOL
            stalled = no_descent & no_growth
        self.loss, self.factors = loss.copy(), np.abs(f).copy()
        return stalled

    def keep(self, mask: np.ndarray) -> None:
        if self.loss is not None and self.factors is not None:
            self.loss, self.factors = self.loss[mask], self.factors[..., mask]


def gradient_descent(
    A: Any,
    y: Any,
    depth: int = 2,
    alpha: Any = 1e-3,
    *,
    step: float | str = "auto",
    max_iter: int = 100_000,
    tol: float = 1e-6,
    nonnegative: bool = False,
    parametrization: str = "shared",
    init: Any = None,
    noise_level: float | None = None,
    discrepancy: float = 1.1,
    step_schedule: str = "constant",
    stagnation_window: int | None = 1000,
    callback: Callable[[int, np.ndarray], bool | None] | None = None,
    history: bool = False,
    engine: str = "auto",
) -> RecoveryResult:
    r"""Gradient descent on :math:`\tfrac12\|A(u^{\odot L} - v^{\odot L}) - y\|^2` from u = v = α.

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator, shape (m, N)
        Measurement operator.
    y : array_like, shape (m,) or (m, B)
        Measurements. With B columns, B problems are solved together, one matrix–matrix product
        per step; each problem stops on its own, so the result equals solving them one by one.
    depth : int, default 2
        Depth L ≥ 1.
    alpha : float or array_like of shape (N,), default 1e-3
        Initial scale of the factors.
    step : float or "auto", default "auto"
        Step size η. ``"auto"`` chooses a stable step from an operator-norm estimate and, should
        the run still diverge, halves it and starts again.
    max_iter : int, default 100000
        Bound on the number of iterations.
    tol : float, default 1e-6
        Stop a problem when ‖Ax − y‖₂ ≤ tol · ‖y‖₂.
    nonnegative : bool, default False
        Use the non-negative model x = u^L.
    parametrization : {"shared", "separate"}, default "shared"
        ``"shared"`` uses one vector per sign raised to the power L. ``"separate"`` runs the literal
        deep factorization x = w₁⊙…⊙w_L − w'₁⊙…⊙w'_L with one vector per factor. With identical
        initialization the factors stay equal and the iterates equal the shared form's with step
        η/L.
    init : array_like, optional
        Only for ``parametrization="separate"``: initial factors, shape (L,) or (L, N) (used for
        both products) or (2, L) or (2, L, N) (positive and negative product). Default: all α.
    noise_level : float, optional
        Standard deviation σ of the noise in y. When given, a problem stops as soon as
        ‖Ax − y‖₂ ≤ discrepancy · σ · √m (the discrepancy principle).
    discrepancy : float, default 1.1
        The factor τ of the discrepancy principle.
    step_schedule : {"constant", "adaptive"}, default "constant"
        ``"adaptive"`` multiplies the step at every iteration by
        :math:`(M/\max_i|x_i|)^{2-2/L}` (at most 100), where M is the magnitude bound the
        automatic step assumes: an increasing schedule that keeps the step within the stability
        bound at the current iterate and shortens the plateau while x is still small. The limit
        then moves by O(step) like any finite step.
    stagnation_window : int or None, default 1000
        Every this many iterations, a problem whose loss fell by less than a relative 1e-8 and
        none of whose factors grew by more than a relative 1e-8 is stopped with
        ``StopReason.STAGNATED`` (a stationary point that does not fit y, or a plateau far longer
        than the budget). None disables the check.
    callback : callable, optional
        Called as ``callback(k, x)`` after iteration k; returning True stops the run.
    history : bool, default False
        Record the loss of every problem at every iteration in ``result.history["loss"]``.
    engine : {"auto", "numpy", "numba"}, default "auto"
        Where the iterations run. ``"numba"`` compiles the loop (optional dependency:
        ``pip install "sparseflow[jit]"``) so that the element-wise work of a step is one pass
        between the two BLAS products; it applies to a dense float64 matrix (one problem, or a
        batch of columns of y: matrix–matrix products), shared factors, depth ≥ 2, and no
        callback, history or step schedule, and raises a ValueError otherwise. ``"auto"`` uses
        it where it applies and numba is installed, and the numpy loop elsewhere. The engines
        take the same steps and agree up to rounding; the first call compiles (about a second,
        then cached on disk).

    Returns
    -------
    RecoveryResult
        ``info["step"]`` is the step used, ``info["engine"]`` the engine that ran.

    Notes
    -----
    With :math:`r = A^\top(Ax - y)` the updates are

    .. math::

        u \leftarrow u - \eta L u^{L-1} \odot r, \qquad v \leftarrow v + \eta L v^{L-1}\odot r.

    As η → 0 the iterates follow the gradient flow, whose limit :func:`flow_limit` computes; a
    finite step moves the limit by O(η). Constant-step descent is stable roughly for
    η < 2 / (L² ‖A‖² max|x_i|^{2−2/L}).

    Examples
    --------
    >>> import numpy as np
    >>> import sparseflow
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((40, 100)) / np.sqrt(40)
    >>> x_true = np.zeros(100); x_true[[3, 50, 77]] = [1.0, -2.0, 0.5]
    >>> res = sparseflow.gradient_descent(A, A @ x_true, depth=2, alpha=1e-3, tol=1e-3)
    >>> res.converged, bool(np.linalg.norm(res.x - x_true) < 1e-2 * np.linalg.norm(x_true))
    (True, True)
    """
    timer = Timer()
    op, y_arr = prepare(A, y)
    depth = check_depth(depth)
    n = op.shape[1]
    alpha_v = check_alpha(alpha, n)
    max_iter = check_positive_int(max_iter, "max_iter")
    tol = check_positive(tol, "tol")
    check_choice(parametrization, "parametrization", ("shared", "separate"))
    if noise_level is not None:
        noise_level = check_positive(noise_level, "noise_level")
    discrepancy = check_positive(discrepancy, "discrepancy")
    check_choice(step_schedule, "step_schedule", ("constant", "adaptive"))
    if stagnation_window is not None:
        stagnation_window = check_positive_int(stagnation_window, "stagnation_window")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    if init is not None and parametrization != "separate":
        raise ValueError('init is only used with parametrization="separate"')
    factors = _initial_factors(init, alpha_v, depth, n, nonnegative, parametrization)
    check_choice(engine, "engine", ("auto", "numpy", "numba"))
    auto = isinstance(step, str)
    single = y_arr.ndim == 1
    Y = y_arr[:, None] if single else y_arr
    columns = range(Y.shape[1])
    # One step (and schedule bound) per problem, so that a batch equals its problems one by one.
    if auto:
        check_choice(step, "step", ("auto",))
        eta = np.array([auto_step(op, Y[:, [j]], depth, alpha_v) for j in columns])
        if parametrization == "separate":
            eta *= depth
    else:
        eta = np.full(Y.shape[1], check_positive(step, "step"))
    retries = 0
    schedule = (
        np.array([_magnitude_bound(op, Y[:, [j]]) for j in columns])
        if step_schedule == "adaptive" and depth > 1
        else None
    )
    blocker = _compiled_engine_blocker(op, parametrization, depth, callback, history, schedule)
    # a batch needs both loops: problems that diverge with the automatic step run again alone
    batched = Y.shape[1] > 1
    if engine == "numba":
        _jit.require()
        if blocker is not None:
            raise ValueError(f'engine="numba" does not apply to {blocker}; use engine="auto"')
        if not (_jit.usable() and _jit.usable(batched=batched)):
            _jit.require()  # raises, with the reason
    elif engine == "auto":
        usable = blocker is None and _jit.usable() and _jit.usable(batched=batched)
        engine = "numba" if usable else "numpy"
    B = Y.shape[1]
    x, res_norm = np.zeros((n, B)), np.zeros(B)
    status, n_iter = np.zeros(B, dtype=int), np.zeros(B, dtype=int)
    column_loss: list[np.ndarray] = [np.empty(0)] * B
    # With step="auto" only the problems that diverged run again, with half their step, so that
    # a batch still equals its problems one by one (a callback sees the whole batch: then all
    # problems run again).
    pending = np.arange(B)
    while True:
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            out = _run(
                op,
                Y[:, pending],
                depth,
                factors,
                eta[pending],
                max_iter,
                tol,
                nonnegative,
                parametrization,
                noise_level,
                discrepancy,
                callback,
                history,
                single,
                None if schedule is None else schedule[pending],
                stagnation_window,
                engine,
            )
        x[:, pending], res_norm[pending] = out["x"], out["res_norm"]
        status[pending], n_iter[pending] = out["status"], out["n_iter"]
        if history:
            rows = np.array(out["loss"]).reshape(len(out["loss"]), pending.size)
            for j, column in enumerate(pending):
                column_loss[column] = rows[:, j]
        diverged = np.asarray(out["diverged"], dtype=bool)
        if not (auto and diverged.any() and retries < _AUTO_RETRIES):
            break
        retries += 1
        if callback is None:
            pending = pending[diverged]
        eta[pending] *= 0.5
    infeasible = _confirm_infeasible(op, Y, status, nonnegative, tol)
    converged = bool(np.all(status == StopReason.CONVERGED))
    worst = StopReason(int(status.max()))
    message = _message(
        worst, status, n_iter, max_iter, float(np.max(eta)), res_norm, Y, noise_level, discrepancy
    )
    if infeasible:
        message = f"{message}; {infeasible}"
    info: dict[str, Any] = {
        "step": float(eta[0]) if single else eta.tolist(),
        "auto_step_halvings": retries,
        "engine": engine,
    }
    if not single:
        info["status"] = [StopReason(int(s)) for s in status]
        info["n_iter"] = n_iter.tolist()
    hist = None
    if history:
        loss = np.full((max(c.size for c in column_loss), B), np.nan)
        for j, values in enumerate(column_loss):
            loss[: values.size, j] = values
        hist = {"loss": loss[:, 0] if single else loss}
    return RecoveryResult(
        x=x[:, 0] if single else x,
        converged=converged,
        status=StopReason.CONVERGED if converged else worst,
        message=message,
        n_iter=int(n_iter.max()),
        time=timer.elapsed(),
        method="gradient_descent",
        residual_norm=float(res_norm[0]) if single else res_norm,
        history=hist,
        info=info,
    )


def _confirm_infeasible(
    op: MeasurementOperator, Y: np.ndarray, status: np.ndarray, nonnegative: bool, tol: float
) -> str:
    """Turn STAGNATED into INFEASIBLE (in place) where an independent check shows y can't be fit."""
    reasons = []
    for j in np.flatnonzero(status == StopReason.STAGNATED):
        reason = infeasibility(op, Y[:, j], nonnegative, tol)
        if reason is not None:
            status[j] = StopReason.INFEASIBLE
            reasons.append(reason)
    return reasons[0] if reasons else ""


def _initial_factors(
    init: Any,
    alpha: float | np.ndarray,
    depth: int,
    n: int,
    nonnegative: bool,
    parametrization: str,
) -> np.ndarray:
    """Initial factors, shape (signs, L_factors, N): signs = 1 (non-negative) or 2."""
    signs = 1 if nonnegative else 2
    base = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (n,))
    if parametrization == "shared":
        return np.broadcast_to(base, (signs, 1, n)).copy()
    if init is None:
        return np.broadcast_to(base, (signs, depth, n)).copy()
    arr = as_float_array(init, "init", ndim=(1, 2, 3))
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim == 2 and arr.shape[0] == depth:
        arr = np.broadcast_to(arr, (signs, depth, arr.shape[1]))
    elif arr.ndim == 2 and arr.shape == (2, depth):
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[1] != depth or arr.shape[2] not in (1, n):
        raise ValueError(
            f"init must have shape (L,), (L, N), (2, L) or (2, L, N) with L={depth}, N={n}; got "
            f"{np.shape(init)}"
        )
    if arr.shape[0] != signs:
        arr = np.broadcast_to(arr[:1], (signs, depth, arr.shape[2])) if arr.shape[0] == 1 else arr
        if arr.shape[0] != signs:
            raise ValueError(
                f"init for the non-negative model takes one product, got {arr.shape[0]}"
            )
    return np.broadcast_to(arr, (signs, depth, n)).copy()


def _products(f: np.ndarray, depth: int, shared: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return (product of all factors, gradient weight ∂product/∂factor) per sign.

    Shared: product u^L, weight L u^{L−1} (shape (signs, N, B)). Separate: product Π w_k, weights
    Π_{j≠k} w_j (shape (signs, L, N, B)).
    """
    if shared:
        u = f[:, 0]
        if depth == 1:
            return u, np.ones_like(u)
        u_pow = u ** (depth - 1) if depth > 2 else u
        return u_pow * u, depth * u_pow
    # prefix/suffix products avoid dividing by factors that may be zero
    prefix = np.ones_like(f)
    suffix = np.ones_like(f)
    for k in range(1, depth):
        prefix[:, k] = prefix[:, k - 1] * f[:, k - 1]
        suffix[:, depth - 1 - k] = suffix[:, depth - k] * f[:, depth - k]
    return prefix[:, -1] * f[:, -1], prefix * suffix


def _run(
    op: MeasurementOperator,
    Y: np.ndarray,
    depth: int,
    factors0: np.ndarray,
    eta: np.ndarray,
    max_iter: int,
    tol: float,
    nonnegative: bool,
    parametrization: str,
    noise_level: float | None,
    discrepancy: float,
    callback: Callable[[int, np.ndarray], bool | None] | None,
    history: bool,
    single: bool,
    schedule: np.ndarray | None = None,
    stagnation_window: int | None = None,
    engine: str = "numpy",
) -> dict[str, Any]:
    if parametrization == "shared" and depth >= 2:
        if engine == "numba" and Y.shape[1] == 1:
            return _run_single_compiled(
                op,
                Y,
                depth,
                factors0[:, 0],
                eta,
                max_iter,
                tol,
                noise_level,
                discrepancy,
                stagnation_window,
            )
        if Y.shape[1] == 1:
            return _run_single(
                op,
                Y,
                depth,
                factors0[:, 0],
                eta,
                max_iter,
                tol,
                noise_level,
                discrepancy,
                callback,
                history,
                single,
                schedule,
                stagnation_window,
            )
        return _run_batched(
            op,
            Y,
            depth,
            factors0[:, 0],
            eta,
            max_iter,
            tol,
            noise_level,
            discrepancy,
            callback,
            history,
            single,
            schedule,
            stagnation_window,
            compiled=engine == "numba",
        )
    m, B = Y.shape
    shared = parametrization == "shared"
    # f holds the factors of the still-active problems only: (signs, L_factors, N, B_active).
    # The second sign enters with a minus. Finished problems are dropped, so no step indexes.
    f = np.repeat(factors0[..., None], B, axis=-1)
    sign = np.array([1.0, -1.0])[: f.shape[0]].reshape(-1, 1, 1, 1)
    y_norm = np.linalg.norm(Y, axis=0)
    target = tol * y_norm
    if noise_level is not None:
        target = np.maximum(target, discrepancy * noise_level * np.sqrt(m))
    status = np.full(B, int(StopReason.MAX_ITER))
    n_iter = np.full(B, max_iter)
    active = np.arange(B)
    Ya, target_a, limit_a = Y, target, _DIVERGENCE_FACTOR * np.maximum(0.5 * y_norm**2, 1e-300)
    x_out = np.zeros((op.shape[1], B))
    res_out = np.zeros(B)
    losses: list[np.ndarray] = []
    x_prev = np.zeros((op.shape[1], B))
    monitor = _StagnationMonitor(stagnation_window)
    eta_a, bound_a = eta, schedule  # per active problem
    k = 0
    while True:
        prod, weight = _products(f, depth, shared)
        x = prod[0] - prod[1] if prod.shape[0] == 2 else prod[0]
        resid = op.matvec(x) - Ya
        rn = np.linalg.norm(resid, axis=0)
        if history:
            row = np.full(B, np.nan)
            row[active] = 0.5 * rn**2
            losses.append(row)
        bad = ~np.isfinite(rn) | (0.5 * rn**2 > limit_a)
        done = rn <= target_a
        reason = np.full(active.size, int(StopReason.MAX_ITER))
        stalled = monitor.check(k, 0.5 * rn**2, f) & ~done & ~bad
        reason[stalled] = StopReason.STAGNATED
        reason[done] = StopReason.CONVERGED
        reason[bad] = StopReason.DIVERGED
        stop_now = done | bad | stalled
        if k >= max_iter:
            stop_now[:] = True
        elif callback is not None and not stop_now.all():
            x_full = x_out.copy()
            x_full[:, active] = x
            if callback(k, x_full[:, 0] if single else x_full):
                reason[~stop_now] = StopReason.CALLBACK
                stop_now[:] = True
        if stop_now.any():
            idx = active[stop_now]
            # a divergent problem reports its last finite iterate, never NaN
            x_out[:, idx] = np.where(bad[stop_now], x_prev[:, stop_now], x[:, stop_now])
            res_out[idx] = np.where(bad[stop_now], np.nan, rn[stop_now])
            status[idx] = reason[stop_now]
            n_iter[idx] = k
            keep = ~stop_now
            active = active[keep]
            if active.size == 0:
                break
            f, x, resid, weight = f[..., keep], x[:, keep], resid[:, keep], weight[..., keep]
            monitor.keep(keep)
            eta_a = eta_a[keep]
            bound_a = None if bound_a is None else bound_a[keep]
            Ya, target_a, limit_a = Ya[:, keep], target_a[keep], limit_a[keep]
        x_prev = x
        grad = op.rmatvec(resid)
        eta_k = eta_a if bound_a is None else eta_a * _schedule_factor(x, bound_a, depth)
        if shared:
            f[:, 0] -= eta_k * sign[:, 0] * weight * grad
        else:
            f -= eta_k * sign * weight * grad
        k += 1
    # recompute residuals of diverged problems from the reported iterate
    nan = ~np.isfinite(res_out)
    if nan.any():
        res_out[nan] = np.linalg.norm(op.matvec(x_out[:, nan]) - Y[:, nan], axis=0)
    return {
        "x": x_out,
        "status": status,
        "n_iter": n_iter,
        "res_norm": res_out,
        "loss": losses,
        "diverged": status == StopReason.DIVERGED,
    }


def _message(
    worst: StopReason,
    status: np.ndarray,
    n_iter: np.ndarray,
    max_iter: int,
    eta: float,
    res_norm: np.ndarray,
    Y: np.ndarray,
    noise_level: float | None,
    discrepancy: float,
) -> str:
    rel = float(np.max(res_norm / np.maximum(np.linalg.norm(Y, axis=0), 1e-300)))
    prefix = (
        f"{int(np.sum(status == 0))}/{status.size} problems converged; " if status.size > 1 else ""
    )
    if worst == StopReason.CONVERGED:
        rule = (
            f"discrepancy principle ‖Ax−y‖ <= {discrepancy}·σ·√m"
            if noise_level is not None
            else "relative residual below tol"
        )
        return f"{prefix}converged ({rule}) after {int(n_iter.max())} iterations"
    if worst == StopReason.DIVERGED:
        return (
            f"{prefix}diverged with step {eta:.3g}: the loss grew by more than "
            f"{_DIVERGENCE_FACTOR:g}x or became non-finite; use a smaller step (the last finite "
            "iterate is returned)"
        )
    if worst == StopReason.CALLBACK:
        return f"{prefix}stopped by the callback"
    if worst == StopReason.INFEASIBLE:
        return f"{prefix}stopped at relative residual {rel:.2e}"
    if worst == StopReason.STAGNATED:
        return (
            f"{prefix}stagnated at relative residual {rel:.2e}: neither the loss nor any factor "
            "moved over the stagnation window. Near the start this is the saddle plateau of "
            "a small alpha and a deep model (escape takes about alpha^(2-L) steps): use a "
            "larger alpha, a smaller depth, step_schedule='adaptive' or flow_limit; later it "
            "is a stationary point that does not fit y (inconsistent data, or no non-negative "
            "solution)"
        )
    return (
        f"{prefix}reached max_iter={max_iter} with relative residual {rel:.2e}; small alpha and "
        "deep models need many iterations (see flow_limit for the limit itself)"
    )


# --- fast loops for the shared parametrization (depth ≥ 2) -------------------------------------
# Every buffer is allocated once (again only when finished problems leave a batch); each step is a
# fixed sequence of in-place calls around the two BLAS products. At small sizes the cost of a call
# (not of the arithmetic) dominates, hence the BLAS level-1 routines for r −= y, ‖r‖² and the
# factor update: through scipy's wrappers they cost a third of a numpy ufunc call.


class _SharedFactors:
    r"""State, buffers and in-place arithmetic of shared-factor descent, depth L ≥ 2.

    Holds u (and v) for one problem (arrays of shape (N,)) or a batch (shape (N, B)). The caller
    writes :math:`A^\top r` into ``grad`` and then calls ``update(a)`` with a = ηL.

    u and v are kept as they are, never in a rotated form such as s = u ± v: from a small α the
    smaller of the two (α²/u on a learned entry) would fall below the rounding error of the
    larger, and an entry that later changes sign would grow back from rounding noise.
    """

    def __init__(self, factors0: np.ndarray, depth: int, batch: int | None) -> None:
        self.depth = depth
        self.signed = factors0.shape[0] == 2
        start = factors0 if batch is None else np.repeat(factors0[:, :, None], batch, axis=2)
        self._allocate(start)

    def _allocate(self, state: np.ndarray) -> None:
        self.state = np.array(state, dtype=float, order="C")
        shape = self.state.shape
        self.size = self.state[0].size
        self.grad = np.empty(shape[1:])
        self.work = np.empty(shape)
        self.power = np.empty(shape) if self.depth > 2 else None
        # flat views for the BLAS calls, which take vectors
        self._rows = [row.reshape(-1) for row in self.state]
        self._work_rows = [row.reshape(-1) for row in self.work]

    def keep(self, mask: np.ndarray) -> None:
        """Drop the problems (columns) where mask is False."""
        self._allocate(self.state[..., mask])

    def factors(self) -> np.ndarray:
        """u (and v) as an array of shape (signs, N[, B])."""
        return self.state

    def signal(self, out: np.ndarray) -> None:
        """out = u^L − v^L (or u^L); keeps u^(L−1) for ``update``."""
        state, work, multiply = self.state, self.work, np.multiply
        if self.depth == 2:
            if not self.signed:
                multiply(state[0], state[0], out)
                return
            multiply(state, state, work)
        else:
            power = self.power
            assert power is not None
            if self.depth == 3:
                multiply(state, state, power)
            else:
                np.power(state, self.depth - 1, power)
            multiply(power, state, work)
        if self.signed:
            np.subtract(work[0], work[1], out)
        else:
            np.copyto(out, work[0])

    def update(self, a: float) -> None:
        """One step with gradient ``grad`` = Aᵀr and scaled step a = ηL (after ``signal``)."""
        grad, work, multiply, size = self.grad, self.work, np.multiply, self.size
        weight = self.state if self.depth == 2 else self.power
        assert weight is not None
        multiply(weight[0], grad, work[0])
        _daxpy(self._work_rows[0], self._rows[0], size, -a)
        if self.signed:
            multiply(weight[1], grad, work[1])
            _daxpy(self._work_rows[1], self._rows[1], size, a)


def _stop_target(
    y_norm: np.ndarray, m: int, tol: float, noise_level: float | None, discrepancy: float
) -> np.ndarray:
    target = tol * y_norm
    if noise_level is not None:
        target = np.maximum(target, discrepancy * noise_level * np.sqrt(m))
    return target


def _run_single(
    op: MeasurementOperator,
    Y: np.ndarray,
    depth: int,
    factors0: np.ndarray,
    eta: np.ndarray,
    max_iter: int,
    tol: float,
    noise_level: float | None,
    discrepancy: float,
    callback: Callable[[int, np.ndarray], bool | None] | None,
    history: bool,
    single: bool,
    schedule: np.ndarray | None,
    stagnation_window: int | None,
) -> dict[str, Any]:
    """One problem, shared factors: the loop of :func:`_run` on vectors, with scalar checks."""
    m, n = op.shape
    y = np.array(Y[:, 0], dtype=float, order="C")
    factors = _SharedFactors(factors0, depth, None)
    y_norm = float(np.linalg.norm(y))
    target = float(_stop_target(np.array([y_norm]), m, tol, noise_level, discrepancy)[0])
    limit = _DIVERGENCE_FACTOR * max(0.5 * y_norm**2, 1e-300)
    dense = op.toarray() if op.kind == "dense" else None
    # bound methods: no dispatch through numpy's array-function protocol on every call
    forward = dense.dot if dense is not None else None
    backward = dense.T.dot if dense is not None else None
    grad = factors.grad
    x, x_prev = np.empty(n), np.zeros(n)
    r = np.empty(m)
    scale = float(eta[0]) * depth
    step_k = scale
    losses: list[float] = []
    status, k = StopReason.MAX_ITER, 0
    target2 = target * target
    window = stagnation_window
    monitor = _StagnationMonitor(window)
    signal, update, daxpy, ddot = factors.signal, factors.update, _daxpy, _ddot
    while True:
        signal(x)
        if forward is not None:
            forward(x, r)
        else:
            r[:] = op.matvec(x)
        daxpy(y, r, m, -1.0)
        rn2 = ddot(r, r)
        if history:
            losses.append(0.5 * rn2)
        if not 0.5 * rn2 <= limit:  # also catches NaN
            status, x = StopReason.DIVERGED, x_prev
            break
        if rn2 <= target2:
            status = StopReason.CONVERGED
            break
        if window is not None and k % window == 0:
            if monitor.check(k, np.array([0.5 * rn2]), factors.factors())[0]:
                status = StopReason.STAGNATED
                break
        if k >= max_iter:
            break
        if callback is not None:
            current = x.copy()
            if callback(k, current if single else current[:, None]):
                status = StopReason.CALLBACK
                break
        if schedule is not None:
            step_k = scale * float(np.asarray(_schedule_factor(x[:, None], schedule, depth))[0])
        x, x_prev = x_prev, x
        if backward is not None:
            backward(r, grad)
        else:
            grad[:] = op.rmatvec(r)
        update(step_k)
        k += 1
    res = float(np.linalg.norm(op.matvec(x) - y)) if status is StopReason.DIVERGED else rn2**0.5
    return {
        "x": x[:, None],
        "status": np.array([int(status)]),
        "n_iter": np.array([k]),
        "res_norm": np.array([res]),
        "loss": [np.array([v]) for v in losses],
        "diverged": np.array([status is StopReason.DIVERGED]),
    }


def _run_batched(
    op: MeasurementOperator,
    Y: np.ndarray,
    depth: int,
    factors0: np.ndarray,
    eta: np.ndarray,
    max_iter: int,
    tol: float,
    noise_level: float | None,
    discrepancy: float,
    callback: Callable[[int, np.ndarray], bool | None] | None,
    history: bool,
    single: bool,
    schedule: np.ndarray | None,
    stagnation_window: int | None,
    compiled: bool = False,
) -> dict[str, Any]:
    """B problems sharing A, shared factors: one matrix–matrix product each way per step.

    With ``compiled``, the iterations where no problem stops and no check is due run in the
    numba loop (:func:`sparseflow.solvers._jit.batched_descent_segment`); the stops, the
    stagnation checks and the step after them are the code below, shared by both engines.
    """
    m, B = Y.shape
    n = op.shape[1]
    factors = _SharedFactors(factors0, depth, B)  # the still-active problems only
    y_norm = np.linalg.norm(Y, axis=0)
    target = _stop_target(y_norm, m, tol, noise_level, discrepancy)
    status = np.full(B, int(StopReason.MAX_ITER))
    n_iter = np.full(B, max_iter)
    active = np.arange(B)
    Ya = np.array(Y, dtype=float, order="C")
    # squared norms are compared, so that the common step takes no square root
    target2_a = target**2
    limit2_a = 2.0 * _DIVERGENCE_FACTOR * np.maximum(0.5 * y_norm**2, 1e-300)
    x_out = np.zeros((n, B))
    res_out = np.zeros(B)
    losses: list[np.ndarray] = []
    dense = op.toarray() if op.kind == "dense" else None
    scale_a, bound_a = eta * depth, schedule  # per active problem
    uniform = bool(np.all(scale_a == scale_a[0]))
    monitor = _StagnationMonitor(stagnation_window)
    x, x_prev = np.empty((n, B)), np.zeros((n, B))
    r = np.empty((m, B))
    segment = _jit.batched_descent_segment() if compiled else None
    k = 0
    while True:
        if segment is not None:
            assert dense is not None
            window = monitor.window
            # run to the next stagnation check (or max_iter), unless a problem stops before
            k1 = max_iter if window is None else min(max_iter, -(-k // window) * window)
            rn2 = np.empty(active.size)
            power = factors.power if factors.power is not None else factors.work
            k, _ = segment(
                dense,
                dense.T,
                Ya,
                factors.state,
                power,
                depth,
                scale_a,
                k,
                min(k1, _INT64_MAX),
                target2_a,
                limit2_a,
                x,
                x_prev,
                r,
                factors.grad,
                rn2,
            )
        else:
            factors.signal(x)
            if dense is not None:
                dense.dot(x, r)
            else:
                r[...] = op.matvec(x)
            r -= Ya
            rn2 = np.einsum("ij,ij->j", r, r)
        if history:
            row = np.full(B, np.nan)
            row[active] = 0.5 * rn2
            losses.append(row)
        fine = rn2 <= limit2_a  # also False for NaN
        done = rn2 <= target2_a
        checkpoint = monitor.window is not None and k % monitor.window == 0
        if not (checkpoint or k >= max_iter or callback is not None or compiled) and fine.all():
            if not done.any():  # the common case: nothing to check, nobody leaves
                x, x_prev = x_prev, x
                _batched_step(factors, dense, op, r, scale_a, uniform, bound_a, x_prev, depth)
                k += 1
                continue
        rn = np.sqrt(rn2)
        bad = ~fine
        stop_now = done | bad
        if checkpoint:
            stalled = monitor.check(k, 0.5 * rn2, factors.factors()) & ~stop_now
            stop_now |= stalled
        else:
            stalled = np.zeros_like(done)
        if k >= max_iter:
            stop_now[:] = True
        elif callback is not None and not stop_now.all():
            x_full = x_out.copy()
            x_full[:, active] = x
            if callback(k, x_full[:, 0] if single else x_full):
                status[active[~stop_now]] = StopReason.CALLBACK
                stop_now[:] = True
        if stop_now.any():
            idx = active[stop_now]
            reason = np.where(
                bad[stop_now],
                int(StopReason.DIVERGED),
                np.where(
                    done[stop_now],
                    int(StopReason.CONVERGED),
                    np.where(stalled[stop_now], int(StopReason.STAGNATED), status[idx]),
                ),
            )
            # a divergent problem reports its last finite iterate, never NaN
            x_out[:, idx] = np.where(bad[stop_now], x_prev[:, stop_now], x[:, stop_now])
            res_out[idx] = np.where(bad[stop_now], np.nan, rn[stop_now])
            status[idx] = reason
            n_iter[idx] = k
            keep = ~stop_now
            active = active[keep]
            if active.size == 0:
                break
            factors.keep(keep)
            monitor.keep(keep)
            scale_a = scale_a[keep]
            uniform = bool(np.all(scale_a == scale_a[0]))
            bound_a = None if bound_a is None else bound_a[keep]
            x_now, r = np.ascontiguousarray(x[:, keep]), np.ascontiguousarray(r[:, keep])
            Ya = np.ascontiguousarray(Ya[:, keep])
            target2_a, limit2_a = target2_a[keep], limit2_a[keep]
            x, x_prev = np.empty((n, active.size)), x_now
            if depth > 2 or compiled:  # the new buffers need u^(L−1) for the step below
                factors.signal(x)  # (and the compiled loop the current x in x)
        elif not compiled:  # the compiled loop copies x into x_prev itself
            x, x_prev = x_prev, x
        _batched_step(
            factors, dense, op, r, scale_a, uniform, bound_a, x if compiled else x_prev, depth
        )
        k += 1
    nan = ~np.isfinite(res_out)
    if nan.any():
        res_out[nan] = np.linalg.norm(op.matvec(x_out[:, nan]) - Y[:, nan], axis=0)
    return {
        "x": x_out,
        "status": status,
        "n_iter": n_iter,
        "res_norm": res_out,
        "loss": losses,
        "diverged": status == StopReason.DIVERGED,
    }


def _batched_step(
    factors: _SharedFactors,
    dense: np.ndarray | None,
    op: MeasurementOperator,
    r: np.ndarray,
    scale: np.ndarray,
    uniform: bool,
    bound: np.ndarray | None,
    x: np.ndarray,
    depth: int,
) -> None:
    """The factor step of every active problem from its residual r (overwritten)."""
    if bound is not None:
        step: np.ndarray | None = scale * _schedule_factor(x, bound, depth)
    else:
        step = None if uniform else scale
    if step is not None:
        r *= step  # per-problem steps scale the columns of r (m ≤ N rows: the cheap side)
    if dense is not None:
        dense.T.dot(r, factors.grad)
    else:
        factors.grad[...] = op.rmatvec(r)
    factors.update(1.0 if step is not None else float(scale[0]))


def _compiled_engine_blocker(
    op: MeasurementOperator,
    parametrization: str,
    depth: int,
    callback: Any,
    history: bool,
    schedule: Any,
) -> str | None:
    """Why the compiled loop cannot run this problem (None: it can)."""
    if parametrization != "shared" or depth < 2:
        return 'parametrization="separate" or depth 1'
    if op.kind != "dense":
        return "a sparse matrix or LinearOperator (it needs a dense array)"
    A = op.toarray()
    if A.dtype != np.float64 or not (A.flags.c_contiguous or A.flags.f_contiguous):
        return "a matrix that is not a contiguous float64 array"
    if callback is not None or history or schedule is not None:
        return 'a callback, history=True or step_schedule="adaptive"'
    return None


def _run_single_compiled(
    op: MeasurementOperator,
    Y: np.ndarray,
    depth: int,
    factors0: np.ndarray,
    eta: np.ndarray,
    max_iter: int,
    tol: float,
    noise_level: float | None,
    discrepancy: float,
    stagnation_window: int | None,
) -> dict[str, Any]:
    """:func:`_run_single` with the iterations between checkpoints in compiled code.

    The compiled segment stops at every multiple of the stagnation window (and at max_iter), where
    the monitor runs here, exactly as in the numpy loop.
    """
    m, n = op.shape
    A = op.toarray()
    y = np.array(Y[:, 0], dtype=float, order="C")
    factors = _SharedFactors(factors0, depth, None)
    power = factors.power if factors.power is not None else factors.work  # unused when L = 2
    y_norm = float(np.linalg.norm(y))
    target = float(_stop_target(np.array([y_norm]), m, tol, noise_level, discrepancy)[0])
    limit = _DIVERGENCE_FACTOR * max(0.5 * y_norm**2, 1e-300)
    segment = _jit.descent_segment()
    x, x_prev, r = np.zeros(n), np.zeros(n), np.empty(m)
    a = float(eta[0]) * depth
    window = stagnation_window
    monitor = _StagnationMonitor(window)
    k, step_first = 0, False
    while True:
        if window is None:
            stop = max_iter
        else:
            stop = min(max_iter, (k // window + 1) * window if step_first else 0)
        stop = min(stop, _INT64_MAX)  # the compiled loop counts in int64
        k, code, rn2 = segment(
            A,
            A.T,
            y,
            factors.state,
            power,
            depth,
            a,
            k,
            stop,
            step_first,
            target * target,
            limit,
            x,
            x_prev,
            r,
            factors.grad,
        )
        if code == _jit.CONVERGED:
            status = StopReason.CONVERGED
            break
        if code == _jit.DIVERGED:
            status, x = StopReason.DIVERGED, x_prev
            break
        if window is not None and k % window == 0:
            if monitor.check(k, np.array([0.5 * rn2]), factors.factors())[0]:
                status = StopReason.STAGNATED
                break
        if k >= max_iter:
            status = StopReason.MAX_ITER
            break
        step_first = True
    res = float(np.linalg.norm(A @ x - y)) if status is StopReason.DIVERGED else rn2**0.5
    return {
        "x": x[:, None],
        "status": np.array([int(status)]),
        "n_iter": np.array([k]),
        "res_norm": np.array([res]),
        "loss": [],
        "diverged": np.array([status is StopReason.DIVERGED]),
    }
