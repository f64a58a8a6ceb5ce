"""Independent checks that y can be fitted at all: Az = y (signed model), z ≥ 0 too (non-negative).

Iterative solvers call these only after failing, to replace a vague status by
``StopReason.INFEASIBLE`` when the data cannot be fitted by any signal of the model.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from ..operators import MeasurementOperator

__all__ = ["infeasibility"]

# Larger problems are not checked (the LP or least-squares solve would dominate the run).
_MAX_ENTRIES = 4_000_000


def infeasibility(
    op: MeasurementOperator, y: np.ndarray, nonnegative: bool, tol: float
) -> str | None:
    """Return a sentence explaining why ``Az = y`` (with z ≥ 0 if asked) has no solution, or None.

    None means feasible *or* not checked (operator too large or not explicit): callers must not
    read None as a proof of feasibility.

    Parameters
    ----------
    op : MeasurementOperator
    y : ndarray, shape (m,)
    nonnegative : bool
        Also require z ≥ 0 (checked by the HiGHS LP feasibility problem).
    tol : float
        Relative residual ‖Az − y‖ ≤ tol·‖y‖ counts as fitted (signed model).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseflow.operators import as_operator
    >>> A = as_operator(np.array([[1.0, 1.0], [1.0, 1.0]]))
    >>> infeasibility(A, np.array([1.0, 2.0]), False, 1e-8) is not None
    True
    >>> infeasibility(A, np.array([-1.0, -1.0]), True, 1e-8) is not None
    True
    >>> infeasibility(A, np.array([1.0, 1.0]), True, 1e-8) is None
    True
    """
    m, n = op.shape
    if not op.is_matrix or m * n > _MAX_ENTRIES:
        return None
    y_norm = float(np.linalg.norm(y))
    if y_norm == 0:
        return None
    if nonnegative:
        M = op._sparse if op._sparse is not None else op.toarray()
        sol = linprog(
            np.zeros(n),
            A_eq=M if sp.issparse(M) else np.asarray(M),
            b_eq=y,
            bounds=(0, None),
            method="highs",
        )
        if sol.status == 2:
            return (
                "no non-negative z satisfies Az = y (HiGHS LP feasibility check): the data "
                "cannot be fitted by the non-negative model"
            )
        return None
    A = op.toarray()
    z = np.linalg.lstsq(A, y, rcond=None)[0]
    rel = float(np.linalg.norm(A @ z - y)) / y_norm
    if rel > max(tol, 1e-10):
        return (
            f"y is not in the range of A: the least-squares residual is {rel:.2e} relative to "
            "‖y‖ (rank-deficient A with inconsistent y), so no z satisfies Az = y"
        )
    return None
