r"""The LASSO baseline for noisy measurements, solved by FISTA with adaptive restart.

Which to use when: with noisy data y = Ax* + e the overparameterized flow still interpolates y
(Az = y is solvable when m < N), so either stop it early (``gradient_descent(...,
noise_level=σ)``, the discrepancy principle) or use this explicit ℓ1-penalized least squares. The
LASSO has a single, documented parameter λ, is convex (the answer does not depend on an
initialization or a step) and is the reference to compare early-stopped descent against. For
exact data prefer :func:`~sparseflow.basis_pursuit` or :func:`~sparseflow.flow_limit`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_positive, check_positive_int
from ..operators import MeasurementOperator
from ..result import RecoveryResult, StopReason
from ._common import Timer, prepare, residual_norm, solve_columns

__all__ = ["lasso", "lasso_lambda"]

# λ = _NO_NOISE_RATIO · ‖Aᵀy‖∞ when no noise level is known (a small penalty: nearly basis pursuit).
_NO_NOISE_RATIO = 1e-3


def lasso_lambda(A: Any, y: Any, noise_level: float | None = None) -> float:
    r"""The default penalty λ of :func:`lasso`.

    With a noise level σ (entries of e i.i.d. N(0, σ²)) the universal rule

    .. math:: \lambda = \sigma \sqrt{2 \log N}\, \max_j \|a_j\|_2

    which exceeds :math:`\|A^\top e\|_\infty` with high probability, so no pure-noise coordinate
    enters the support. Without σ: :math:`\lambda = 10^{-3}\|A^\top y\|_\infty` (x = 0 is the
    solution for every λ ≥ ‖Aᵀy‖∞); for a 2-D y the largest value over the columns is
    returned (:func:`lasso` itself computes λ column by column).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseflow.solvers.lasso import lasso_lambda
    >>> A = np.eye(2, 4)
    >>> lam = lasso_lambda(A, [1.0, 0.0], noise_level=0.1)
    >>> bool(np.isclose(lam, 0.1 * np.sqrt(2 * np.log(4))))
    True
    """
    op, y_arr = prepare(A, y)
    if noise_level is not None:
        sigma = check_positive(noise_level, "noise_level")
        col = op.column_norms() if op.is_matrix else np.array([op.norm()])
        return float(sigma * np.sqrt(2 * np.log(op.shape[1])) * np.max(col))
    return float(_NO_NOISE_RATIO * np.max(np.abs(op.rmatvec(y_arr))))


def lasso(
    A: Any,
    y: Any,
    lam: float | str = "auto",
    *,
    noise_level: float | None = None,
    tol: float = 1e-6,
    max_iter: int = 20_000,
) -> RecoveryResult:
    r"""LASSO: :math:`\min_x \tfrac12\|Ax - y\|_2^2 + \lambda\|x\|_1`.

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator, shape (m, N)
    y : array_like, shape (m,) or (m, B)
        Columns are solved one after another.
    lam : float or "auto", default "auto"
        The penalty λ > 0; ``"auto"`` uses :func:`lasso_lambda` for each column of y (the
        universal rule σ√(2 log N)·max‖a_j‖ when ``noise_level`` is given).
    noise_level : float, optional
        Noise standard deviation σ, used by ``lam="auto"``.
    tol : float, default 1e-6
        Stop when the optimality violation (below) is at most tol · λ.
    max_iter : int, default 20000
        Bound on the number of FISTA iterations.

    Returns
    -------
    RecoveryResult
        ``info["lam"]`` is the λ used; ``info["kkt"]`` the final optimality violation.

    Notes
    -----
    FISTA with step 1/‖A‖₂², soft thresholding :math:`S_t(v) = \mathrm{sign}(v)\max(|v|-t, 0)`
    and a restart of the momentum whenever the objective increases. With
    :math:`g = A^\top(Ax - y)` the optimality violation is
    :math:`\max_i |g_i + \lambda\,\mathrm{sign}(x_i)|` over :math:`x_i \ne 0` and
    :math:`\max_i (|g_i| - \lambda)_+` over :math:`x_i = 0`; it is 0 exactly at a minimizer.

    Examples
    --------
    >>> import numpy as np
    >>> import sparseflow
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((50, 100)) / np.sqrt(50)
    >>> x_true = np.zeros(100); x_true[[3, 50, 77]] = [1.0, -2.0, 0.5]
    >>> y = A @ x_true + 0.01 * rng.standard_normal(50)
    >>> res = sparseflow.lasso(A, y, noise_level=0.01)
    >>> res.converged, bool(np.linalg.norm(res.x - x_true) < 0.1)
    (True, True)
    """
    timer = Timer()
    op, y_arr = prepare(A, y)
    tol = check_positive(tol, "tol")
    max_iter = check_positive_int(max_iter, "max_iter")
    auto = isinstance(lam, str)
    lam_value = 0.0
    if auto:
        if lam != "auto":
            raise ValueError(f"lam must be a positive number or 'auto', got {lam!r}")
    else:
        lam_value = check_positive(lam, "lam")
    if noise_level is not None:
        noise_level = check_positive(noise_level, "noise_level")

    def penalty(column: np.ndarray) -> float:
        return lasso_lambda(op, column, noise_level) if auto else lam_value

    return solve_columns(
        lambda col: _fista(op, col, penalty(col), tol, max_iter), y_arr, "lasso", timer
    )


def _kkt(g: np.ndarray, x: np.ndarray, lam: float) -> float:
    on = x != 0
    viol_on = np.abs(g[on] + lam * np.sign(x[on]))
    viol_off = np.maximum(np.abs(g[~on]) - lam, 0.0)
    return float(max(np.max(viol_on, initial=0.0), np.max(viol_off, initial=0.0)))


def _fista(
    op: MeasurementOperator, y: np.ndarray, lam: float, tol: float, max_iter: int
) -> RecoveryResult:
    timer = Timer()
    n = op.shape[1]
    norm = op.norm()
    # 1.01: the power-iteration estimate of ‖A‖ may fall slightly short
    step = 1.0 / (1.01 * norm) ** 2 if norm > 0 else 1.0
    x = np.zeros(n)
    z, t = x.copy(), 1.0

    def objective(v: np.ndarray) -> float:
        r = op.matvec(v) - y
        return 0.5 * float(r @ r) + lam * float(np.sum(np.abs(v)))

    f_old = objective(x)
    status, k, viol = StopReason.MAX_ITER, 0, np.inf
    for k in range(max_iter + 1):
        g = op.rmatvec(op.matvec(x) - y)
        viol = _kkt(g, x, lam)
        if viol <= tol * lam:
            status = StopReason.CONVERGED
            break
        if k == max_iter:
            break
        gz = op.rmatvec(op.matvec(z) - y)
        v = z - step * gz
        x_new = np.sign(v) * np.maximum(np.abs(v) - step * lam, 0.0)
        f_new = objective(x_new)
        if f_new > f_old + 4 * np.finfo(float).eps * abs(
            f_old
        ):  # adaptive restart: drop the momentum
            t, z = 1.0, x.copy()
            continue
        t_new = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        z = x_new + ((t - 1) / t_new) * (x_new - x)
        x, t, f_old = x_new, t_new, f_new
    message = (
        f"optimality violation {viol:.2e} <= tol·λ after {k} iterations"
        if status is StopReason.CONVERGED
        else f"reached max_iter={max_iter} with optimality violation {viol:.2e} (λ = {lam:.3g})"
    )
    return RecoveryResult(
        x=x,
        converged=status is StopReason.CONVERGED,
        status=status,
        message=message,
        n_iter=k,
        time=timer.elapsed(),
        method="lasso",
        residual_norm=residual_norm(op, x, y),
        info={"lam": lam, "kkt": viol, "step": step},
    )
