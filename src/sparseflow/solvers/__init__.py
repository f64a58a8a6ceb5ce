"""Solvers: each returns a :class:`~sparseflow.result.RecoveryResult`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._validation import check_choice
from ..result import RecoveryResult
from .admm import basis_pursuit_admm
from .baselines import basis_pursuit, min_norm
from .descent import gradient_descent
from .flow import gradient_flow
from .greedy import iht, omp
from .lasso import lasso
from .limit import flow_limit
from .mirror import mirror_descent

__all__ = [
    "METHODS",
    "basis_pursuit",
    "basis_pursuit_admm",
    "flow_limit",
    "gradient_descent",
    "gradient_flow",
    "iht",
    "lasso",
    "min_norm",
    "mirror_descent",
    "omp",
    "recover",
]

METHODS: dict[str, Callable[..., RecoveryResult]] = {
    "limit": flow_limit,
    "descent": gradient_descent,
    "flow": gradient_flow,
    "basis-pursuit": basis_pursuit,
    "min-norm": min_norm,
    "omp": omp,
    "iht": iht,
    "lasso": lasso,
    "basis-pursuit-admm": basis_pursuit_admm,
}


def recover(A: Any, y: Any, method: str = "limit", **options: Any) -> RecoveryResult:
    """Recover a sparse x from y = A x with the named method.

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator, shape (m, N)
    y : array_like, shape (m,) or (m, B)
    method : {"limit", "descent", "flow", "basis-pursuit", "min-norm", "omp", "iht", "lasso"}
        ``"limit"``: :func:`flow_limit`; ``"descent"``: :func:`gradient_descent`;
        ``"flow"``: :func:`gradient_flow`;
        ``"basis-pursuit"``: :func:`basis_pursuit`; ``"min-norm"``: :func:`min_norm`;
        ``"omp"``/``"iht"``: :func:`omp`/:func:`iht` (greedy); ``"lasso"``: :func:`lasso`.
    **options
        Passed to the solver (e.g. ``depth``, ``alpha``).

    Returns
    -------
    RecoveryResult

    Examples
    --------
    >>> import numpy as np
    >>> import sparseflow
    >>> A = np.array([[1.0, 0.8, 0.0], [0.0, 0.8, 1.0]])
    >>> sparseflow.recover(A, [0.5, 0.5], method="limit", depth=3, alpha=1e-3).x.round(4)
    array([0.   , 0.625, 0.   ])
    """
    check_choice(method, "method", tuple(METHODS))
    solver = METHODS[method]
    try:
        return solver(A, y, **options)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise TypeError(f"method {method!r} got an unknown option: {exc}") from None
        raise
