"""The ``sparseflow sweep`` and ``sparseflow plot`` subcommands (argument parsing and summary only).

The work is done by :func:`sparseflow.experiments.sweep.run_sweep` and by the figure functions of
:mod:`sparseflow.experiments.figures`; these handlers translate arguments and print a summary.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

__all__ = ["PLOT_KINDS", "add_plot", "add_sweep"]

PLOT_KINDS = ("recovery", "phase", "gap", "cost")
EXIT_FAILED = 1
EXIT_USAGE = 2


def add_sweep(sub: argparse._SubParsersAction) -> None:
    """Add ``sparseflow sweep SPEC.toml [--workers N | --scheduler ADDR] [--store DIR]``."""
    p = sub.add_parser(
        "sweep",
        help="run a parameter sweep (TOML spec) on a local Dask cluster or an existing one",
        description=(
            "Run the sweep described by a TOML spec (grid, trial function, solvers, trials, seed). "
            "Each finished task is written to the store at once; an interrupted sweep continues "
            "with --resume and computes only the missing tasks. Results do not depend on the "
            "number of workers."
        ),
    )
    p.add_argument("spec", metavar="SPEC.toml", help="the sweep spec")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        "-w",
        type=int,
        default=None,
        metavar="N",
        help="worker processes of a local Dask cluster (default: CPU cores; 0: serial, no Dask)",
    )
    where.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        default=None,
        help="run on an existing Dask cluster (sparseflow must be installed on its workers)",
    )
    p.add_argument(
        "--store",
        metavar="DIR",
        default=None,
        help="results store directory (default results/sweeps/<spec name>)",
    )
    p.add_argument(
        "--resume", action="store_true", help="continue a sweep: run only the tasks not stored"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import SweepError, run_sweep

    if args.workers is not None and args.workers < 0:
        raise ValueError(f"--workers must be >= 0, got {args.workers}")
    try:
        report = run_sweep(
            args.spec,
            args.store,
            workers=args.workers,
            scheduler=args.scheduler,
            resume=args.resume,
            progress=not args.no_progress,
        )
    except SweepError as exc:
        print(f"sparseflow sweep: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except ImportError as exc:
        print(f"sparseflow sweep: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    where = f"{report.workers} workers" if report.workers else "serial"
    print(f"store       {report.store}")
    print(
        f"tasks       {report.tasks_run} run, {report.tasks_skipped} already stored, "
        f"{report.n_tasks} in the sweep"
    )
    print(
        f"trials      {report.trials_run} in {report.elapsed:.2f} s ({where}): "
        f"{report.trials_per_second:.1f} trials/s"
    )
    return 0 if report.complete else EXIT_FAILED


def add_plot(sub: argparse._SubParsersAction) -> None:
    """Add ``sparseflow plot STORE --kind recovery|phase|gap|cost [--out FILE]``."""
    p = sub.add_parser(
        "plot",
        help="draw a figure from a sweep's results store",
        description=(
            "Draw a figure from a sweep's results store (the figure functions of "
            "`sparseflow reproduce`)."
        ),
    )
    p.add_argument("store", metavar="STORE", help="results store directory of a sweep")
    p.add_argument("--kind", required=True, choices=PLOT_KINDS, help="which figure")
    p.add_argument(
        "--out", "-o", metavar="FILE", default=None, help="image file (default STORE/<kind>.png)"
    )
    p.add_argument(
        "--solver",
        action="append",
        metavar="NAME",
        default=None,
        help="only the trials of this solver table (repeatable); e.g. one solver for --kind phase",
    )
    p.set_defaults(handler=_cmd_plot)


def _cmd_plot(args: argparse.Namespace) -> int:
    from .store import load_results
    from .tables import BASIS_PURSUIT, with_l1_gap

    if not Path(args.store).is_dir():
        raise ValueError(f"STORE {args.store!r} is not a results store directory")
    out = Path(args.out) if args.out else Path(args.store) / f"{args.kind}.png"
    if out.is_dir():
        raise ValueError(f"--out: {out} is a directory, expected a file name")
    if not out.parent.is_dir():
        raise ValueError(f"--out: directory {out.parent} does not exist")
    try:
        frame = load_results(args.store)
        figures = importlib.import_module("sparseflow.experiments.figures")
    except ImportError as exc:
        print(f"sparseflow plot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if frame.empty:
        raise ValueError(f"store {args.store!r} holds no results yet")
    if args.solver:
        known = sorted(frame["solver"].dropna().unique()) if "solver" in frame.columns else []
        unknown = [name for name in args.solver if name not in known]
        if unknown:
            raise ValueError(f"--solver {unknown[0]!r} is not in the store; it has {known}")
        if args.kind == "gap":
            args.solver.extend(frame.loc[frame["method"] == BASIS_PURSUIT, "solver"].unique())
        frame = frame[frame["solver"].isin(args.solver)]
    solvers = sorted(frame["solver"].dropna().unique()) if "solver" in frame.columns else []
    if args.kind == "phase" and len(solvers) > 1:
        # a phase diagram averages over everything in the frame: pooling solvers would mislead
        raise ValueError(
            f"--kind phase draws one solver; the store has {solvers}: choose one with --solver"
        )
    if args.kind == "gap":
        frame = with_l1_gap(frame)
    drawn = getattr(figures, f"plot_{args.kind}")(frame)
    figure = drawn if hasattr(drawn, "savefig") else drawn.figure
    figure.savefig(out, dpi=150, bbox_inches="tight")
    print(f"wrote       {out}  ({len(frame)} trials)")
    return 0
