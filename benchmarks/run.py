"""Benchmark sparseflow against its peers, as ratios measured side by side in one process.

Usage::

    python benchmarks/run.py                       # S1–S4 (what `make bench` runs)
    python benchmarks/run.py --sizes S1,S2         # what `make bench-quick` runs
    python benchmarks/run.py --sizes S2 --lp-max S3 --out results/bench.json

Instances: Gaussian A with N(0, 1/m) entries, an s-sparse x* with N(0, 1) values on a random
support, y = A x*, all seeded. BLAS is limited to one thread. Timings are CPU seconds of this
process (``--clock wall`` for wall time). The contenders run in turn within each round and every
timing is the minimum over the rounds (the median is stored too), so ratios are measured side by
side; on a shared machine the ratios are what to read, not absolute seconds.

Peers: basis pursuit as an LP (scipy ``linprog``, HiGHS), SPGL1 ``spg_bp`` with tolerances 1e-10,
scikit-learn's LARS-lasso path to the end (exact basis pursuit), a plain numpy gradient-descent
loop, and the hardware reference: one product with A and one with Aᵀ (vectors: two mat-vecs;
64 columns: two mat-mats). The mat-vec pair is issued from Python and, with numba installed, from
compiled code too; the descent targets are read against the cheaper of the two, and
gradient_descent, single and batched, is timed with each engine.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SIZES = {
    "S1": (200, 80, 10),
    "S2": (1000, 300, 30),
    "S3": (4000, 1000, 100),
    "S4": (10000, 2500, 250),
}
ORDER = list(SIZES)

# Settings the targets refer to.
LIMIT_DEPTH, LIMIT_ALPHA, LIMIT_TOL = 3, 1e-3, 1e-8
GD_DEPTH, GD_ALPHA, GD_TOL = 2, 1e-2, 1e-6
MIRROR_DEPTH, MIRROR_ALPHA, MIRROR_CLOSE = 3, 1e-2, 1e-3
BATCH = 64
# The clock of every timing: CPU time of this process by default. With one BLAS thread it equals
# wall time on an idle machine, and unlike wall time it does not count the time slices other
# processes take on a shared one (``--clock wall`` switches to wall time).
CLOCK: Callable[[], float] = time.process_time


def instance(size: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded (A, x*, y) for one of the sizes S1–S4."""
    n, m, s = SIZES[size]
    rng = np.random.default_rng([seed, n, m, s])
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x = np.zeros(n)
    x[rng.choice(n, s, replace=False)] = rng.standard_normal(s)
    return A, x, A @ x


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(min, median) wall time over ``repeat`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        start = CLOCK()
        out = fn()
        times.append(CLOCK() - start)
    return min(times), statistics.median(times), out


def accuracy(
    A: np.ndarray, y: np.ndarray, x: np.ndarray, x_true: np.ndarray, l1_ref: float
) -> dict:
    """Relative error to x*, relative ℓ1 gap to the reference basis-pursuit value, residual."""
    return {
        "rel_error": float(np.linalg.norm(x - x_true) / np.linalg.norm(x_true)),
        "l1_gap": float((np.abs(x).sum() - l1_ref) / l1_ref),
        "residual": float(np.linalg.norm(A @ x - y) / np.linalg.norm(y)),
    }


# --- peers ------------------------------------------------------------------------------------
def lp_highs(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    from scipy.optimize import linprog

    n = A.shape[1]
    res = linprog(np.ones(2 * n), A_eq=np.hstack([A, -A]), b_eq=y, bounds=(0, None), method="highs")
    return res.x[:n] - res.x[n:]


def spgl1_tight(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    from spgl1 import spg_bp

    x, *_ = spg_bp(
        A,
        y,
        bp_tol=1e-10,
        ls_tol=1e-10,
        opt_tol=1e-10,
        dec_tol=1e-10,
        iter_lim=100_000,
        verbosity=0,
    )
    return np.asarray(x)


def lasso_lars(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import lars_path

    _, _, coef = lars_path(A, y, method="lasso", alpha_min=0.0, return_path=False)
    return np.asarray(coef).ravel()


def plain_gd(A: np.ndarray, y: np.ndarray, step: float, max_iter: int) -> tuple[np.ndarray, int]:
    """A straightforward numpy loop: u ← u − 2η u⊙g, v ← v + 2η v⊙g, g = Aᵀ(Ax − y)."""
    u = np.full(A.shape[1], GD_ALPHA)
    v = u.copy()
    goal = GD_TOL * np.linalg.norm(y)
    for k in range(max_iter):
        x = u**2 - v**2
        r = A @ x - y
        if np.linalg.norm(r) <= goal:
            return x, k
        g = A.T @ r
        u = u - 2 * step * u * g
        v = v + 2 * step * v * g
    return u**2 - v**2, max_iter


def matvec_pair(A: np.ndarray, reps: int) -> None:
    """``reps`` bare pairs x ↦ A x, r ↦ Aᵀ r into preallocated buffers (the hardware floor).

    The method form ``A.dot(x, out)`` is the cheapest call from Python (``np.dot`` also passes
    numpy's array-function dispatch, 0.2 µs more per call).
    """
    m, n = A.shape
    x, r, g = np.ones(n), np.empty(m), np.empty(n)
    forward, backward = A.dot, A.T.dot
    for _ in range(reps):
        forward(x, r)
        backward(r, g)


def compiled_matvec_pair() -> Callable[[np.ndarray, int], None] | None:
    """The same pairs issued from numba-compiled code (no Python call overhead), if numba is here.

    This is the floor for the compiled descent loop: both call the same BLAS routine.
    """
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=True)
    def loop(
        A: np.ndarray, At: np.ndarray, x: np.ndarray, r: np.ndarray, g: np.ndarray, reps: int
    ) -> None:
        for _ in range(reps):
            np.dot(A, x, r)
            np.dot(At, r, g)

    def pair(A: np.ndarray, reps: int) -> None:
        m, n = A.shape
        loop(A, A.T, np.ones(n), np.empty(m), np.empty(n), reps)

    return pair


def matmat_pair(A: np.ndarray, reps: int) -> None:
    """The same with BATCH = 64 columns: two matrix–matrix products (GEMM)."""
    m, n = A.shape
    X, R, G = np.ones((n, BATCH)), np.empty((m, BATCH)), np.empty((n, BATCH))
    forward, backward = A.dot, A.T.dot
    for _ in range(reps):
        forward(X, R)
        backward(R, G)


# --- one size ---------------------------------------------------------------------------------
def bench_size(size: str, args: argparse.Namespace, log: Callable[[str], None]) -> dict:
    import sparseflow

    A, x_true, y = instance(size, args.seed)
    m, n = A.shape
    idx = ORDER.index(size)
    repeat = args.repeat or (5 if idx <= 1 else 3)
    out: dict[str, Any] = {"shape": [m, n], "s": SIZES[size][2], "repeat": repeat, "solvers": {}}
    solvers = out["solvers"]

    def record(name: str, t_min: float, t_med: float, x: np.ndarray | None, **extra: Any) -> None:
        solvers[name] = {"time": t_min, "time_median": t_med, **extra}
        if x is not None:
            solvers[name]["x"] = x
        log(f"  {size} {name:<22} {t_min:9.4f} s")

    # The exact basis-pursuit peers and flow_limit, interleaved round by round so that a busy
    # machine slows them alike.
    def limit() -> Any:
        return sparseflow.flow_limit(A, y, depth=LIMIT_DEPTH, alpha=LIMIT_ALPHA, tol=LIMIT_TOL)

    contenders: dict[str, Callable[[], Any]] = {}
    if idx <= ORDER.index(args.lp_max):
        contenders["lp_highs"] = lambda: lp_highs(A, y)
    if idx <= ORDER.index(args.peers_max):
        contenders["spgl1_tight"] = lambda: spgl1_tight(A, y)
        contenders["lasso_lars"] = lambda: lasso_lars(A, y)
    contenders["flow_limit"] = limit
    times: dict[str, list[float]] = {name: [] for name in contenders}
    last: dict[str, Any] = {}
    for round_ in range(repeat):
        for name, fn in contenders.items():
            if name == "lp_highs" and round_ >= max(1, repeat // 2):
                continue  # the LP is slow and steady: fewer rounds
            start = CLOCK()
            last[name] = fn()
            times[name].append(CLOCK() - start)
    for name in contenders:
        t_min, t_med = min(times[name]), statistics.median(times[name])
        if name == "flow_limit":
            res = last[name]
            record(name, t_min, t_med, res.x, n_iter=res.n_iter, converged=res.converged)
        else:
            record(name, t_min, t_med, last[name])

    # gradient descent to convergence, same step for sparseflow and the plain loop
    if idx <= ORDER.index(args.gd_max):
        # half the stability bound 2 / (L² ‖A‖² max|x|^(2−2/L)) at the solution (auto_step's
        # guess is more conservative, as it does not know max|x|)
        big = float(np.max(np.abs(x_true))) ** (2 - 2 / GD_DEPTH)
        step = 1.0 / (GD_DEPTH**2 * np.linalg.norm(A, 2) ** 2 * big)
        cap = args.gd_iter_cap

        def ours() -> Any:
            return sparseflow.gradient_descent(
                A, y, depth=GD_DEPTH, alpha=GD_ALPHA, tol=GD_TOL, step=step, max_iter=cap
            )

        t_min, t_med, res = timed(ours, max(1, repeat // 2))
        record("gradient_descent", t_min, t_med, res.x, n_iter=res.n_iter)
        t_min, t_med, (x_gd, k_gd) = timed(lambda: plain_gd(A, y, step, cap), max(1, repeat // 2))
        record("plain_numpy_gd", t_min, t_med, x_gd, n_iter=k_gd)

    # Cost per gradient-descent iteration against the hardware reference (the same number of bare
    # mat-vec / mat-mat pairs), interleaved round by round. Enough iterations (about 0.2 s of
    # products per probe, and at least 40) that the setup of a call, which reads A once or twice
    # to validate it, is not counted as iteration cost.
    iters = max(40, int(3e8 / (m * n)))
    b_iters = max(10, int(2e9 / (m * n * BATCH)))
    Y = np.column_stack([y * (1 + 0.01 * j) for j in range(BATCH)])
    common = {"depth": GD_DEPTH, "alpha": GD_ALPHA, "tol": 1e-300, "step": 1e-6}
    common["stagnation_window"] = None  # run exactly the requested number of iterations

    def single(engine: str) -> Callable[[], Any]:
        return lambda: sparseflow.gradient_descent(A, y, max_iter=iters, engine=engine, **common)

    def batch(engine: str) -> Callable[[], Any]:
        return lambda: sparseflow.gradient_descent(A, Y, max_iter=b_iters, engine=engine, **common)

    probes: dict[str, tuple[Callable[[], Any], int]] = {
        "pair": (lambda: matvec_pair(A, iters), iters),
        "gd_iteration_numpy": (single("numpy"), iters),
        "gemm_pair": (lambda: matmat_pair(A, b_iters), b_iters),
        "gd_batched_iteration_numpy": (batch("numpy"), b_iters),
    }
    compiled = compiled_matvec_pair()
    if compiled is not None:
        compiled(A, 1)  # compile outside the timings
        sparseflow.gradient_descent(A, y, max_iter=1, engine="numba", **common)
        probes["pair_compiled"] = (lambda: compiled(A, iters), iters)
        probes["gd_iteration_numba"] = (single("numba"), iters)
        sparseflow.gradient_descent(A, Y, max_iter=1, engine="numba", **common)
        probes["gd_batched_iteration_numba"] = (batch("numba"), b_iters)
    best = {name: np.inf for name in probes}
    for _ in range(max(3, repeat)):
        for name, (fn, count) in probes.items():
            start = CLOCK()
            outcome = fn()
            elapsed = CLOCK() - start
            if hasattr(outcome, "n_iter") and outcome.n_iter != count:
                raise RuntimeError(f"{name}: ran {outcome.n_iter} iterations, not {count}")
            best[name] = min(best[name], elapsed / count)
    out.update(best)
    # what engine="auto" runs, against the lowest floor measured
    out["gd_iteration"] = best.get("gd_iteration_numba", best["gd_iteration_numpy"])
    out["gd_batched_iteration"] = best.get(
        "gd_batched_iteration_numba", best["gd_batched_iteration_numpy"]
    )
    out["pair_floor"] = min(best["pair"], best.get("pair_compiled", np.inf))
    log(
        f"  {size} two mat-vecs {out['pair'] * 1e6:.2f} µs (compiled "
        f"{best.get('pair_compiled', np.nan) * 1e6:.2f}), descent iteration numpy "
        f"{out['gd_iteration_numpy'] * 1e6:.2f} µs, numba "
        f"{best.get('gd_iteration_numba', np.nan) * 1e6:.2f} µs; two mat-mats (B={BATCH}) "
        f"{out['gemm_pair'] * 1e3:.3f} ms, batched descent numpy "
        f"{out['gd_batched_iteration_numpy'] * 1e3:.3f} ms, numba "
        f"{best.get('gd_batched_iteration_numba', np.nan) * 1e3:.3f} ms"
    )

    # peak memory of a descent run beyond A itself (numpy reports its buffers to tracemalloc)
    tracemalloc.start()
    sparseflow.gradient_descent(A, y, depth=GD_DEPTH, alpha=GD_ALPHA, step=1e-6, max_iter=3)
    out["gd_peak_extra_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    out["a_mb"] = A.nbytes / 2**20

    # exact basis-pursuit reference for the accuracy columns
    ref_name = next((k for k in ("lp_highs", "spgl1_tight", "lasso_lars") if k in solvers), None)
    x_ref = solvers[ref_name]["x"] if ref_name else sparseflow.basis_pursuit(A, y).x
    out["l1_reference"] = ref_name or "basis_pursuit"
    l1_ref = float(np.abs(x_ref).sum())
    for entry in solvers.values():
        if "x" in entry:
            entry.update(accuracy(A, y, entry.pop("x"), x_true, l1_ref))
    return out


def bench_mirror(args: argparse.Namespace, log: Callable[[str], None]) -> dict:
    """Iterations to come within 1e-3 (relative) of flow_limit: mirror vs vanilla descent."""
    import sparseflow

    A, _, y = instance("S2", args.seed)
    lim = sparseflow.flow_limit(A, y, depth=MIRROR_DEPTH, alpha=MIRROR_ALPHA, tol=1e-12).x
    scale = float(np.linalg.norm(lim))
    l1_lim = float(np.abs(lim).sum())

    def close(x: np.ndarray) -> bool:
        return bool(np.linalg.norm(x - lim) <= MIRROR_CLOSE * scale)

    # mirror descent: smallest residual tolerance (in decades) whose result is close enough
    mirror = None
    for tol in (1e-3, 1e-4, 1e-5, 1e-6, 1e-7):
        mirror = sparseflow.mirror_descent(
            A, y, depth=MIRROR_DEPTH, alpha=MIRROR_ALPHA, tol=tol, max_iter=200_000
        )
        if close(mirror.x):
            break
    assert mirror is not None
    hit: list[int] = []

    def watch(k: int, x: np.ndarray) -> bool:
        if k % 10 == 0 and close(x):
            hit.append(k)
            return True
        return False

    start = CLOCK()
    vanilla = sparseflow.gradient_descent(
        A,
        y,
        depth=MIRROR_DEPTH,
        alpha=MIRROR_ALPHA,
        tol=1e-14,
        max_iter=args.vanilla_cap,
        callback=watch,
    )
    vanilla_time = CLOCK() - start
    out = {
        "mirror_iterations": mirror.n_iter,
        "mirror_time": mirror.time,
        "mirror_distance": float(np.linalg.norm(mirror.x - lim) / scale),
        "mirror_l1_gap_to_limit": float((np.abs(mirror.x).sum() - l1_lim) / l1_lim),
        "vanilla_iterations": hit[0] if hit else vanilla.n_iter,
        "vanilla_reached": bool(hit),
        "vanilla_time": vanilla_time,
        "vanilla_distance": float(np.linalg.norm(vanilla.x - lim) / scale),
        "vanilla_l1_gap_to_limit": float((np.abs(vanilla.x).sum() - l1_lim) / l1_lim),
        "vanilla_step": vanilla.info["step"],
    }
    log(
        f"  S2 mirror_descent {out['mirror_iterations']} iterations; vanilla descent "
        f"{'' if hit else '> '}{out['vanilla_iterations']}"
    )
    return out


# --- report -----------------------------------------------------------------------------------
def targets(results: dict) -> list[dict]:
    rows: list[dict] = []

    def add(name: str, size: str, value: float | None, goal: str, ok: bool | None) -> None:
        rows.append({"target": name, "size": size, "value": value, "goal": goal, "met": ok})

    sizes = results["sizes"]
    for size in ("S3", "S4"):
        sv = sizes.get(size, {}).get("solvers", {})
        if "flow_limit" in sv and "spgl1_tight" in sv:
            v = sv["flow_limit"]["time"] / sv["spgl1_tight"]["time"]
            add("flow_limit time / SPGL1-tight", size, v, "<= 1.0", v <= 1.0)
    sv = sizes.get("S2", {}).get("solvers", {})
    if "flow_limit" in sv and "lp_highs" in sv:
        v = sv["lp_highs"]["time"] / sv["flow_limit"]["time"]
        add("HiGHS LP time / flow_limit", "S2", v, ">= 40", v >= 40)
    for size, res in sizes.items():
        goal = 1.5 if size == "S1" else 1.15
        floor = res.get("pair_floor", res["pair"])
        v = res["gd_iteration"] / floor
        engine = "numba" if "gd_iteration_numba" in res else "numpy"
        add(f"descent iteration ({engine}) / two mat-vecs", size, v, f"<= {goal}", v <= goal)
        if engine == "numba":  # the numpy loop for the record, against the Python-issued pair
            v = res["gd_iteration_numpy"] / res["pair"]
            add("descent iteration (numpy) / two mat-vecs", size, v, f"({goal})", None)
    for size, res in sizes.items():
        engine = "numba" if "gd_batched_iteration_numba" in res else "numpy"
        v = res["gemm_pair"] / res["gd_batched_iteration"]
        label = f"batched descent ({BATCH}, {engine}) share of GEMM rate"
        add(label, size, v, ">= 0.70", v >= 0.70)
        if engine == "numba":
            v = res["gemm_pair"] / res["gd_batched_iteration_numpy"]
            add(f"batched descent ({BATCH}, numpy) share of GEMM rate", size, v, "(0.70)", None)
    for size, res in sizes.items():
        v = res["gd_peak_extra_mb"]
        add(f"descent peak memory beyond A ({res['a_mb']:.0f} MB), MB", size, v, "<= 50", v <= 50)
    mir = results.get("mirror")
    if mir:
        v = mir["vanilla_iterations"] / max(mir["mirror_iterations"], 1)
        label = "vanilla / mirror iterations to 1e-3 of limit"
        if not mir["vanilla_reached"]:
            label += " (vanilla capped: lower bound)"
        add(label, "S2", v, ">= 10", v >= 10)
    return rows


def fmt(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.3g}" if abs(v) >= 1e-3 else f"{v:.1e}"


def print_report(results: dict) -> None:
    clock = "CPU" if results.get("clock") == "cpu" else "wall"
    print(f"\n## Solvers ({clock} time, min over rounds; ratio = flow_limit time / peer time)\n")
    print("| size | solver | time (s) | flow_limit ÷ this | rel. error to x* | ℓ1 gap | residual |")
    print("|---|---|---|---|---|---|---|")
    for size, res in results["sizes"].items():
        sv = res["solvers"]
        t_lim = sv["flow_limit"]["time"]
        for name, e in sv.items():
            ratio = t_lim / e["time"]
            print(
                f"| {size} | {name} | {e['time']:.4g} | {ratio:.3g} | {fmt(e.get('rel_error'))} | "
                f"{fmt(e.get('l1_gap'))} | {fmt(e.get('residual'))} |"
            )
    gd_rows = [
        (size, res["solvers"]["gradient_descent"], res["solvers"]["plain_numpy_gd"])
        for size, res in results["sizes"].items()
        if "gradient_descent" in res["solvers"]
    ]
    if gd_rows:
        print("\n## Gradient descent to residual 1e-6 (L = 2, α = 1e-2, same step)\n")
        print("| size | iterations | sparseflow (s) | plain numpy (s) | sparseflow ÷ plain |")
        print("|---|---|---|---|---|")
        for size, ours, plain in gd_rows:
            print(
                f"| {size} | {ours['n_iter']} | {ours['time']:.4g} | {plain['time']:.4g} | "
                f"{ours['time'] / plain['time']:.3g} |"
            )
    mir = results.get("mirror")
    if mir:
        print(
            f"\n## Implicit bias at S2 (L = {MIRROR_DEPTH}, α = {MIRROR_ALPHA}): distance to "
            "flow_limit relative to its norm, ℓ1 gap relative to its ℓ1 norm\n"
        )
        print("| method | iterations | distance to limit | ℓ1 gap to limit |")
        print("|---|---|---|---|")
        print(
            f"| mirror_descent (L-BFGS on the dual) | {mir['mirror_iterations']} | "
            f"{fmt(mir['mirror_distance'])} | {fmt(mir['mirror_l1_gap_to_limit'])} |"
        )
        more = "" if mir["vanilla_reached"] else "> "
        print(
            f"| gradient_descent (constant step {mir['vanilla_step']:.2g}) | "
            f"{more}{mir['vanilla_iterations']} | {fmt(mir['vanilla_distance'])} | "
            f"{fmt(mir.get('vanilla_l1_gap_to_limit'))} |"
        )
    print("\n## Targets (issue 5), each a ratio from this run\n")
    print("| target | size | value | goal | met |")
    print("|---|---|---|---|---|")
    for row in results["targets"]:
        met = {True: "yes", False: "**no**", None: "—"}[row["met"]]
        print(f"| {row['target']} | {row['size']} | {fmt(row['value'])} | {row['goal']} | {met} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S1,S2,S3,S4", help="comma-separated subset of S1–S4")
    parser.add_argument("--repeat", type=int, default=0, help="timing repeats (0: by size)")
    parser.add_argument("--lp-max", default="S2", choices=ORDER, help="largest size for the LP")
    parser.add_argument("--peers-max", default="S4", choices=ORDER, help="largest for SPGL1/LARS")
    parser.add_argument("--gd-max", default="S2", choices=ORDER, help="largest for descent runs")
    parser.add_argument("--gd-iter-cap", type=int, default=50_000)
    parser.add_argument(
        "--vanilla-cap",
        type=int,
        default=100_000,
        help="iteration cap of vanilla descent in the mirror comparison",
    )
    parser.add_argument("--no-mirror", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clock", default="cpu", choices=["cpu", "wall"])
    parser.add_argument("--out", default="results/bench.json")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {ORDER}")

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("benchmarks need the [bench] extra: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    threadpool_limits(1)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    import sparseflow

    results: dict[str, Any] = {
        "command": " ".join(["python", "benchmarks/run.py", *(argv or sys.argv[1:])]),
        "sparseflow": sparseflow.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "blas_threads": 1,
        "clock": args.clock,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sizes": {},
    }
    for size in sizes:
        log(f"[{size}] N, m, s = {SIZES[size]}")
        results["sizes"][size] = bench_size(size, args, log)
    if not args.no_mirror and "S2" in sizes:
        results["mirror"] = bench_mirror(args, log)
    results["targets"] = targets(results)
    print_report(results)
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=float))
    log(f"results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
