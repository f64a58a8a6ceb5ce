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

__all__ = ["TRIALS", "make_instance", "recovery_trial", "register", "trial_seed"]

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
