"""The one result type every solver returns, and the finite set of reasons a solver stops."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["RecoveryResult", "SparseflowWarning", "StopReason"]


class SparseflowWarning(UserWarning):
    """Warning category for results that are usable but not what was asked for."""


class StopReason(enum.IntEnum):
    """Why a solver stopped. Users can branch on these values.

    ``CONVERGED`` is the only success (for noisy data with a noise level it means the discrepancy
    principle was met); every other value means the tolerance was not met, and the result holds
    the best answer found with a message saying what happened.

    - ``MAX_ITER``: the iteration (or time) budget ran out.
    - ``DIVERGED``: the loss grew without bound or became non-finite (step too large).
    - ``STAGNATED``: no progress over a window of iterations.
    - ``CALLBACK``: the user's callback asked to stop.
    - ``INFEASIBLE``: no solution of Az = y exists (for the non-negative model: no z ≥ 0).
    - ``PRECISION``: float64 cannot resolve the requested tolerance for these parameters.
    """

    CONVERGED = 0
    MAX_ITER = 1
    DIVERGED = 2
    STAGNATED = 3
    CALLBACK = 4
    INFEASIBLE = 5
    PRECISION = 6


@dataclass(eq=False)
class RecoveryResult:
    """Outcome of a sparse-recovery solver.

    Attributes
    ----------
    x : ndarray, shape (N,) or (N, B)
        The recovered signal (one column per problem when ``y`` had B columns).
    converged : bool
        True only when the stopping tolerance was met for every problem.
    status : StopReason
        Why the solver stopped (the worst reason over a batch).
    message : str
        A human-readable sentence explaining ``status``.
    n_iter : int
        Iterations performed (the maximum over a batch).
    time : float
        Wall-clock seconds spent in the solver.
    method : str
        Name of the solver that produced the result.
    residual_norm : float or ndarray
        ``‖A x − y‖₂`` per problem.
    history : dict of str to ndarray, optional
        Per-iteration traces (for example ``"loss"``), when requested.
    info : dict
        Solver-specific extras (step size used, per-problem status, ...).
    """

    x: np.ndarray
    converged: bool
    status: StopReason
    message: str
    n_iter: int
    time: float
    method: str
    residual_norm: float | np.ndarray
    history: dict[str, np.ndarray] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        """Alias of ``converged``, as in :class:`scipy.optimize.OptimizeResult`."""
        return self.converged

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.x.shape)
        res = np.max(np.atleast_1d(self.residual_norm))
        return (
            f"RecoveryResult(method={self.method!r}, x: {shape}, converged={self.converged}, "
            f"status={self.status.name}, n_iter={self.n_iter}, time={self.time:.3g}s, "
            f"residual={res:.3g}, message={self.message!r})"
        )
