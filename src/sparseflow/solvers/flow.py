r"""The exact gradient-flow trajectory, by integrating the m-dimensional dual ODE."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.integrate import BDF, Radau

from .._validation import (
    as_float_array,
    check_alpha,
    check_choice,
    check_depth,
    check_positive,
    check_positive_int,
)
from ..models import Model
from ..operators import MeasurementOperator
from ..result import RecoveryResult, StopReason
from ._common import Timer, combine, prepare, residual_norm

__all__ = ["gradient_flow"]

_INTEGRATORS = {"Radau": Radau, "BDF": BDF}


def gradient_flow(
    A: Any,
    y: Any,
    depth: int = 3,
    alpha: Any = 1e-3,
    times: Any = (1e3,),
    *,
    nonnegative: bool = False,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    integrator: str = "Radau",
    max_steps: int = 100_000,
    stationary_tol: float = 1e-13,
    tol: float = 1e-6,
) -> RecoveryResult:
    r"""Exact gradient-flow trajectory x(t) of the overparameterized model at the requested times.

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator, shape (m, N)
        Measurement operator (materialized as a dense matrix: the integrator needs the m×m
        Jacobian, so keep N moderate).
    y : array_like, shape (m,) or (m, B)
        Measurements; B columns are integrated one after another.
    depth : int, default 3
        Depth L ≥ 1 of x = u^L − v^L (x = u^L when ``nonnegative``).
    alpha : float or array_like of shape (N,), default 1e-3
        Initial scale u(0) = v(0) = α.
    times : array_like of float, default (1e3,)
        Non-negative, strictly increasing times at which x(t) is reported. The flow's time is that
        of :func:`gradient_descent`: k steps of size η approximate x(kη).
    nonnegative : bool, default False
        Use the non-negative model x = u^L.
    rtol, atol : float, default 1e-6, 1e-9
        Relative and absolute tolerances of the integrator, applied to the dual variable μ. The
        fixed point attracts, so the large-t value is accurate far below rtol; tighten them for
        accurate intermediate times (cost grows for small α and deep models).
    integrator : {"Radau", "BDF"}, default "Radau"
        A stiff integrator of :mod:`scipy.integrate`; all receive the analytic Jacobian.
    max_steps : int, default 100000
        Bound on the total number of integrator steps.
    stationary_tol : float, default 1e-13
        Once the relative residual ‖Ax(t) − y‖₂ / ‖y‖₂ falls below this value the state is a
        fixed point: integration stops and later requested times report the same x
        (``info["stationary_at"]`` holds the time). The same happens when the residual is below
        ten times its own float64 rounding error (estimated from |A|, h' and |μ|), where the
        integrator would otherwise spend its steps on rounding noise near the barrier.
    tol : float, default 1e-6
        The run counts as converged only if the relative residual at the last requested time is
        at most ``tol``.

    Returns
    -------
    RecoveryResult
        ``x`` is x at the last requested time. ``history["t"]`` holds the times reached,
        ``history["x"]`` the signal at each of them (shape (T, N), or (T, N, B) for a batch),
        ``history["residual"]`` the residual norms ‖Ax(t) − y‖₂ (shape (T,) or (T, B)).
        ``converged`` is True when the integration reached the last requested time with
        ‖Ax − y‖₂ ≤ tol·‖y‖₂; a trajectory whose last time comes before the flow has fitted the
        data reports ``MAX_ITER`` (the time budget), like a descent run out of iterations;
        ``n_iter`` counts integrator steps; ``info["dual"]`` is μ at the last time, and
        ``info["nfev"]``, ``info["njev"]`` count evaluations.

    Notes
    -----
    Gradient flow on :math:`\tfrac12\|A(u^{\odot L}-v^{\odot L})-y\|^2` from u = v = α keeps
    :math:`x(t) = h_{\alpha,L}(A^\top\mu(t))` with (THEORY §3)

    .. math::

        \dot\mu = y - A\,h(A^\top\mu), \qquad \mu(0) = 0,

    an m-dimensional ODE whose Jacobian :math:`-A\,\mathrm{diag}(h'(A^\top\mu))\,A^\top` is
    symmetric negative definite and very stiff for small α. Each requested time is reached exactly
    (the integrator is restarted there, warm-started with its last step size), so no interpolant
    ever leaves the domain of h. As t → ∞ the trajectory converges to :func:`flow_limit`.

    Examples
    --------
    >>> import numpy as np
    >>> import sparseflow
    >>> A = np.array([[1.0, 0.8, 0.0], [0.0, 0.8, 1.0]])
    >>> res = sparseflow.gradient_flow(A, [0.5, 0.5], depth=2, alpha=0.1, times=[1.0, 1e4])
    >>> res.history["x"].shape
    (2, 3)
    >>> lim = sparseflow.flow_limit(A, [0.5, 0.5], depth=2, alpha=0.1)
    >>> bool(np.allclose(res.x, lim.x, rtol=1e-7))
    True
    """
    timer = Timer()
    op, y_arr = prepare(A, y)
    depth = check_depth(depth)
    alpha_v = check_alpha(alpha, op.shape[1])
    t_arr = _check_times(times)
    rtol = check_positive(rtol, "rtol")
    atol = check_positive(atol, "atol")
    check_choice(integrator, "integrator", tuple(_INTEGRATORS))
    max_steps = check_positive_int(max_steps, "max_steps")
    stationary_tol = check_positive(stationary_tol, "stationary_tol")
    tol = check_positive(tol, "tol")
    model = Model(depth, alpha_v, bool(nonnegative))
    dense = op.toarray()
    args = (op, dense, model, t_arr, rtol, atol, integrator, max_steps, stationary_tol, tol)
    if y_arr.ndim == 2:
        results = [_integrate(*args, y_arr[:, j]) for j in range(y_arr.shape[1])]
        out = combine(results, "gradient_flow", timer.elapsed())
        out.history = _stack_histories(results)
        return out
    result = _integrate(*args, y_arr)
    result.time = timer.elapsed()
    return result


def _check_times(times: Any) -> np.ndarray:
    arr = as_float_array(np.atleast_1d(times) if np.ndim(times) == 0 else times, "times", ndim=(1,))
    if np.any(arr < 0):
        raise ValueError(f"times must be non-negative, got minimum {arr.min()!r}")
    if np.any(np.diff(arr) <= 0):
        raise ValueError("times must be strictly increasing")
    return arr


def _integrate(
    op: MeasurementOperator,
    dense: np.ndarray,
    model: Model,
    times: np.ndarray,
    rtol: float,
    atol: float,
    integrator: str,
    max_steps: int,
    stationary_tol: float,
    tol: float,
    y: np.ndarray,
) -> RecoveryResult:
    timer = Timer()
    m = dense.shape[0]
    floor = stationary_tol * float(np.linalg.norm(y))

    def rhs(_t: float, mu: np.ndarray) -> np.ndarray:
        w = dense.T @ mu
        # A trial point outside the domain of h (L ≥ 3 barrier, or exp overflow for L = 2) gets a
        # non-finite derivative; the stiff integrators then reject the step and shrink it.
        if not model.in_domain(w):
            return np.full(m, np.nan)
        with np.errstate(over="ignore", invalid="ignore"):
            return y - dense @ model.link(w)

    abs_a = np.abs(dense)
    eps = np.finfo(float).eps

    def _is_stationary(mu: np.ndarray) -> bool:
        """Residual below the requested floor or below its own float64 rounding error."""
        w = dense.T @ mu
        x = model.link(w)
        r = float(np.linalg.norm(y - dense @ x))
        # rounding of w = Aᵀμ is about eps·|A|ᵀ|μ|; h' carries it to x, A to the residual
        noise = eps * float(
            np.linalg.norm(abs_a @ (model.link_derivative(w) * (abs_a.T @ np.abs(mu))))
            + np.linalg.norm(abs_a @ np.abs(x))
            + np.linalg.norm(y)
        )
        return r <= max(floor, 10 * noise)

    def jac(_t: float, mu: np.ndarray) -> np.ndarray:
        w = dense.T @ mu
        if not model.in_domain(w):
            return np.zeros((m, m))
        with np.errstate(over="ignore", invalid="ignore"):
            d = model.link_derivative(w)
        if not np.all(np.isfinite(d)):
            return np.zeros((m, m))
        return -(dense * d) @ dense.T

    solver_cls = _INTEGRATORS[integrator]
    mu = np.zeros(m)
    t_now, step = 0.0, None
    xs: list[np.ndarray] = []
    reached: list[float] = []
    n_steps = nfev = njev = 0
    status, message = StopReason.CONVERGED, ""
    stationary_at: float | None = None
    for t_target in times:
        if t_target > t_now and stationary_at is None:
            span = t_target - t_now
            first = None if step is None else min(step, span)
            solver = solver_cls(
                rhs, t_now, mu, t_target, rtol=rtol, atol=atol, jac=jac, first_step=first
            )
            while solver.status == "running" and n_steps < max_steps:
                msg = solver.step()
                n_steps += 1
                if solver.status == "failed":
                    status = StopReason.PRECISION
                    message = f"the {integrator} integrator failed at t = {solver.t:.6g}: {msg}"
                    break
                if solver.step_size:
                    step = solver.step_size
                if solver.status == "running" and _is_stationary(solver.y):
                    stationary_at = float(solver.t)
                    break
            nfev += solver.nfev
            njev += solver.njev
            if status is not StopReason.CONVERGED:
                break
            if stationary_at is not None:
                mu, t_now = solver.y.copy(), stationary_at
            elif solver.status == "running":
                mu = solver.y.copy()
                status = StopReason.MAX_ITER
                message = (
                    f"reached max_steps={max_steps} integrator steps at t = {solver.t:.6g} before "
                    f"t = {t_target:.6g}; small alpha and deep models are stiff, raise max_steps"
                )
                break
            else:
                mu, t_now = solver.y.copy(), float(t_target)
        xs.append(model.link(dense.T @ mu))
        reached.append(float(t_target))
    x_final = model.link(dense.T @ mu)
    res = residual_norm(op, x_final, y)
    rel = res / max(float(np.linalg.norm(y)), 1e-300)
    if status is StopReason.CONVERGED and rel > tol:
        status = StopReason.MAX_ITER
        message = (
            f"integrated to t = {times[-1]:.6g} in {n_steps} {integrator} steps, but the "
            f"relative residual {rel:.2e} is above tol {tol:.1e}: the flow has not fitted the "
            "data by this time (request a later time, or use flow_limit for the limit)"
        )
    elif status is StopReason.CONVERGED:
        message = (
            f"integrated to t = {times[-1]:.6g} in {n_steps} {integrator} steps; relative "
            f"residual {rel:.2e}"
        )
        if stationary_at is not None:
            message += f" (stationary to float64 precision from t = {stationary_at:.6g})"
    x_hist = np.array(xs) if xs else np.zeros((0, dense.shape[1]))
    res_hist = np.linalg.norm(dense @ x_hist.T - y[:, None], axis=0) if xs else np.zeros(0)
    return RecoveryResult(
        x=x_final,
        converged=status is StopReason.CONVERGED,
        status=status,
        message=message,
        n_iter=n_steps,
        time=timer.elapsed(),
        method="gradient_flow",
        residual_norm=res,
        history={"t": np.array(reached), "x": x_hist, "residual": res_hist},
        info={
            "dual": mu,
            "nfev": nfev,
            "njev": njev,
            "integrator": integrator,
            "stationary_at": stationary_at,
        },
    )


def _stack_histories(results: list[RecoveryResult]) -> dict[str, np.ndarray]:
    """Batch histories: keep the times all problems reached; x as (T, N, B), residual as (T, B)."""
    hists = [r.history or {} for r in results]
    n_t = min(len(h["t"]) for h in hists)
    return {
        "t": hists[0]["t"][:n_t],
        "x": np.stack([h["x"][:n_t] for h in hists], axis=-1),
        "residual": np.stack([h["residual"][:n_t] for h in hists], axis=-1),
    }
