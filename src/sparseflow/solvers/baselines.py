"""Classical baselines: basis pursuit (an LP) and the minimum-ℓ2-norm solution."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.linalg import lsmr

from .._validation import check_positive
from ..result import RecoveryResult, StopReason
from ._common import Timer, prepare, residual_norm, solve_columns

__all__ = ["basis_pursuit", "min_norm"]


def basis_pursuit(A: Any, y: Any, *, tol: float = 1e-9) -> RecoveryResult:
    r"""Basis pursuit :math:`\min \|z\|_1` subject to :math:`Az = y`, solved as an LP by HiGHS.

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator, shape (m, N)
        Measurement operator (an operator is materialized; keep N moderate).
    y : array_like, shape (m,) or (m, B)
        Measurements; columns are solved one after another.
    tol : float, default 1e-9
        Primal and dual feasibility tolerance passed to HiGHS.

    Returns
    -------
    RecoveryResult

    Notes
    -----
    With z = z⁺ − z⁻, z± ≥ 0 the problem is the LP

    .. math:: \min \mathbf 1^\top z^+ + \mathbf 1^\top z^- \quad\text{s.t.}\quad
              A z^+ - A z^- = y,\; z^\pm \ge 0.

    Examples
    --------
    >>> import numpy as np
    >>> import sparseflow
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((40, 100)) / np.sqrt(40)
    >>> x_true = np.zeros(100); x_true[[3, 50, 77]] = [1.0, -2.0, 0.5]
    >>> res = sparseflow.basis_pursuit(A, A @ x_true)
    >>> bool(np.allclose(res.x, x_true, atol=1e-7))
    True
    """
    timer = Timer()
    op, y_arr = prepare(A, y)
    tol = check_positive(tol, "tol")
    M = op._sparse if op._sparse is not None else op.toarray()
    return solve_columns(lambda col: _bp_one(op, M, col, tol), y_arr, "basis_pursuit", timer)


def _bp_one(op: Any, M: Any, y: np.ndarray, tol: float) -> RecoveryResult:
    timer = Timer()
    n = op.shape[1]
    A_eq = sp.hstack([M, -M], format="csr") if sp.issparse(M) else np.hstack([M, -M])
    sol = linprog(
        np.ones(2 * n),
        A_eq=A_eq,
        b_eq=y,
        bounds=(0, None),
        method="highs",
        options={"primal_feasibility_tolerance": tol, "dual_feasibility_tolerance": tol},
    )
    if sol.status == 0:
        x = sol.x[:n] - sol.x[n:]
        status, message = StopReason.CONVERGED, "optimal (HiGHS)"
    else:
        x = np.zeros(n) if sol.x is None else sol.x[:n] - sol.x[n:]
        status = StopReason.INFEASIBLE if sol.status == 2 else StopReason.MAX_ITER
        message = f"HiGHS stopped: {sol.message}"
    return RecoveryResult(
        x=x,
        converged=status is StopReason.CONVERGED,
        status=status,
        message=message,
        n_iter=int(getattr(sol, "nit", 0) or 0),
        time=timer.elapsed(),
        method="basis_pursuit",
        residual_norm=residual_norm(op, x, y),
    )


def min_norm(A: Any, y: Any, *, tol: float = 1e-12) -> RecoveryResult:
    r"""The minimum-ℓ2-norm solution :math:`A^+ y` (the limit of the depth-1 flow).

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator, shape (m, N)
    y : array_like, shape (m,) or (m, B)
    tol : float, default 1e-12
        Relative tolerance of LSMR when A is sparse or matrix-free (dense A uses an SVD-based
        least-squares solve).

    Returns
    -------
    RecoveryResult

    Examples
    --------
    >>> import numpy as np
    >>> import sparseflow
    >>> A = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    >>> sparseflow.min_norm(A, [1.0, 1.0]).x.round(6)
    array([0.333333, 0.666667, 0.333333])
    """
    timer = Timer()
    op, y_arr = prepare(A, y)
    tol = check_positive(tol, "tol")
    n_iter = 1
    if op.kind == "dense":
        x = np.linalg.lstsq(op.toarray(), y_arr, rcond=None)[0]
    else:
        cols = [y_arr] if y_arr.ndim == 1 else [y_arr[:, j] for j in range(y_arr.shape[1])]
        lin = op._sparse if op._sparse is not None else _as_scipy(op)
        outs = [lsmr(lin, c, atol=tol, btol=tol, maxiter=20 * min(op.shape)) for c in cols]
        x = outs[0][0] if y_arr.ndim == 1 else np.column_stack([o[0] for o in outs])
        n_iter = max(int(o[2]) for o in outs)
    if op.is_matrix:  # zero columns contribute nothing: their coordinate is exactly 0
        x[op.column_norms() == 0] = 0.0
    return RecoveryResult(
        x=x,
        converged=True,
        status=StopReason.CONVERGED,
        message="least-squares solution of minimum norm",
        n_iter=n_iter,
        time=timer.elapsed(),
        method="min_norm",
        residual_norm=residual_norm(op, x, y_arr),
    )


def _as_scipy(op: Any) -> Any:
    from scipy.sparse.linalg import LinearOperator

    return LinearOperator(op.shape, matvec=op.matvec, rmatvec=op.rmatvec, dtype=np.float64)
