"""Command-line interface: ``sparseflow recover``, ``sparseflow demo`` and friends.

The CLI is thin: it parses arguments, calls the library and prints a summary. User mistakes end
with a one-line message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from . import __version__
from .experiments.commands import add_plot, add_sweep
from .io import InputFileError, load_array, save_array

__all__ = ["build_parser", "main"]

EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], int]


def _add_recover(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recover",
        help="recover a sparse x from y = A x read from files",
        description=(
            "Recover a sparse x from measurements y = A x. Files may be .npy, .npz, .mat "
            "(name an array as FILE:KEY when there are several), .mtx (MatrixMarket) or .csv."
        ),
    )
    p.add_argument("--matrix", "-A", required=True, metavar="FILE", help="the m×N matrix A")
    p.add_argument(
        "--measurements", "-y", required=True, metavar="FILE", help="the measurements y (m,)"
    )
    p.add_argument(
        "--method",
        default="limit",
        help="limit (flow limit, default), descent (gradient descent), basis-pursuit, min-norm; "
        "and any other method listed by `sparseflow methods`",
    )
    p.add_argument("--depth", "-L", type=int, default=None, help="depth L of x = u^L − v^L")
    p.add_argument("--alpha", type=float, default=None, help="initial scale α (small: sparser)")
    p.add_argument("--max-iter", type=int, default=None, help="iteration bound")
    p.add_argument("--tol", type=float, default=None, help="relative residual tolerance")
    p.add_argument("--nonnegative", action="store_true", help="use the non-negative model x = u^L")
    p.add_argument(
        "--sparsity",
        "-s",
        type=int,
        default=None,
        metavar="K",
        help="number of non-zeros to select (omp, iht; required by iht)",
    )
    p.add_argument(
        "--noise-level",
        type=float,
        default=None,
        metavar="SIGMA",
        help="noise standard deviation σ: descent, omp and iht stop by the discrepancy principle "
        "(‖Ax − y‖ ≤ 1.1·σ·√m), lasso sets λ = σ·√(2 log N)·max‖a_j‖",
    )
    p.add_argument("--out", "-o", metavar="FILE", help="write x to .npy, .csv, .txt or .mat")
    p.set_defaults(handler=_cmd_recover)


# the name under which each greedy solver takes the sparsity level
_SPARSITY_OPTION = {"omp": "n_nonzero", "iht": "sparsity"}


def _cmd_recover(args: argparse.Namespace) -> int:
    from .solvers import METHODS, recover

    if args.method not in METHODS:
        raise ValueError(f"--method must be one of {', '.join(METHODS)}, got {args.method!r}")
    A = load_array(args.matrix, "--matrix")
    y = load_array(args.measurements, "--measurements")
    if not isinstance(y, np.ndarray):
        y = y.toarray()
    y = np.squeeze(y) if isinstance(y, np.ndarray) and y.ndim == 2 and 1 in y.shape else y
    options = {
        key: value
        for key, value in {
            "depth": args.depth,
            "alpha": args.alpha,
            "max_iter": args.max_iter,
            "tol": args.tol,
        }.items()
        if value is not None
    }
    if args.nonnegative:
        options["nonnegative"] = True
    if args.noise_level is not None:
        options["noise_level"] = args.noise_level
    if args.method == "iht" and args.sparsity is None:
        raise ValueError("--method iht needs --sparsity K (the number of non-zeros to keep)")
    if args.sparsity is not None:
        if args.method not in _SPARSITY_OPTION:
            raise ValueError(f"--sparsity applies to omp and iht, not to --method {args.method}")
        options[_SPARSITY_OPTION[args.method]] = args.sparsity
    if args.out:
        _check_writable(Path(args.out))
    result = recover(A, y, method=args.method, **options)
    x = result.x
    nnz = int(np.sum(np.abs(x) > 1e-6 * max(float(np.abs(x).max()), 1e-300)))
    residual = float(np.max(np.atleast_1d(result.residual_norm)))
    print(f"method      {result.method}")
    print(f"residual    {residual:.3e}  (‖Ax − y‖₂)")
    print(f"l1 norm     {float(np.abs(x).sum()):.6g}")
    print(f"nonzeros    {nnz}  (|x_i| > 1e-6 max|x|) of {x.shape[0]}")
    print(f"iterations  {result.n_iter}")
    print(f"time        {result.time:.3f} s")
    print(f"stop        {result.status.name}: {result.message}")
    if args.out:
        path = save_array(args.out, x)
        print(f"wrote       {path}")
    return 0 if result.converged else 1


def _check_writable(path: Path) -> None:
    if path.suffix.lower() not in (".npy", ".csv", ".txt", ".mat"):
        raise InputFileError(
            f"--out: unsupported suffix {path.suffix!r}; use .npy, .csv, .txt or .mat"
        )
    if path.is_dir():
        raise InputFileError(f"--out: {path} is a directory, expected a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputFileError(f"--out: directory {parent} does not exist")


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the main job: compressed sensing of a real ECG",
        description=(
            "Measure the PyWavelets ECG with 384 Gaussian projections and recover it in the db4 "
            "wavelet basis with the flow limit (L=3), gradient descent (L=2), basis pursuit and "
            "the minimum-ℓ2 solution. Writes figure.png, metrics.json and summary.md."
        ),
    )
    p.add_argument(
        "--out", default="results/demo", metavar="DIR", help="output folder (default results/demo)"
    )
    p.add_argument(
        "--image",
        action="store_true",
        help="instead: recover the camera image (128×128) from 27%% partial-DCT measurements "
        "(flow limit and ADMM basis pursuit); writes image.png and metrics.json",
    )
    p.set_defaults(handler=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.image:
        from .image_demo import run_image_demo

        out = args.out if args.out != "results/demo" else "results/image"
        run_image_demo(out)
        return 0
    from .demo import run_demo

    run_demo(args.out)
    return 0


def _add_methods(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("methods", help="list the recovery methods")
    p.set_defaults(handler=_cmd_methods)


_SUMMARIES = {
    "limit": "limit of the gradient flow (Newton on the dual), the method's answer",
    "descent": "gradient descent on the factors u, v of x = u^L - v^L",
    "flow": "exact gradient-flow trajectory x(t) (stiff ODE in the dual)",
    "basis-pursuit": "min ||z||_1 subject to Az = y (linear program, HiGHS)",
    "min-norm": "minimum-l2-norm solution A^+ y",
    "omp": "orthogonal matching pursuit (greedy; --sparsity or --noise-level)",
    "iht": "normalized iterative hard thresholding (needs --sparsity)",
    "lasso": "min 1/2 ||Ax - y||^2 + lambda ||x||_1 (noisy data; --noise-level sets lambda)",
}


def _cmd_methods(args: argparse.Namespace) -> int:
    from .solvers import METHODS

    for name, func in METHODS.items():
        print(f"{name:<15} {func.__name__:<18} {_SUMMARIES.get(name, '')}")
    return 0


def _add_reproduce(sub: argparse._SubParsersAction) -> None:
    from .experiments.specs import EXPERIMENTS

    p = sub.add_parser(
        "reproduce",
        help="run the paper's experiments: tables, figures and report.md",
        description=(
            "Run the experiments of THEORY §6 (recovery rate, ℓ1 gap, cost, phase transition, "
            "non-negative signals, noise), writing one table per experiment, figures and a "
            "report.md with each measured number beside its prediction. Resumes an interrupted run."
        ),
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        dest="size",
        action="store_const",
        const="quick",
        help="a few minutes on two cores (default)",
    )
    size.add_argument(
        "--full",
        dest="size",
        action="store_const",
        const="full",
        help="paper scale: at least 100 trials per point",
    )
    p.add_argument(
        "--out",
        default="results/reproduce",
        metavar="DIR",
        help="output folder (default results/reproduce)",
    )
    p.add_argument(
        "--only",
        action="append",
        choices=EXPERIMENTS,
        metavar="NAME",
        help=f"run only this experiment (repeatable): {', '.join(EXPERIMENTS)}",
    )
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.set_defaults(handler=_cmd_reproduce, size="quick")


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from .experiments.reproduce import reproduce

    reproduce(args.size, args.out, only=args.only, workers=args.workers)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sparseflow`` command."""
    parser = argparse.ArgumentParser(
        prog="sparseflow",
        description=(
            "Sparse recovery by gradient descent on overparameterized least squares: "
            "x = u^L − v^L from u = v = α, as α → 0 an approximately ℓ1-minimal solution of Ax = y."
        ),
    )
    parser.add_argument("--version", action="version", version=f"sparseflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in (_add_recover, _add_demo, _add_methods, add_sweep, add_plot, _add_reproduce):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 success, 1 not converged, 2 usage or input error).

    Unexpected exceptions (bugs) are not caught, so that their traceback reaches the report.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its message
        return int(exc.code or 0)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (InputFileError, ValueError, TypeError) as exc:
        print(f"sparseflow {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(
            f"sparseflow {args.command}: error: {exc.strerror or exc}: {exc.filename or ''}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except ArithmeticError as exc:
        print(
            f"sparseflow {args.command}: error: floating-point {type(exc).__name__} ({exc}); "
            "choose a depth and alpha of ordinary size (e.g. depth <= 10, alpha <= 1)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
