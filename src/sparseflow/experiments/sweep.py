"""The sweep engine: run a spec's tasks on a Dask cluster (or in-process) into a results store.

A sweep expands a :class:`~sparseflow.experiments.sweepspec.SweepSpec` into tasks (groups of
trials), skips the tasks already in the store, and runs the rest:

- by default on a fresh ``distributed.LocalCluster`` of worker processes on 127.0.0.1, one thread
  each (and one BLAS thread each, through threadpoolctl, so workers do not oversubscribe cores);
- with ``scheduler="tcp://host:port"`` on an existing Dask cluster (sparseflow must be importable
  on its workers);
- with ``workers=0``, or when dask is not installed, serially in this process.

The client writes each task's rows to the store as soon as the task finishes (in completion
order), so an interrupted sweep (Ctrl-C, kill -9, a lost worker) loses at most the tasks in flight,
and a resumed sweep computes only the missing ones. Seeds depend on the grid point and trial index
only, so the stored results are bit-identical whatever the number of workers or the order of
completion (timing columns aside). At most a bounded window of tasks is submitted at a time, which
keeps the scheduler's and the client's memory small for sweeps of millions of trials.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._deps import available, require
from .store import ResultStore
from .sweepspec import SweepSpec, Task, load_spec, parse_spec, resolve_trial
from .trials import trial_seed

__all__ = ["SweepError", "SweepReport", "default_store", "run_sweep", "run_task"]

Echo = Callable[[str], None]


class SweepError(RuntimeError):
    """A task failed; the message names the task, its parameters and the cause."""


@dataclass(frozen=True)
class SweepReport:
    """What a call of :func:`run_sweep` did.

    Attributes
    ----------
    store : Path
        The results store.
    n_tasks, n_trials : int
        Size of the whole sweep.
    tasks_skipped : int
        Tasks found in the store (from an earlier, interrupted run) and not recomputed.
    tasks_run, trials_run : int
        Tasks and trials computed by this call.
    elapsed : float
        Wall-clock seconds spent running tasks (cluster start-up excluded).
    workers : int
        Worker threads used (0: serial in-process).
    dashboard : str or None
        The Dask dashboard address, if any.
    """

    store: Path
    n_tasks: int
    n_trials: int
    tasks_skipped: int
    tasks_run: int
    trials_run: int
    elapsed: float
    workers: int
    dashboard: str | None = None

    @property
    def trials_per_second(self) -> float:
        """Throughput of this call (0 if nothing ran)."""
        return self.trials_run / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def complete(self) -> bool:
        """Whether every task of the sweep is now in the store."""
        return self.tasks_skipped + self.tasks_run == self.n_tasks


def default_store(spec: SweepSpec) -> Path:
    """Where a sweep is stored when no store is given: ``results/sweeps/<name>``."""
    return Path("results") / "sweeps" / spec.name


def run_task(task: Task) -> list[dict[str, Any]]:
    """Run the trials of one task; return one row (a flat dict) per trial.

    Runs with one BLAS thread (when threadpoolctl is installed): parallelism comes from the
    workers, and a fixed thread count keeps floating-point reductions, hence results, identical.

    Examples
    --------
    >>> from sparseflow.experiments.sweepspec import parse_spec
    >>> spec = parse_spec({"trials": 2, "grid": {"n": 30, "m": 15, "s": 2},
    ...                    "solvers": {"bp": {"method": "basis-pursuit"}}})
    >>> rows = run_task(next(spec.tasks()))
    >>> [(r["trial"], r["solver"], r["success"]) for r in rows]
    [(0, 'bp', 1), (1, 'bp', 1)]
    """
    func = resolve_trial(task.trial)
    rows: list[dict[str, Any]] = []
    with _one_blas_thread():
        for index in range(task.start, task.stop):
            seed = trial_seed(task.base_seed, task.point, index)
            metrics = func(dict(task.params), seed)
            row: dict[str, Any] = {
                "task_id": task.task_id,
                "task_index": task.task_index,
                "trial": index,
                "seed": seed,
                **task.params,
            }
            if task.solver is not None:
                row["solver"] = task.solver
            clash = sorted(set(row) & set(metrics))
            if clash:
                raise ValueError(
                    f"trial {task.trial!r} returned metric {clash[0]!r}, which is also a "
                    "parameter or engine column; rename the metric"
                )
            row.update(metrics)
            rows.append(row)
    return rows


def run_sweep(
    spec: SweepSpec | Mapping[str, Any] | str | Path,
    store: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    resume: bool = False,
    progress: bool = True,
    max_in_flight: int | None = None,
    echo: Echo | None = None,
) -> SweepReport:
    """Run a sweep into a results store; resumable, parallel, reproducible.

    Parameters
    ----------
    spec : SweepSpec, mapping, or path to a TOML file
        The sweep (see :mod:`sparseflow.experiments.sweepspec`).
    store : str or Path, optional
        The store directory; default ``results/sweeps/<spec name>``.
    workers : int, optional
        Worker processes of the local cluster; default: the number of CPU cores. ``0`` runs
        serially in this process (also the fallback when dask is not installed).
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:port``); excludes ``workers``.
    client : distributed.Client, optional
        An existing client to use (Python API only); excludes ``workers`` and ``scheduler``.
    resume : bool, default False
        Continue a sweep whose store already holds some tasks: run only the missing ones. Without
        it, a store holding results is an error (results are never overwritten or mixed).
    progress : bool, default True
        Show a progress bar (tasks done/total, trials per second, ETA) and messages on stderr.
    max_in_flight : int, optional
        Tasks submitted at once; default twice the number of worker threads, plus 2.
    echo : callable, optional
        Receives one-line messages (dashboard address, interruption); default: stderr when
        ``progress`` is true, else silent.

    Returns
    -------
    SweepReport

    Raises
    ------
    SweepError
        If a task fails (the stored tasks are kept; fix the cause and resume).
    StoreError
        If the store holds another sweep, or results of this one without ``resume``.

    Notes
    -----
    Trial ``t`` at grid point ``p`` uses seed ``trial_seed(seed, p, t)``; tasks are identified by
    a hash of (trial function, base seed, grid point, solver configuration, trial range). Both are
    functions of the spec alone, so a store's contents do not depend on how it was computed.

    Examples
    --------
    >>> import tempfile
    >>> from sparseflow.experiments.store import load_results
    >>> spec = {"trials": 4, "task_size": 2, "grid": {"n": 30, "m": [10, 20], "s": 2},
    ...         "solvers": {"limit": {"depth": 3, "alpha": 1e-3}}}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     report = run_sweep(spec, tmp + "/store", workers=0, progress=False)
    ...     df = load_results(tmp + "/store")
    >>> report.tasks_run, len(df), list(df.columns[:8])
    (4, 8, ['task_id', 'task_index', 'trial', 'seed', 'm', 'n', 's', 'alpha'])
    """
    spec = _as_spec(spec)
    if echo is None:
        echo = _stderr if progress else _silent
    chosen = sum(x is not None for x in (workers, scheduler, client))
    if chosen > 1:
        raise ValueError("give at most one of workers, scheduler and client")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)):
        raise TypeError(f"workers must be an integer >= 0, got {workers!r}")
    if workers is not None and workers < 0:
        raise ValueError(f"workers must be an integer >= 0, got {workers}")
    if scheduler is not None and not isinstance(scheduler, str):
        raise TypeError(
            f"scheduler must be an address string like 'tcp://host:port', got {scheduler!r}"
        )
    if max_in_flight is not None and (not isinstance(max_in_flight, int) or max_in_flight < 1):
        raise ValueError(f"max_in_flight must be a positive integer, got {max_in_flight!r}")

    path = Path(store) if store is not None else default_store(spec)
    results = ResultStore(path)
    done = results.initialize(spec, resume=resume)
    pending = [task for task in spec.tasks() if task.task_id not in done]
    skipped = spec.n_tasks - len(pending)
    if skipped:
        echo(f"resuming: {skipped} of {spec.n_tasks} tasks already in {path}")

    no_dask = scheduler is None and client is None and not available("distributed")
    if no_dask and workers != 0 and pending:
        echo("dask is not installed: running serially (pip install 'sparseflow[dask]')")
    # Nothing left to run: no cluster to start.
    serial = workers == 0 or no_dask or not pending
    counter = _Counter()
    backend: contextlib.AbstractContextManager[tuple[Any, str | None]] = (
        contextlib.nullcontext((None, None))
        if serial
        else _dask_client(workers, scheduler, client, echo)
    )
    try:
        with backend as (dask_client, dashboard):
            n_workers = 0 if serial else sum(dask_client.nthreads().values())
            with _progress(spec, pending, skipped, enabled=progress) as bar:
                if serial:
                    stream = _run_serial(pending, results, bar)
                else:
                    window = max_in_flight or 2 * n_workers + 2
                    stream = _run_dask(dask_client, pending, results, bar, window)
                counter.consume(stream)
    except KeyboardInterrupt:
        echo(
            f"interrupted: {skipped + counter.tasks} of {spec.n_tasks} tasks are stored in "
            f"{path}; run again with --resume to finish"
        )
        raise
    return SweepReport(
        store=path,
        n_tasks=spec.n_tasks,
        n_trials=spec.n_trials,
        tasks_skipped=skipped,
        tasks_run=counter.tasks,
        trials_run=counter.trials,
        elapsed=counter.elapsed,
        workers=n_workers,
        dashboard=dashboard,
    )


class _Counter:
    """Consumes a task stream, counting tasks and trials and timing from the first submission."""

    def __init__(self) -> None:
        self.tasks = 0
        self.trials = 0
        self.elapsed = 0.0

    def consume(self, stream: Iterator[Task]) -> None:
        start = time.perf_counter()
        try:
            for task in stream:
                self.tasks += 1
                self.trials += task.n_trials
                self.elapsed = time.perf_counter() - start
        finally:
            self.elapsed = time.perf_counter() - start


def _as_spec(spec: SweepSpec | Mapping[str, Any] | str | Path) -> SweepSpec:
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, str | Path):
        return load_spec(spec)
    if isinstance(spec, Mapping):
        return parse_spec(spec)
    raise TypeError(f"spec must be a SweepSpec, a mapping or a path, got {type(spec).__name__}")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _silent(message: str) -> None:
    pass


_CONTROLLER: Any = None


def _one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    # Scanning the loaded BLAS libraries costs milliseconds: do it once per process.
    global _CONTROLLER
    if _CONTROLLER is None:
        if not available("threadpoolctl"):
            return contextlib.nullcontext()
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1)


def _store_task(results: ResultStore, task: Task, rows: list[dict[str, Any]]) -> None:
    if len(rows) != task.n_trials:
        raise SweepError(f"task {task.task_id} returned {len(rows)} rows, expected {task.n_trials}")
    results.write_task(task.task_id, rows)


def _task_failed(task: Task, exc: BaseException) -> SweepError:
    return SweepError(
        f"task {task.task_id} (parameters {dict(task.params)}, trials {task.start}.."
        f"{task.stop - 1}) failed: {type(exc).__name__}: {exc}; the finished tasks are stored, "
        "fix the cause and run again with --resume"
    )


def _run_serial(pending: list[Task], results: ResultStore, bar: _Progress) -> Iterator[Task]:
    for task in pending:
        try:
            rows = run_task(task)
        except Exception as exc:
            raise _task_failed(task, exc) from exc
        _store_task(results, task, rows)
        bar.task_done(task)
        yield task


def _run_dask(
    client: Any,
    pending: list[Task],
    results: ResultStore,
    bar: _Progress,
    window: int,
) -> Iterator[Task]:
    from distributed import as_completed

    queue = iter(pending)
    by_key: dict[str, Task] = {}

    def submit(task: Task) -> Any:
        future = client.submit(run_task, task, key=f"sparseflow-task-{task.task_id}", pure=False)
        by_key[future.key] = task
        return future

    first = [submit(task) for _, task in zip(range(window), queue, strict=False)]
    stream = as_completed(first)
    try:
        for future in stream:
            task = by_key.pop(future.key)
            try:
                rows = future.result()
            except Exception as exc:
                raise _task_failed(task, exc) from exc
            future.release()
            _store_task(results, task, rows)
            bar.task_done(task)
            following = next(queue, None)
            if following is not None:
                stream.add(submit(following))
            yield task
    finally:
        # Interrupted or failed: drop what is still queued or running; it was not stored.
        stream.clear()
        if by_key:
            with contextlib.suppress(Exception):
                client.cancel([client.futures[k] for k in list(by_key) if k in client.futures])


@contextlib.contextmanager
def _dask_client(
    workers: int | None, scheduler: str | None, client: Any, echo: Echo
) -> Iterator[tuple[Any, str | None]]:
    if client is not None:
        yield client, _dashboard(client)
        return
    distributed = require("distributed")
    if scheduler is not None:
        with distributed.Client(scheduler, timeout="30s") as remote:
            n = sum(remote.nthreads().values())
            echo(f"connected to {scheduler} ({n} worker threads)")
            yield remote, _dashboard(remote)
        return
    n_workers = workers if workers is not None else max(os.cpu_count() or 1, 1)
    one_thread = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    with warnings.catch_warnings(), _workers_ignore_sigint():
        # "Port 8787 is already in use": distributed then picks a free port, which we print.
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # Loopback only; the HTTP server runs even without bokeh (it then serves no plots).
            dashboard_address="127.0.0.1:8787",
            silence_logs=logging.ERROR,
            env=one_thread,
        )
    with cluster, distributed.Client(cluster) as local:
        dashboard = _dashboard(local)
        where = f"dashboard {dashboard}"
        if not available("bokeh"):
            where += " (its plots need: pip install bokeh)"
        echo(f"local Dask cluster: {n_workers} worker processes on 127.0.0.1, {where}")
        yield local, dashboard


@contextlib.contextmanager
def _workers_ignore_sigint() -> Iterator[None]:
    # Ctrl-C reaches the whole process group. Worker processes inherit an ignored SIGINT (it
    # survives exec), so only this process reacts: it stops submitting, keeps what is stored and
    # shuts the cluster down, instead of every worker printing a KeyboardInterrupt traceback.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _dashboard(client: Any) -> str | None:
    with contextlib.suppress(Exception):
        link = client.dashboard_link
        return str(link) if link else None
    return None


class _Progress:
    """A tqdm bar counting trials (rate = trials/s, ETA) with tasks done/total alongside."""

    def __init__(self, spec: SweepSpec, pending: list[Task], skipped: int, enabled: bool):
        self.total_tasks = spec.n_tasks
        self.tasks_done = skipped
        self.trials_done = 0
        self._bar: Any = None
        if enabled and available("tqdm"):
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=sum(t.n_trials for t in pending),
                unit="trial",
                desc=spec.name,
                file=sys.stderr,
                dynamic_ncols=True,
                smoothing=0.1,
            )
            self._show()

    def task_done(self, task: Task) -> None:
        self.tasks_done += 1
        self.trials_done += task.n_trials
        if self._bar is not None:
            self._show()
            self._bar.update(task.n_trials)

    def _show(self) -> None:
        self._bar.set_postfix_str(f"tasks {self.tasks_done}/{self.total_tasks}", refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@contextlib.contextmanager
def _progress(
    spec: SweepSpec, pending: list[Task], skipped: int, *, enabled: bool
) -> Iterator[_Progress]:
    bar = _Progress(spec, pending, skipped, enabled)
    try:
        yield bar
    finally:
        bar.close()
