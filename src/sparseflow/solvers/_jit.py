"""Optional compiled descent loop (numba): the element-wise work of a step in one fused pass.

numba is an optional dependency (``pip install sparseflow[jit]``). The compiled loop is used by
:func:`sparseflow.gradient_descent` for one problem with a dense matrix; it works on the same
state as the numpy loop (:class:`sparseflow.solvers.descent._SharedFactors`), so the two engines
agree up to rounding. At small sizes it removes the cost of the dozen numpy calls per step (about
0.2 µs each), which at N = 200 is as much as the two matrix–vector products themselves.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

# What a segment of the compiled loop returns as its stop code.
CHECKPOINT, CONVERGED, DIVERGED = 0, 1, 2

_kernel: Callable[..., Any] | None = None
_failure: str | None = None  # why numba is installed but unusable, once found out


def available() -> bool:
    """Whether numba is installed (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def require() -> None:
    """Raise an ImportError that says how to install numba, if it is missing or broken."""
    if not available():
        raise ImportError(
            'engine="numba" needs numba: pip install "sparseflow[jit]" (or use engine="numpy")'
        )
    if _failure is not None:
        raise ImportError(f'engine="numba" is unavailable: {_failure} (use engine="numpy")')


def usable() -> bool:
    """Whether the compiled loop can run here: numba imports and compiles it (checked once).

    A numba that cannot be imported next to this numpy, or that fails to compile the loop, makes
    ``engine="auto"`` fall back to the numpy loop instead of failing.
    """
    global _failure
    if not available() or _failure is not None:
        return False
    try:
        kernel = descent_segment()
        # one step of depth 2 on a 1 × 2 problem: compiles the common signature, proves it runs
        A = np.ones((1, 2))
        state = np.full((2, 2), 0.5)
        y, x, x_prev, r, g = np.ones(1), np.zeros(2), np.zeros(2), np.zeros(1), np.zeros(2)
        kernel(A, A.T, y, state, state.copy(), 2, 0.1, 0, 1, False, 0.0, 1e300, x, x_prev, r, g)
    except Exception as exc:  # any failure of an optional accelerator
        _failure = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return False
    return True


def descent_segment() -> Callable[..., Any]:
    """The compiled loop, built on first use (compiling takes about a second, then is cached)."""
    global _kernel
    if _kernel is None:
        require()
        import numba  # optional dependency, imported on first use

        try:
            jit = numba.njit(cache=True, nogil=True)
            _kernel = jit(_segment)
        except Exception:  # pragma: no cover - unwritable cache directory
            _kernel = numba.njit(nogil=True)(_segment)
    return _kernel


def _segment(  # pragma: no cover - compiled by numba, which coverage cannot trace
    A: Any,
    At: Any,
    y: Any,
    state: Any,
    power: Any,
    depth: int,
    a: float,
    k0: int,
    k1: int,
    step_first: bool,
    target2: float,
    limit: float,
    x: Any,
    x_prev: Any,
    r: Any,
    g: Any,
) -> tuple[int, int, float]:
    """Iterations k0 … k1 of shared-factor descent, in place.

    Each iteration computes x = u^L − v^L (keeping the previous x in x_prev and u^(L−1) in
    power), r = Ax − y and ‖r‖², returns DIVERGED or CONVERGED when the checks of the numpy loop
    say so, returns CHECKPOINT at k1 before stepping, and otherwise steps: g = Aᵀr,
    u ← u − a u^(L−1) g, v ← v + a v^(L−1) g with a = ηL. With step_first, the step of
    iteration k0 (whose residual is in r) comes first.
    """
    n = x.shape[0]
    m = r.shape[0]
    signs = state.shape[0]
    weight = state if depth == 2 else power
    k = k0
    rn2 = 0.0
    stepping = step_first
    while True:
        if stepping:
            np.dot(At, r, g)
            for i in range(n):
                state[0, i] = state[0, i] - a * (weight[0, i] * g[i])
            if signs == 2:
                for i in range(n):
                    state[1, i] = state[1, i] + a * (weight[1, i] * g[i])
            k += 1
        stepping = True
        for i in range(n):
            x_prev[i] = x[i]
            total = 0.0
            for j in range(signs):
                u = state[j, i]
                p = u
                for _ in range(depth - 2):
                    p *= u
                power[j, i] = p
                total = total + p * u if j == 0 else total - p * u
            x[i] = total
        np.dot(A, x, r)
        rn2 = 0.0
        for i in range(m):
            ri = r[i] - y[i]
            r[i] = ri
            rn2 += ri * ri
        if not 0.5 * rn2 <= limit:
            return k, DIVERGED, rn2
        if rn2 <= target2:
            return k, CONVERGED, rn2
        if k >= k1:
            return k, CHECKPOINT, rn2
