r"""Greedy baselines: orthogonal matching pursuit (OMP) and iterative hard thresholding (IHT).

Which to use when: OMP is the fastest choice when x is exactly sparse, the columns of A are not
too coherent and either the sparsity or the noise level is known; it needs no step size. IHT needs
the sparsity s and is robust to noise when A is well conditioned on sparse vectors (small
restricted isometry constant); it is slower than OMP but each step is one product with A and Aᵀ,
so it also works for matrix-free operators. For compressible (not exactly sparse) signals or
unknown sparsity prefer :func:`~sparseflow.lasso` (noisy data) or :func:`~sparseflow.flow_limit`
(exact data).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_positive, check_positive_int
from ..operators import MeasurementOperator
from ..result import RecoveryResult, StopReason
from ._common import Timer, prepare, residual_norm, solve_columns

__all__ = ["iht", "omp"]


def _noise_target(
    tol: float, y_norm: float, noise_level: float | None, m: int, tau: float
) -> float:
    target = tol * y_norm
    if noise_level is not None:
        target = max(target, tau * noise_level * np.sqrt(m))
    return target


def omp(
    A: Any,
    y: Any,
    n_nonzero: int | None = None,
    *,
    tol: float = 1e-10,
    noise_level: float | None = None,
    discrepancy: float = 1.1,
) -> RecoveryResult:
    r"""Orthogonal matching pursuit.

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator, shape (m, N)
        Measurement operator (an operator is materialized; keep N moderate).
    y : array_like, shape (m,) or (m, B)
        Measurements; columns are solved one after another.
    n_nonzero : int, optional
        Largest support to select; default m (every greedy step adds one column).
    tol : float, default 1e-10
        Stop when ‖Ax − y‖₂ ≤ tol · ‖y‖₂.
    noise_level : float, optional
        Noise standard deviation σ: stop once ‖Ax − y‖₂ ≤ discrepancy · σ · √m.
    discrepancy : float, default 1.1
        The factor τ of that discrepancy rule.

    Returns
    -------
    RecoveryResult
        ``CONVERGED`` when the residual target was met, ``MAX_ITER`` when the support budget
        ran out first; ``info["support"]`` lists the selected columns in order.

    Notes
    -----
    With :math:`r_0 = y` and :math:`S_0 = \emptyset`, step k selects the column most correlated
    with the residual (after normalizing columns; zero columns are never selected),

    .. math:: j_k = \arg\max_j |a_j^\top r_{k-1}| / \|a_j\|_2, \qquad
              x_k = \arg\min_{\mathrm{supp}\, z \subseteq S_k} \|Az - y\|_2,

    and updates :math:`r_k = y - Ax_k`.

    Examples
    --------
    >>> import numpy as np
    >>> import sparseflow
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((40, 100)) / np.sqrt(40)
    >>> x_true = np.zeros(100); x_true[[3, 50, 77]] = [1.0, -2.0, 0.5]
    >>> res = sparseflow.omp(A, A @ x_true)
    >>> res.converged, sorted(res.info["support"])
    (True, [3, 50, 77])
    """
    timer = Timer()
    op, y_arr = prepare(A, y)
    m = op.shape[0]
    budget = m if n_nonzero is None else check_positive_int(n_nonzero, "n_nonzero")
    budget = min(budget, m, op.shape[1])
    tol = check_positive(tol, "tol")
    if noise_level is not None:
        noise_level = check_positive(noise_level, "noise_level")
    discrepancy = check_positive(discrepancy, "discrepancy")
    dense = op.toarray()
    return solve_columns(
        lambda col: _omp_one(op, dense, col, budget, tol, noise_level, discrepancy),
        y_arr,
        "omp",
        timer,
    )


def _omp_one(
    op: MeasurementOperator,
    A: np.ndarray,
    y: np.ndarray,
    budget: int,
    tol: float,
    noise_level: float | None,
    tau: float,
) -> RecoveryResult:
    timer = Timer()
    m, n = A.shape
    norms = np.linalg.norm(A, axis=0)
    usable = norms > 0
    inv = np.where(usable, 1.0 / np.where(usable, norms, 1.0), 0.0)
    target = _noise_target(tol, float(np.linalg.norm(y)), noise_level, m, tau)
    support: list[int] = []
    x = np.zeros(n)
    r = y.copy()
    status = StopReason.MAX_ITER
    while True:
        if np.linalg.norm(r) <= target:
            status = StopReason.CONVERGED
            break
        if len(support) >= budget:
            break
        score = np.abs(A.T @ r) * inv
        score[support] = -1.0
        j = int(np.argmax(score))
        if score[j] <= 0:
            status = StopReason.STAGNATED
            break
        support.append(j)
        coef = np.linalg.lstsq(A[:, support], y, rcond=None)[0]
        x = np.zeros(n)
        x[support] = coef
        r = y - A @ x
    res = float(np.linalg.norm(r))
    messages = {
        StopReason.CONVERGED: f"residual target met with {len(support)} columns",
        StopReason.MAX_ITER: f"selected {len(support)} columns (the budget) without meeting the "
        f"residual target; relative residual {res / max(float(np.linalg.norm(y)), 1e-300):.2e}",
        StopReason.STAGNATED: "no remaining column correlates with the residual",
    }
    return RecoveryResult(
        x=x,
        converged=status is StopReason.CONVERGED,
        status=status,
        message=messages[status],
        n_iter=len(support),
        time=timer.elapsed(),
        method="omp",
        residual_norm=residual_norm(op, x, y),
        info={"support": support},
    )


def iht(
    A: Any,
    y: Any,
    sparsity: int,
    *,
    tol: float = 1e-8,
    max_iter: int = 5000,
    noise_level: float | None = None,
    discrepancy: float = 1.1,
) -> RecoveryResult:
    r"""Normalized iterative hard thresholding (IHT with an adaptive step).

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator, shape (m, N)
    y : array_like, shape (m,) or (m, B)
    sparsity : int
        Number s of entries kept at every step.
    tol : float, default 1e-8
        Stop when ‖Ax − y‖₂ ≤ tol · ‖y‖₂.
    max_iter : int, default 5000
        Bound on the number of iterations.
    noise_level : float, optional
        Noise standard deviation σ: stop once ‖Ax − y‖₂ ≤ discrepancy · σ · √m.
    discrepancy : float, default 1.1

    Returns
    -------
    RecoveryResult
        ``STAGNATED`` when the iterate stops changing before the residual target is met.

    Notes
    -----
    .. math:: x_{k+1} = H_s\big(x_k + \eta_k g_k\big), \qquad g_k = A^\top(y - Ax_k),
              \qquad \eta_k = \|g_{k,S}\|^2 / \|A g_{k,S}\|^2,

    where :math:`H_s` keeps the s entries of largest magnitude and S is the current support
    (Blumensath and Davies' normalized IHT). When the support changes the step is halved until
    :math:`\eta_k \le 0.99\,\|x_{k+1}-x_k\|^2/\|A(x_{k+1}-x_k)\|^2`, which makes the loss
    decrease, so the iteration cannot diverge and needs no step parameter.

    Examples
    --------
    >>> import numpy as np
    >>> import sparseflow
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((60, 100)) / np.sqrt(60)
    >>> x_true = np.zeros(100); x_true[[3, 50, 77]] = [1.0, -2.0, 0.5]
    >>> res = sparseflow.iht(A, A @ x_true, sparsity=3)
    >>> res.converged, bool(np.allclose(res.x, x_true, atol=1e-6))
    (True, True)
    """
    timer = Timer()
    op, y_arr = prepare(A, y)
    s = check_positive_int(sparsity, "sparsity")
    if s > op.shape[1]:
        raise ValueError(f"sparsity must be at most N={op.shape[1]}, got {s}")
    tol = check_positive(tol, "tol")
    max_iter = check_positive_int(max_iter, "max_iter")
    if noise_level is not None:
        noise_level = check_positive(noise_level, "noise_level")
    discrepancy = check_positive(discrepancy, "discrepancy")
    return solve_columns(
        lambda col: _iht_one(op, col, s, tol, max_iter, noise_level, discrepancy),
        y_arr,
        "iht",
        timer,
    )


def _hard_threshold(v: np.ndarray, s: int) -> np.ndarray:
    out = np.zeros_like(v)
    keep = np.argpartition(np.abs(v), -s)[-s:]
    out[keep] = v[keep]
    return out


def _niht_step(
    op: MeasurementOperator, x: np.ndarray, g: np.ndarray, support: np.ndarray, s: int
) -> tuple[np.ndarray, float]:
    """One normalized IHT step: the exact line-search step on the current support, shortened
    until the loss decreases by the safeguard when the support changes."""
    g_s = np.zeros_like(g)
    g_s[support] = g[support]
    a_g = op.matvec(g_s)
    denom = float(a_g @ a_g)
    eta = float(g_s @ g_s) / denom if denom > 0 else 1.0
    for _ in range(60):
        x_new = _hard_threshold(x + eta * g, s)
        new_support = np.flatnonzero(x_new)
        if new_support.size == support.size and np.array_equal(np.sort(new_support), support):
            return x_new, eta
        d = x_new - x
        a_d = op.matvec(d)
        # the step is safe if it does not exceed (1 − c)‖d‖²/‖A d‖² (c = 0.01)
        limit = 0.99 * float(d @ d) / max(float(a_d @ a_d), 1e-300)
        if eta <= limit:
            return x_new, eta
        eta *= 0.5
    return x_new, eta


def _iht_one(
    op: MeasurementOperator,
    y: np.ndarray,
    s: int,
    tol: float,
    max_iter: int,
    noise_level: float | None,
    tau: float,
) -> RecoveryResult:
    timer = Timer()
    m, n = op.shape
    y_norm = float(np.linalg.norm(y))
    target = _noise_target(tol, y_norm, noise_level, m, tau)
    x = np.zeros(n)
    r = y.copy()
    support = np.sort(np.argpartition(np.abs(op.rmatvec(y)), -s)[-s:])
    status, k, eta = StopReason.MAX_ITER, 0, 0.0
    for k in range(max_iter + 1):
        if np.linalg.norm(r) <= target:
            status = StopReason.CONVERGED
            break
        if k == max_iter:
            break
        g = op.rmatvec(r)
        x_new, eta = _niht_step(op, x, g, support, s)
        change = float(np.linalg.norm(x_new - x))
        x = x_new
        support = np.sort(np.flatnonzero(x)) if np.count_nonzero(x) == s else support
        r = y - op.matvec(x)
        if change <= 1e-15 * max(float(np.linalg.norm(x)), 1e-300):
            status = StopReason.STAGNATED
            break
    rel = float(np.linalg.norm(r)) / max(y_norm, 1e-300)
    messages = {
        StopReason.CONVERGED: f"residual target met after {k} iterations",
        StopReason.MAX_ITER: f"reached max_iter={max_iter} at relative residual {rel:.2e}",
        StopReason.STAGNATED: f"the iterate stopped changing at relative residual {rel:.2e}: "
        "a fixed point of IHT that does not fit y (wrong sparsity or ill-conditioned A)",
    }
    return RecoveryResult(
        x=x,
        converged=status is StopReason.CONVERGED,
        status=status,
        message=messages[status],
        n_iter=k,
        time=timer.elapsed(),
        method="iht",
        residual_norm=residual_norm(op, x, y),
        info={"last_step": eta},
    )
