"""Shared plumbing of the solvers: input preparation and result assembly."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_measurements, check_scale
from ..operators import MeasurementOperator, as_operator
from ..result import RecoveryResult, StopReason

__all__ = ["Timer", "finish", "prepare"]


def prepare(A: Any, y: Any) -> tuple[MeasurementOperator, np.ndarray]:
    """Validate ``A`` and ``y``; return the operator and y as float64 (m,) or (m, B)."""
    op = as_operator(A)
    if op.kind == "dense":
        check_scale(op.toarray(), "A")
    elif op.kind == "sparse":
        assert op._sparse is not None
        check_scale(op._sparse.data, "A")
    return op, check_measurements(y, op.shape[0])


class Timer:
    """Wall-clock stopwatch started at construction."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def residual_norm(op: MeasurementOperator, x: np.ndarray, y: np.ndarray) -> float | np.ndarray:
    """‖Ax − y‖₂ per problem (a float for one problem, an array of B for a batch)."""
    r = op.matvec(x) - y
    if r.ndim == 1:
        return float(np.linalg.norm(r))
    return np.linalg.norm(r, axis=0)


def combine(results: list[RecoveryResult], method: str, elapsed: float) -> RecoveryResult:
    """Stack one-problem results into a batch result (the worst status wins)."""
    worst = max(results, key=lambda r: int(r.status) if not r.converged else -1)
    return RecoveryResult(
        x=np.column_stack([r.x for r in results]),
        converged=all(r.converged for r in results),
        status=StopReason.CONVERGED if all(r.converged for r in results) else worst.status,
        message=worst.message
        if len(results) == 1
        else f"{sum(r.converged for r in results)}/{len(results)} problems converged; "
        f"worst: {worst.message}",
        n_iter=max(r.n_iter for r in results),
        time=elapsed,
        method=method,
        residual_norm=np.array([float(r.residual_norm) for r in results]),
        info={
            "status": [r.status for r in results],
            "n_iter": [r.n_iter for r in results],
            "per_problem": [r.info for r in results],
        },
    )


def solve_columns(
    solve_one: Callable[[np.ndarray], RecoveryResult], y: np.ndarray, method: str, timer: Timer
) -> RecoveryResult:
    """Solve the one problem of a 1-D ``y``, or one problem per column of a 2-D ``y`` (stacked by
    :func:`combine`); the result's time is the whole call's."""
    if y.ndim == 2:
        return combine([solve_one(y[:, j]) for j in range(y.shape[1])], method, timer.elapsed())
    result = solve_one(y)
    result.time = timer.elapsed()
    return result


def finish(**kwargs: Any) -> RecoveryResult:
    """Build a :class:`RecoveryResult` (thin alias kept for symmetry across solvers)."""
    return RecoveryResult(**kwargs)
