"""``sparseflow reproduce``: run the paper's experiments, write tables, figures and a report."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .._validation import check_choice, check_positive_int
from .local import eta, run_spec
from .report import write_report
from .specs import EXPERIMENTS, SIZES, build_specs

__all__ = ["reproduce"]


def reproduce(
    size: str = "quick",
    out_dir: str | Path = "results/reproduce",
    *,
    only: Iterable[str] | None = None,
    workers: int = 2,
    log: Callable[[str], Any] | None = print,
) -> Path:
    """Run the experiments of THEORY §6 and write ``report.md`` with figures and tables.

    Parameters
    ----------
    size : {"quick", "full"}, default "quick"
        ``"quick"``: a few minutes on two cores; ``"full"``: at least 100 trials per point.
    out_dir : str or Path, default "results/reproduce"
        Output folder. Finished trials already stored there are reused (an interrupted run
        resumes).
    only : iterable of str, optional
        Run only these experiments (names in :data:`~sparseflow.experiments.specs.EXPERIMENTS`).
    workers : int, default 2
        Worker processes.
    log : callable, optional
        Receives one line per experiment (default ``print``); None for silence.

    Returns
    -------
    Path
        The path of ``report.md``.
    """
    check_choice(size, "size", SIZES)
    workers = check_positive_int(workers, "workers")
    names = list(EXPERIMENTS) if only is None else list(only)
    for name in names:
        check_choice(name, "only", EXPERIMENTS)
    out = Path(out_dir)
    results = {}
    timings = {}
    for spec in build_specs(size, names):
        start = time.perf_counter()

        def progress(done: int, total: int, name: str = spec.name, t0: float = start) -> None:
            if log is not None and sys.stderr.isatty():
                print(
                    f"\r{name}: {eta(done, total, time.perf_counter() - t0)}   ",
                    end="",
                    file=sys.stderr,
                )

        df = run_spec(spec, out, workers=workers, progress=progress)
        timings[spec.name] = time.perf_counter() - start
        results[spec.name] = (spec, df)
        if log is not None:
            if sys.stderr.isatty():
                print(file=sys.stderr)
            log(
                f"{spec.name}: {len(df)} trials in {timings[spec.name]:.1f} s -> "
                f"{out / (spec.name + '.csv')}"
            )
    path = write_report(results, out, size=size, timings=timings)
    if log is not None:
        log(f"report: {path}")
    return path
