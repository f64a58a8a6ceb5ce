"""Throughput of the sweep engine: trials/s serially and on 1, 2, ... local Dask workers.

Runs the N = 100, s = 5 recovery sweep (examples/recovery.toml, optionally with fewer trials) into
fresh temporary stores and prints trials per second, the speed-up against one worker and the
engine's overhead per task, measured two ways in the same run:

- null trial: a trial that returns at once, one trial per task, so the time per task is all
  overhead (scheduling, transfer, writing one Parquet file);
- recovery: (time on one worker − time in-process serially) / number of tasks.

It also checks that every run stored the same results (timing columns aside). It prints; it never
fails on a number. Usage::

    python benchmarks/bench_sweep.py [--trials 20] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def null_trial(params: Any, seed: int) -> dict[str, Any]:
    """A trial that does no work: its cost is the engine's."""
    return {"value": float(seed % 1000)}


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the workers, once joined)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def cluster_cpu(workers: int) -> float:
    """CPU seconds to start and stop a local cluster with no work: subtracted from each run."""
    if workers == 0:
        return 0.0
    import distributed

    before = cpu_seconds()
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(lambda: None)
    return cpu_seconds() - before


def timed_sweep(spec: dict[str, Any], store: Path, workers: int) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds (start-up excluded) and the report of one sweep."""
    from sparseflow.experiments.sweep import run_sweep

    idle = cluster_cpu(workers)
    before = cpu_seconds()
    start = time.perf_counter()
    report = run_sweep(spec, store, workers=workers, progress=False)
    wall = time.perf_counter() - start
    return wall, cpu_seconds() - before - idle, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=None, help="trials per cell (default: spec)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--null-tasks", type=int, default=400)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per setting; the fastest counts"
    )
    args = parser.parse_args()

    from sparseflow.experiments.store import TIMING_COLUMNS, load_results

    with (ROOT / "examples" / "recovery.toml").open("rb") as handle:
        spec = tomllib.load(handle)
    if args.trials:
        spec["trials"] = args.trials
        spec["task_size"] = min(spec["task_size"], args.trials)
    null = {
        "name": "null",
        "trial": "bench_sweep:null_trial",
        "trials": args.null_tasks,
        "task_size": 1,
        "grid": {"k": 0},
    }
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # workers import bench_sweep
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    # Wall-clock figures need an idle machine; CPU figures hold on a shared one.
    with tempfile.TemporaryDirectory() as tmp:
        frames = {}
        results = {}
        cpu = {}
        for workers in [0, *args.workers]:
            runs = [
                timed_sweep(spec, Path(tmp) / f"rec-{workers}-{r}", workers)
                for r in range(args.repeat)
            ]
            wall, cpu[workers], report = min(runs, key=lambda run: run[2].elapsed)
            results[workers] = report
            frames[workers] = load_results(report.store).drop(columns=list(TIMING_COLUMNS))
            label = "serial" if workers == 0 else f"{workers} worker(s)"
            print(
                f"recovery  {label:<12} {report.trials_run} trials, {report.tasks_run} tasks: "
                f"{report.elapsed:7.2f} s running ({wall:.2f} s with start-up), "
                f"{report.trials_per_second:8.1f} trials/s; CPU {cpu[workers]:.2f} s"
            )
        base = results[args.workers[0]]
        for workers in args.workers[1:]:
            ratio = results[workers].trials_per_second / base.trials_per_second
            print(f"speed-up  {workers} vs {args.workers[0]} worker(s): {ratio:.2f}x")
        if 1 in results:
            per_task = (results[1].elapsed - results[0].elapsed) / results[1].tasks_run
            print(f"overhead  wall (1 worker − serial) / tasks: {1e3 * per_task:.2f} ms per task")
        for workers in args.workers:
            per_task = (cpu[workers] - cpu[0]) / results[workers].tasks_run
            print(
                f"overhead  CPU ({workers} worker(s) − serial) / tasks: "
                f"{1e3 * per_task:.2f} ms per task (all processes, start-up excluded)"
            )
        same = all(frames[w].equals(frames[0]) for w in frames)
        print(f"identical results across runs (timing aside): {same}")
        for workers in args.workers:
            wall, used, report = timed_sweep(null, Path(tmp) / f"null-{workers}", workers)
            print(
                f"null      {workers} worker(s): {report.tasks_run} one-trial tasks in "
                f"{report.elapsed:.2f} s: {1e3 * report.elapsed / report.tasks_run:.2f} ms wall, "
                f"{1e3 * used / report.tasks_run:.2f} ms CPU per task"
            )


if __name__ == "__main__":
    main()
