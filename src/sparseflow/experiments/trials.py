"""Trial functions: one random instance, one or more solvers, a flat dict of metrics.

A trial function has the signature ``trial(params, seed) -> dict``. ``params`` is one point of an
experiment's grid (plain JSON-like values); ``seed`` is derived from the experiment's base seed, the
grid point and the trial index by :func:`trial_seed`, never from the order of execution, so results
are identical whatever the number of workers.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..signals import gaussian_matrix, sparse_signal
from ..solvers import METHODS

__all__ = [
    "TRIALS",
    "cost_trial",
    "gap_trial",
    "make_instance",
    "noisy_trial",
    "recovery_trial",
    "register",
    "trial_seed",
]

TrialFunction = Callable[[Mapping[str, Any], int], dict[str, Any]]
TRIALS: dict[str, TrialFunction] = {}


def register(name: str) -> Callable[[TrialFunction], TrialFunction]:
    """Decorator adding a trial function to :data:`TRIALS` under ``name``."""

    def wrap(func: TrialFunction) -> TrialFunction:
        TRIALS[name] = func
        return func

    return wrap


def trial_seed(base_seed: int, point: Mapping[str, Any], trial: int) -> int:
    """A 63-bit seed determined by the base seed, the grid point and the trial index.

    The grid point is serialized canonically (sorted keys), hashed with BLAKE2b, and combined with
    the base seed and trial index through :class:`numpy.random.SeedSequence`.
    """
    text = json.dumps(dict(point), sort_keys=True, default=str)
    digest = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
    seq = np.random.SeedSequence([int(base_seed), digest, int(trial)])
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def make_instance(
    n: int, m: int, s: int, seed: int, values: str = "gaussian", noise: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The standard instance: A with N(0, 1/m) entries, s-sparse x*, y = A x* (+ σ·N(0, 1) noise).

    The matrix, the signal and the noise come from independent child streams of ``seed``.
    """
    rng_a, rng_x, rng_e = (
        np.random.default_rng(s_) for s_ in np.random.SeedSequence(seed).spawn(3)
    )
    A = gaussian_matrix(m, n, rng_a)
    x = sparse_signal(n, s, rng_x, values=values)
    y = A @ x
    if noise > 0:
        y = y + noise * rng_e.standard_normal(m)
    return A, x, y


@register("recovery")
def recovery_trial(params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """Recover one random instance with one solver and report error metrics.

    ``params`` keys: ``n``, ``m``, ``s`` (sizes), ``method`` (a key of
    :data:`sparseflow.solvers.METHODS`), optional ``values`` ("gaussian", "sign", "positive"),
    ``noise`` (σ), ``threshold`` (success when ‖x − x*‖₂ ≤ threshold·‖x*‖₂, default 1e-2), and any
    solver options (``depth``, ``alpha``, ``max_iter``, ``nonnegative`` ...).

    Returns
    -------
    dict
        ``rel_error``, ``success`` (0/1), ``l1_norm``, ``l1_true``, ``residual``, ``n_iter``,
        ``converged``, ``status``, ``time``.
    """
    p = dict(params)
    n, m, s = int(p.pop("n")), int(p.pop("m")), int(p.pop("s"))
    method = str(p.pop("method"))
    values = str(p.pop("values", "gaussian"))
    noise = float(p.pop("noise", 0.0))
    threshold = float(p.pop("threshold", 1e-2))
    A, x_true, y = make_instance(n, m, s, seed, values=values, noise=noise)
    start = time.perf_counter()
    result = METHODS[method](A, y, **p)
    elapsed = time.perf_counter() - start
    rel = float(np.linalg.norm(result.x - x_true)) / max(float(np.linalg.norm(x_true)), 1e-300)
    return {
        "rel_error": rel,
        "success": int(rel <= threshold),
        "l1_norm": float(np.abs(result.x).sum()),
        "l1_true": float(np.abs(x_true).sum()),
        "residual": float(result.residual_norm),
        "n_iter": int(result.n_iter),
        "converged": int(result.converged),
        "status": result.status.name,
        "time": elapsed,
    }


def _relative(x: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(x - ref)) / max(float(np.linalg.norm(ref)), 1e-300)


@register("gap")
def gap_trial(params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """ℓ1 gap of the flow's limit against basis pursuit, with the bound of THEORY §4.

    ``params`` keys: ``n``, ``m``, ``s``, ``depth``, ``alpha``; optional ``values``.

    Returns
    -------
    dict
        ``l1_limit``, ``l1_bp``, ``gap`` (= l1_limit − l1_bp), ``rel_gap`` (gap / l1_bp),
        ``bound`` (:func:`sparseflow.theory.l1_gap_bound`), ``residual`` (relative, of the
        limit), ``converged``, ``status``, ``time`` (of the limit solve).
    """
    from ..solvers import basis_pursuit, flow_limit
    from ..theory import l1_gap_bound

    n, m, s = int(params["n"]), int(params["m"]), int(params["s"])
    depth, alpha = int(params["depth"]), float(params["alpha"])
    A, _, y = make_instance(n, m, s, seed, values=str(params.get("values", "gaussian")))
    start = time.perf_counter()
    lim = flow_limit(A, y, depth=depth, alpha=alpha)
    elapsed = time.perf_counter() - start
    bp = basis_pursuit(A, y, tol=1e-10)
    l1_limit = float(np.abs(lim.x).sum())
    l1_bp = float(np.abs(bp.x).sum())
    return {
        "l1_limit": l1_limit,
        "l1_bp": l1_bp,
        "gap": l1_limit - l1_bp,
        "rel_gap": (l1_limit - l1_bp) / max(l1_bp, 1e-300),
        "bound": float(l1_gap_bound(l1_limit, n, depth, alpha)),
        "residual": float(lim.residual_norm) / max(float(np.linalg.norm(y)), 1e-300),
        "converged": int(lim.converged),
        "status": lim.status.name,
        "time": elapsed,
    }


@register("cost")
def cost_trial(params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """Cost of reaching a relative residual ``tol`` with descent, the exact flow or the limit.

    ``params`` keys: ``n``, ``m``, ``s``, ``method`` ("descent", "flow" or "limit"), ``depth``,
    ``alpha``; optional ``tol`` (default 1e-4) and ``max_iter`` (descent's bound, default 20000).
    The flow integrates until the relative residual is below ``tol`` (its ``stationary_tol``).

    Returns
    -------
    dict
        ``time`` (seconds), ``n_iter`` (iterations, integrator steps or Newton steps),
        ``converged``, ``status``, ``rel_error`` (to x*), ``residual`` (relative) and
        ``flow_time`` (the flow's time t at which the tolerance was met; NaN for the others).
    """
    from ..solvers import flow_limit, gradient_descent, gradient_flow

    n, m, s = int(params["n"]), int(params["m"]), int(params["s"])
    method, depth, alpha = str(params["method"]), int(params["depth"]), float(params["alpha"])
    tol = float(params.get("tol", 1e-4))
    A, x_true, y = make_instance(n, m, s, seed)
    flow_time = float("nan")
    start = time.perf_counter()
    if method == "descent":
        max_iter = int(params.get("max_iter", 20_000))
        res = gradient_descent(A, y, depth, alpha, tol=tol, max_iter=max_iter)
    elif method == "flow":
        res = gradient_flow(A, y, depth, alpha, times=[1e15], stationary_tol=tol)
        if res.info.get("stationary_at") is not None:
            flow_time = float(res.info["stationary_at"])
    elif method == "limit":
        res = flow_limit(A, y, depth=depth, alpha=alpha, tol=tol)
    else:
        raise ValueError(f"cost trial: method must be descent, flow or limit, got {method!r}")
    elapsed = time.perf_counter() - start
    y_norm = max(float(np.linalg.norm(y)), 1e-300)
    return {
        "time": elapsed,
        "n_iter": int(res.n_iter),
        "converged": int(float(res.residual_norm) <= tol * y_norm * (1 + 1e-9)),
        "status": res.status.name,
        "rel_error": _relative(res.x, x_true),
        "residual": float(res.residual_norm) / y_norm,
        "flow_time": flow_time,
    }


@register("noisy")
def noisy_trial(params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """Recovery from y = A x* + σ e: early-stopped descent, LASSO, or an interpolating solver.

    ``params`` keys: ``n``, ``m``, ``s``, ``noise`` (σ), ``method`` (a key of
    :data:`sparseflow.solvers.METHODS`), optional ``early_stop`` (for "descent": stop by the
    discrepancy principle ‖Ax − y‖ ≤ 1.1 σ √m, default True) and solver options (``depth``,
    ``alpha``, ``max_iter``). LASSO receives σ for its λ rule.

    Returns
    -------
    dict
        ``rel_error``, ``residual`` (absolute), ``n_iter``, ``status``, ``time``.
    """
    p = dict(params)
    n, m, s = int(p.pop("n")), int(p.pop("m")), int(p.pop("s"))
    method, noise = str(p.pop("method")), float(p.pop("noise"))
    early_stop = bool(p.pop("early_stop", True))
    A, x_true, y = make_instance(n, m, s, seed, noise=noise)
    if method == "lasso" or (method == "descent" and early_stop):
        p["noise_level"] = noise
    start = time.perf_counter()
    res = METHODS[method](A, y, **p)
    elapsed = time.perf_counter() - start
    return {
        "rel_error": _relative(res.x, x_true),
        "residual": float(res.residual_norm),
        "n_iter": int(res.n_iter),
        "status": res.status.name,
        "time": elapsed,
    }
