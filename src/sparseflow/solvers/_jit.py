"""Optional compiled descent loops (numba): the element-wise work of a step in one fused pass.

numba is an optional dependency (``pip install sparseflow[jit]``). The compiled loops are used by
:func:`sparseflow.gradient_descent` with a dense matrix, for one problem (matrix–vector products)
or a batch sharing A (matrix–matrix products); they work on the same state as the numpy loops
(:class:`sparseflow.solvers.descent._SharedFactors`), so the engines agree up to rounding. At
small sizes they remove the cost of the dozen numpy calls per step (about 0.2 µs each for one
problem, a few µs each for a batch), which at N = 200 is as much as the products themselves.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

# What a segment of the compiled loop returns as its stop code.
CHECKPOINT, CONVERGED, DIVERGED = 0, 1, 2

_kernels: dict[str, Callable[..., Any]] = {}
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


def usable(batched: bool = False) -> bool:
    """Whether the compiled loop can run here: numba imports and compiles it (checked once).

    A numba that cannot be imported next to this numpy, or that fails to compile the loop, makes
    ``engine="auto"`` fall back to the numpy loop instead of failing.
    """
    global _failure
    if not available() or _failure is not None:
        return False
    name = "batched" if batched else "single"
    if name in _kernels:
        return True
    try:
        _probe_batched() if batched else _probe_single()
    except Exception as exc:  # any failure of an optional accelerator
        _kernels.pop(name, None)
        _failure = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return False
    return True


def _probe_single() -> None:
    """One step of depth 2 on a 1 × 2 problem: compiles the common signature, proves it runs."""
    A = np.ones((1, 2))
    state = np.full((2, 2), 0.5)
    y, x, r = np.ones(1), np.zeros(2), np.zeros(1)
    args = (state, state.copy(), 2, 0.1, 0, 1, False, 0.0, 1e300)
    _build("single")(A, A.T, y, *args, x, x.copy(), r, x.copy())


def _probe_batched() -> None:
    """The same for the batched loop, with one column."""
    A = np.ones((1, 2))
    state = np.full((2, 2, 1), 0.5)
    y, x, r, rn2 = np.ones((1, 1)), np.zeros((2, 1)), np.zeros((1, 1)), np.zeros(1)
    args = (state, state.copy(), 2, np.array([0.1]), 0, 1, np.zeros(1), np.full(1, 1e300))
    _build("batched")(A, A.T, y, *args, x, x.copy(), r, x.copy(), rn2)


def descent_segment() -> Callable[..., Any]:
    """The compiled loop for one problem, built on first use (about a second, then cached)."""
    return _build("single")


def batched_descent_segment() -> Callable[..., Any]:
    """The compiled loop for a batch of problems sharing A, built on first use."""
    return _build("batched")


def _build(name: str) -> Callable[..., Any]:
    if name not in _kernels:
        require()
        import numba  # optional dependency, imported on first use

        source = _segment if name == "single" else _batched_segment
        try:
            _kernels[name] = numba.njit(cache=True, nogil=True)(source)
        except Exception:  # pragma: no cover - unwritable cache directory
            _kernels[name] = numba.njit(nogil=True)(source)
    return _kernels[name]


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


def _batched_segment(  # pragma: no cover - compiled by numba, which coverage cannot trace
    A: Any,
    At: Any,
    Y: Any,
    state: Any,
    power: Any,
    depth: int,
    a: Any,
    k0: int,
    k1: int,
    target2: Any,
    limit2: Any,
    X: Any,
    X_prev: Any,
    R: Any,
    G: Any,
    rn2: Any,
) -> tuple[int, int]:
    """Iterations k0 … k1 of shared-factor descent on B problems (columns), in place.

    Each iteration copies X into X_prev, computes X = u^L − v^L (u^(L−1) into power),
    R = AX − Y and the squared column norms rn2. It returns before stepping when a problem
    diverges (not rn2 <= limit2) or converges (rn2 <= target2), with code DIVERGED or CONVERGED,
    or at k1 with CHECKPOINT; the caller sorts the problems out and takes that step itself.
    Otherwise it steps: G = AᵀR, u ← u − a_j u^(L−1) G, v ← v + a_j v^(L−1) G, with a_j = η_j L
    per problem. The first iteration computes X from the state as it is (no step first).
    """
    n, B = X.shape
    m = R.shape[0]
    signed = state.shape[0] == 2
    k = k0
    stepping = False
    while True:
        if stepping:
            np.dot(At, R, G)
            k += 1
        # One pass: the step of u and v (when stepping), then x = u^L − v^L and u^(L−1),
        # v^(L−1). The common cases get loops without branches, which the compiler vectorizes.
        if stepping and signed and depth == 2:
            for i in range(n):
                for j in range(B):
                    g = a[j] * G[i, j]
                    u = state[0, i, j]
                    v = state[1, i, j]
                    u = u - g * u
                    v = v + g * v
                    state[0, i, j] = u
                    state[1, i, j] = v
                    X_prev[i, j] = X[i, j]
                    X[i, j] = u * u - v * v
        elif stepping and signed and depth == 3:
            for i in range(n):
                for j in range(B):
                    g = a[j] * G[i, j]
                    u = state[0, i, j] - g * power[0, i, j]
                    v = state[1, i, j] + g * power[1, i, j]
                    state[0, i, j] = u
                    state[1, i, j] = v
                    pu = u * u
                    pv = v * v
                    power[0, i, j] = pu
                    power[1, i, j] = pv
                    X_prev[i, j] = X[i, j]
                    X[i, j] = pu * u - pv * v
        else:
            for i in range(n):
                for j in range(B):
                    u = state[0, i, j]
                    v = state[1, i, j] if signed else 0.0
                    if stepping:
                        g = a[j] * G[i, j]
                        u = u - g * (u if depth == 2 else power[0, i, j])
                        state[0, i, j] = u
                        if signed:
                            v = v + g * (v if depth == 2 else power[1, i, j])
                            state[1, i, j] = v
                    # u^(L−1) by repeated multiplication, as the numpy loop does for L ≤ 3
                    pu, pv = u, v
                    for _ in range(depth - 2):
                        pu *= u
                        pv *= v
                    if depth > 2:
                        power[0, i, j] = pu
                        if signed:
                            power[1, i, j] = pv
                    X_prev[i, j] = X[i, j]
                    X[i, j] = pu * u - pv * v if signed else pu * u
        stepping = True
        np.dot(A, X, R)
        for j in range(B):
            rn2[j] = 0.0
        for i in range(m):
            for j in range(B):
                rij = R[i, j] - Y[i, j]
                R[i, j] = rij
                rn2[j] += rij * rij
        code = CHECKPOINT
        for j in range(B):
            if not rn2[j] <= limit2[j]:
                return k, DIVERGED
            if rn2[j] <= target2[j]:
                code = CONVERGED
        if code == CONVERGED or k >= k1:
            return k, code
