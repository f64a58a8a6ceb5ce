"""Run an experiment spec on a local process pool, appending each finished trial to a store.

The store of an experiment is ``DIR/<name>.jsonl``: one JSON object per trial (all parameters of
its grid point, ``point``, ``trial``, ``seed``, the metrics, ``wall_time``), appended and flushed
as soon as the trial's task finishes. A run that is interrupted resumes where it stopped: trials
already in the store (same parameters, same trial index) are skipped. The tidy table
``DIR/<name>.csv`` (one row per trial, sorted) is written at the end.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from .._validation import check_positive_int
from .specs import ExperimentSpec
from .trials import TRIALS, trial_seed

__all__ = ["load_results", "run_spec"]

Task = tuple[str, int, dict[str, Any], list[int], int]


def _key(point: dict[str, Any], trial: int) -> str:
    return json.dumps({"p": point, "t": int(trial)}, sort_keys=True, default=str)


def _run_task(task: Task) -> list[dict[str, Any]]:
    """Run the trials of one grid point (in a worker process)."""
    trial_name, point_index, point, trial_indices, base_seed = task
    func = TRIALS[trial_name]
    rows = []
    for k in trial_indices:
        seed = trial_seed(base_seed, point, k)
        start = time.perf_counter()
        metrics = func(point, seed)
        rows.append(
            {
                **point,
                "point": point_index,
                "trial": k,
                "seed": seed,
                **metrics,
                "wall_time": time.perf_counter() - start,
            }
        )
    return rows


def _read_store(path: Path) -> list[dict[str, Any]]:
    """Rows of a store; a torn last line (the run was killed mid-write) is dropped."""
    if not path.exists():
        return []
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def _drop_torn_tail(path: Path) -> None:
    """Cut a last line without its newline (a killed write), so appended rows start clean."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)


def _tasks(spec: ExperimentSpec, done: set[str], chunk: int) -> Iterator[Task]:
    for index, point in enumerate(spec.points):
        todo = [k for k in range(spec.trials) if _key(point, k) not in done]
        for start in range(0, len(todo), chunk):
            yield (spec.trial, index, dict(point), todo[start : start + chunk], spec.base_seed)


def run_spec(
    spec: ExperimentSpec,
    out_dir: str | Path,
    *,
    workers: int = 2,
    chunk: int = 10,
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """Run every trial of ``spec`` not yet in the store; return the tidy table.

    Parameters
    ----------
    spec : ExperimentSpec
    out_dir : str or Path
        Folder of the store (created if needed).
    workers : int, default 2
        Worker processes; 1 runs in this process.
    chunk : int, default 10
        Trials of one grid point per task.
    progress : callable, optional
        Called as ``progress(done, total)`` after each finished task.

    Returns
    -------
    pandas.DataFrame
        One row per trial, sorted by grid point and trial; also written to ``<name>.csv``.
    """
    if not isinstance(spec, ExperimentSpec):
        raise TypeError(f"spec must be an ExperimentSpec, got {type(spec).__name__}")
    if spec.trial not in TRIALS:
        raise ValueError(f"spec {spec.name!r}: unknown trial {spec.trial!r}")
    workers = check_positive_int(workers, "workers")
    chunk = check_positive_int(chunk, "chunk")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    store = out / f"{spec.name}.jsonl"
    _drop_torn_tail(store)
    wanted = {_key(p, k) for p in spec.points for k in range(spec.trials)}
    existing = [r for r in _read_store(store) if _row_key(spec, r) in wanted]
    done = {_row_key(spec, r) for r in existing}
    tasks = list(_tasks(spec, done, chunk))
    total = spec.n_trials
    count = len(done)
    with store.open("a", encoding="utf-8") as fh:

        def record(rows: list[dict[str, Any]]) -> None:
            nonlocal count
            for row in rows:
                fh.write(json.dumps(row, default=_json_default) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
            count += len(rows)
            if progress is not None:
                progress(count, total)

        if workers == 1 or len(tasks) <= 1:
            for task in tasks:
                record(_run_task(task))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                pending: set[Future[list[dict[str, Any]]]] = set()
                queue = iter(tasks)
                for task in queue:
                    pending.add(pool.submit(_run_task, task))
                    if len(pending) >= 4 * workers:
                        break
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        record(fut.result())
                        nxt = next(queue, None)
                        if nxt is not None:
                            pending.add(pool.submit(_run_task, nxt))
    table = load_results(store, spec)
    table.to_csv(out / f"{spec.name}.csv", index=False)
    return table


def _row_key(spec: ExperimentSpec, row: dict[str, Any]) -> str:
    index = row.get("point")
    if not isinstance(index, int) or not 0 <= index < len(spec.points):
        return ""
    point = spec.points[index]
    # a row belongs to the point only if its parameters are the point's (a spec may have changed)
    if any(row.get(k) != v for k, v in point.items()):
        return ""
    return _key(point, int(row.get("trial", -1)))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def load_results(path: str | Path, spec: ExperimentSpec | None = None) -> Any:
    """Read a store (``.jsonl``) or table (``.csv``) into a DataFrame, one row per trial.

    With ``spec``, rows that do not belong to it are dropped and duplicates are removed.
    """
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'results tables need pandas; install it with: pip install "sparseflow[plot]"'
        ) from exc
    path = Path(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    rows = _read_store(path)
    if spec is not None:
        wanted = {_key(p, k) for p in spec.points for k in range(spec.trials)}
        seen: set[str] = set()
        kept = []
        for row in rows:
            key = _row_key(spec, row)
            if key in wanted and key not in seen:
                seen.add(key)
                kept.append(row)
        rows = kept
    df = pd.DataFrame(rows)
    if len(df) and {"point", "trial"} <= set(df.columns):
        df = df.sort_values(["point", "trial"], kind="stable").reset_index(drop=True)
    return df


def eta(done: int, total: int, elapsed: float) -> str:
    """A short progress string: done/total and the estimated time left."""
    if done == 0 or elapsed <= 0:
        return f"{done}/{total}"
    left = (total - done) * elapsed / done
    return f"{done}/{total}, about {math.ceil(left)} s left"
