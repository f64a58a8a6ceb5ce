"""A catalogue of malformed inputs: each gets a specific exception (API) or exit code (CLI).

Every API entry must raise the named exception type with a message naming the argument; every
CLI entry must exit with a non-zero code and one line on stderr naming the option, never a
traceback. Data that cannot be fitted (inconsistent y, no non-negative solution) must never be
reported as converged.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import sparseflow
from sparseflow.cli import main
from sparseflow.io import InputFileError, load_array
from sparseflow.result import StopReason

RNG = np.random.default_rng(3)
A_OK = RNG.standard_normal((6, 12)) / np.sqrt(6)
Y_OK = A_OK @ np.eye(12)[0]

lim = sparseflow.flow_limit
gd = sparseflow.gradient_descent


def _with_nan(a: np.ndarray, value: float = np.nan) -> np.ndarray:
    b = a.copy()
    b.flat[3] = value
    return b


# (id, call, exception type, text the message must contain)
API_CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("A 3-D", lambda: lim(np.ones((2, 3, 4)), np.ones(2)), ValueError, "A must be 2-D"),
    ("A complex", lambda: lim(A_OK + 1j, Y_OK), TypeError, "A must be real"),
    ("A object dtype", lambda: lim(A_OK.astype(object), Y_OK), TypeError, "A must be"),
    ("A strings", lambda: lim([["a", "b"], ["c", "d"]], [1.0, 2.0]), TypeError, "A must be"),
    ("A ragged list", lambda: lim([[1.0, 2.0], [3.0]], [1.0, 2.0]), TypeError, "A"),
    ("A None", lambda: lim(None, Y_OK), TypeError, "A must be"),
    ("A empty", lambda: lim(np.ones((0, 4)), np.ones(0)), ValueError, "A must not be empty"),
    ("A NaN", lambda: lim(_with_nan(A_OK), Y_OK), ValueError, "A contains NaN"),
    ("A Inf", lambda: lim(_with_nan(A_OK, np.inf), Y_OK), ValueError, "A contains NaN"),
    ("A sparse complex", lambda: lim(sp.csr_matrix(A_OK + 1j), Y_OK), TypeError, "A must be"),
    ("m > N", lambda: lim(A_OK.T, np.ones(12)), ValueError, "m <= N"),
    ("y NaN", lambda: lim(A_OK, _with_nan(Y_OK)), ValueError, "y contains NaN"),
    ("y Inf", lambda: gd(A_OK, _with_nan(Y_OK, -np.inf)), ValueError, "y contains NaN"),
    ("y wrong length", lambda: lim(A_OK, np.ones(5)), ValueError, "y must have 6 rows"),
    ("y tiny scale", lambda: gd(A_OK, 1e-170 * Y_OK), ValueError, "y has entries of magnitude"),
    ("y huge scale", lambda: lim(A_OK, 1e200 * Y_OK), ValueError, "y has entries of magnitude"),
    ("A huge scale", lambda: gd(1e200 * A_OK, Y_OK), ValueError, "A has entries of magnitude"),
    (
        "A sparse tiny scale",
        lambda: lim(sp.csr_matrix(1e-170 * A_OK), Y_OK),
        ValueError,
        "A has entries of magnitude",
    ),
    ("engine unknown", lambda: gd(A_OK, Y_OK, engine="fortran"), ValueError, "engine"),
    ("y 3-D", lambda: lim(A_OK, np.ones((6, 1, 1))), ValueError, "y must be"),
    ("y complex", lambda: gd(A_OK, Y_OK + 1j), TypeError, "y must be real"),
    ("y object", lambda: lim(A_OK, Y_OK.astype(object)), TypeError, "y must be"),
    ("y empty", lambda: lim(A_OK, np.ones((6, 0))), ValueError, "y must not be empty"),
    ("y None", lambda: lim(A_OK, None), TypeError, "y must be"),
    ("alpha 0", lambda: lim(A_OK, Y_OK, alpha=0.0), ValueError, "alpha"),
    ("alpha negative", lambda: gd(A_OK, Y_OK, alpha=-1e-3), ValueError, "alpha"),
    ("alpha NaN", lambda: lim(A_OK, Y_OK, alpha=np.nan), ValueError, "alpha"),
    ("alpha vector length", lambda: lim(A_OK, Y_OK, alpha=np.ones(5)), ValueError, "length N=12"),
    (
        "alpha vector zero",
        lambda: gd(A_OK, Y_OK, alpha=np.r_[0.0, np.ones(11)]),
        ValueError,
        "alpha",
    ),
    ("alpha 2-D", lambda: lim(A_OK, Y_OK, alpha=np.ones((12, 1))), ValueError, "alpha"),
    ("alpha string", lambda: lim(A_OK, Y_OK, alpha="small"), TypeError, "alpha"),
    ("depth 0", lambda: lim(A_OK, Y_OK, depth=0), ValueError, "depth"),
    ("depth 2.5", lambda: gd(A_OK, Y_OK, depth=2.5), TypeError, "depth"),
    ("depth string", lambda: lim(A_OK, Y_OK, depth="3"), TypeError, "depth"),
    ("depth bool", lambda: lim(A_OK, Y_OK, depth=True), TypeError, "depth"),
    ("step 0", lambda: gd(A_OK, Y_OK, step=0.0), ValueError, "step"),
    ("step negative", lambda: gd(A_OK, Y_OK, step=-0.1), ValueError, "step"),
    ("step unknown word", lambda: gd(A_OK, Y_OK, step="fast"), ValueError, "step"),
    ("step inf", lambda: gd(A_OK, Y_OK, step=np.inf), ValueError, "step"),
    ("max_iter 0 descent", lambda: gd(A_OK, Y_OK, max_iter=0), ValueError, "max_iter"),
    ("max_iter -1 limit", lambda: lim(A_OK, Y_OK, max_iter=-1), ValueError, "max_iter"),
    ("max_iter float", lambda: lim(A_OK, Y_OK, max_iter=2.5), TypeError, "max_iter"),
    ("tol 0", lambda: lim(A_OK, Y_OK, tol=0.0), ValueError, "tol"),
    ("noise_level negative", lambda: gd(A_OK, Y_OK, noise_level=-1.0), ValueError, "noise_level"),
    (
        "step_schedule unknown",
        lambda: gd(A_OK, Y_OK, step_schedule="cosine"),
        ValueError,
        "step_schedule",
    ),
    (
        "stagnation_window 0",
        lambda: gd(A_OK, Y_OK, stagnation_window=0),
        ValueError,
        "stagnation_window",
    ),
    (
        "parametrization unknown",
        lambda: gd(A_OK, Y_OK, parametrization="deep"),
        ValueError,
        "parametrization",
    ),
    ("init without separate", lambda: gd(A_OK, Y_OK, init=np.ones(2)), ValueError, "init"),
    ("callback not callable", lambda: gd(A_OK, Y_OK, callback=3), TypeError, "callback"),
    (
        "unknown method",
        lambda: sparseflow.recover(A_OK, Y_OK, method="magic"),
        ValueError,
        "method",
    ),
    (
        "unknown option",
        lambda: sparseflow.recover(A_OK, Y_OK, method="limit", speed=2),
        TypeError,
        "unknown option",
    ),
    ("omp n_nonzero 0", lambda: sparseflow.omp(A_OK, Y_OK, n_nonzero=0), ValueError, "n_nonzero"),
    ("iht sparsity > N", lambda: sparseflow.iht(A_OK, Y_OK, sparsity=13), ValueError, "sparsity"),
    ("iht sparsity missing", lambda: sparseflow.iht(A_OK, Y_OK), TypeError, "sparsity"),
    ("lasso lam negative", lambda: sparseflow.lasso(A_OK, Y_OK, lam=-1.0), ValueError, "lam"),
    ("lasso lam word", lambda: sparseflow.lasso(A_OK, Y_OK, lam="big"), ValueError, "lam"),
    ("basis_pursuit tol 0", lambda: sparseflow.basis_pursuit(A_OK, Y_OK, tol=0), ValueError, "tol"),
]


@pytest.mark.parametrize(
    ("call", "exc", "text"), [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES]
)
def test_api_rejects_bad_input(call: Callable[[], Any], exc: type[Exception], text: str) -> None:
    with pytest.raises(exc) as info:
        call()
    assert text in str(info.value)
    assert "\n" not in str(info.value)


# --- files -----------------------------------------------------------------------------------


def _write_files(tmp: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    np.save(tmp / "A.npy", A_OK)
    np.save(tmp / "y.npy", Y_OK)
    files["A"], files["y"] = tmp / "A.npy", tmp / "y.npy"
    np.save(tmp / "AT.npy", A_OK.T)
    np.save(tmp / "y12.npy", np.ones(12))
    files["AT"], files["y12"] = tmp / "AT.npy", tmp / "y12.npy"
    np.save(tmp / "y_short.npy", Y_OK[:5])
    files["y_short"] = tmp / "y_short.npy"
    pickled = tmp / "pickled.npy"
    np.save(pickled, np.array([{"payload": 1}], dtype=object), allow_pickle=True)
    files["pickled"] = pickled
    raw_pickle = tmp / "raw_pickle.npy"
    raw_pickle.write_bytes(pickle.dumps({"a": 1}))
    files["raw_pickle"] = raw_pickle
    truncated = tmp / "truncated.npy"
    truncated.write_bytes((tmp / "A.npy").read_bytes()[:100])
    files["truncated"] = truncated
    corrupt = tmp / "corrupt.npy"
    corrupt.write_bytes(np.random.default_rng(0).bytes(300))
    files["corrupt"] = corrupt
    nan_csv = tmp / "nan.csv"
    nan_csv.write_text("1,2,3\n4,nan,6\n")
    files["nan_csv"] = nan_csv
    empty_csv = tmp / "empty.csv"
    empty_csv.write_text("")
    files["empty_csv"] = empty_csv
    np.save(tmp / "complex.npy", A_OK + 1j)
    files["complex"] = tmp / "complex.npy"
    np.save(tmp / "cube.npy", np.ones((6, 12, 2)))
    files["cube"] = tmp / "cube.npy"
    (tmp / "data.xyz").write_text("1 2 3")
    files["xyz"] = tmp / "data.xyz"
    np.savez(tmp / "two.npz", A=A_OK, y=Y_OK)
    files["npz_many"] = tmp / "two.npz"
    files["npz_key"] = Path(str(tmp / "two.npz") + ":B")
    (tmp / "adir").mkdir()
    files["dir"] = tmp / "adir"
    # inconsistent data for a rank-deficient A (two equal rows, different measurements)
    A_def = np.vstack([A_OK[:3], A_OK[:1]])
    np.save(tmp / "A_def.npy", A_def)
    np.save(tmp / "y_def.npy", np.array([1.0, 2.0, 3.0, -5.0]))
    files["A_def"], files["y_def"] = tmp / "A_def.npy", tmp / "y_def.npy"
    # no non-negative solution: A ≥ 0 entry-wise, y < 0
    np.save(tmp / "A_pos.npy", np.abs(A_OK))
    np.save(tmp / "y_neg.npy", -np.ones(6))
    files["A_pos"], files["y_neg"] = tmp / "A_pos.npy", tmp / "y_neg.npy"
    return files


FILE_CASES = [
    ("missing file", "missing", "no such file"),
    ("directory", "dir", "is a directory"),
    ("pickled object array", "pickled", "pickled"),
    ("raw pickle with .npy suffix", "raw_pickle", "raw_pickle.npy"),
    ("truncated npy", "truncated", "cannot read"),
    ("corrupt npy", "corrupt", "corrupt.npy"),
    ("unsupported suffix", "xyz", "unsupported file type"),
    ("empty csv", "empty_csv", "is empty"),
    ("missing npz key", "npz_key", "has no array 'B'"),
    ("npz with several arrays", "npz_many", "holds 2 arrays"),
]


@pytest.mark.parametrize(
    ("key", "text"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_loader_refuses_bad_files(tmp_path: Path, key: str, text: str) -> None:
    files = _write_files(tmp_path)
    path = files.get(key, tmp_path / "missing.npy")
    with pytest.raises(InputFileError) as info:
        load_array(path, "--matrix")
    assert text in str(info.value)


def test_pickled_file_is_never_unpickled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _write_files(tmp_path)

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pickle.load was called")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    with pytest.raises(InputFileError):
        load_array(files["pickled"], "--matrix")


# (id, argv built from the file table, text the one-line error must contain)
CLI_CASES: list[tuple[str, Callable[[dict[str, Path], Path], list[str]], str]] = [
    ("missing matrix", lambda f, t: ["-A", str(t / "nope.npy"), "-y", str(f["y"])], "--matrix"),
    ("matrix is a directory", lambda f, t: ["-A", str(f["dir"]), "-y", str(f["y"])], "directory"),
    ("pickled matrix", lambda f, t: ["-A", str(f["pickled"]), "-y", str(f["y"])], "pickled"),
    ("truncated matrix", lambda f, t: ["-A", str(f["truncated"]), "-y", str(f["y"])], "--matrix"),
    (
        "corrupt measurements",
        lambda f, t: ["-A", str(f["A"]), "-y", str(f["corrupt"])],
        "--measurements",
    ),
    ("unsupported suffix", lambda f, t: ["-A", str(f["xyz"]), "-y", str(f["y"])], "unsupported"),
    ("NaN in csv", lambda f, t: ["-A", str(f["nan_csv"]), "-y", str(f["y"])], "NaN"),
    ("complex matrix", lambda f, t: ["-A", str(f["complex"]), "-y", str(f["y"])], "complex"),
    ("3-D matrix", lambda f, t: ["-A", str(f["cube"]), "-y", str(f["y"])], "2-D"),
    ("empty csv", lambda f, t: ["-A", str(f["empty_csv"]), "-y", str(f["y"])], "is empty"),
    ("y wrong length", lambda f, t: ["-A", str(f["A"]), "-y", str(f["y_short"])], "y must have"),
    (
        "alpha negative",
        lambda f, t: ["-A", str(f["A"]), "-y", str(f["y"]), "--alpha", "-1"],
        "alpha",
    ),
    ("m > N (transposed)", lambda f, t: ["-A", str(f["AT"]), "-y", str(f["y12"])], "m <= N"),
    (
        "unknown method",
        lambda f, t: ["-A", str(f["A"]), "-y", str(f["y"]), "--method", "magic"],
        "--method",
    ),
    ("depth 0", lambda f, t: ["-A", str(f["A"]), "-y", str(f["y"]), "--depth", "0"], "depth"),
    (
        "iht needs a sparsity",
        lambda f, t: ["-A", str(f["A"]), "-y", str(f["y"]), "--method", "iht"],
        "sparsity",
    ),
    (
        "omp has no depth",
        lambda f, t: ["-A", str(f["A"]), "-y", str(f["y"]), "--method", "omp", "--depth", "3"],
        "unknown option",
    ),
    (
        "max-iter 0",
        lambda f, t: ["-A", str(f["A"]), "-y", str(f["y"]), "--max-iter", "0"],
        "max_iter",
    ),
    ("tol negative", lambda f, t: ["-A", str(f["A"]), "-y", str(f["y"]), "--tol", "-1"], "tol"),
    (
        "out in missing dir",
        lambda f, t: ["-A", str(f["A"]), "-y", str(f["y"]), "-o", str(t / "no" / "x.npy")],
        "--out",
    ),
    (
        "out is a directory",
        lambda f, t: ["-A", str(f["A"]), "-y", str(f["y"]), "-o", str(f["dir"])],
        "--out",
    ),
    (
        "out under a file",
        lambda f, t: ["-A", str(f["A"]), "-y", str(f["y"]), "-o", str(f["A"]) + "/x.npy"],
        "--out",
    ),
    (
        "out unsupported suffix",
        lambda f, t: ["-A", str(f["A"]), "-y", str(f["y"]), "-o", str(t / "x.pkl")],
        "--out",
    ),
]


@pytest.mark.parametrize("build", [c[1] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_rejects_bad_input(
    build: Callable[[dict[str, Path], Path], list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = _write_files(tmp_path)
    case = next(c for c in CLI_CASES if c[1] is build)
    code = main(["recover", *build(files, tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert case[2] in lines[0]


ARGPARSE_CASES = [
    ("missing --matrix", ["recover", "-y", "y.npy"]),
    ("depth 2.5", ["recover", "-A", "A.npy", "-y", "y.npy", "--depth", "2.5"]),
    ("alpha not a number", ["recover", "-A", "A.npy", "-y", "y.npy", "--alpha", "tiny"]),
    ("unknown subcommand", ["frobnicate"]),
]


@pytest.mark.parametrize("argv", [c[1] for c in ARGPARSE_CASES], ids=[c[0] for c in ARGPARSE_CASES])
def test_cli_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert "error:" in err.splitlines()[-1]


# --- data that cannot be fitted: never converged -----------------------------------------------


def test_inconsistent_rank_deficient_is_not_converged() -> None:
    A = np.vstack([A_OK[:3], A_OK[:1]])
    y = np.array([1.0, 2.0, 3.0, -5.0])  # rows 1 and 4 are equal, measurements differ
    for result in (
        sparseflow.flow_limit(A, y, depth=3, alpha=1e-2),
        sparseflow.flow_limit(A, y, depth=2, alpha=1e-2),
        sparseflow.gradient_descent(A, y, depth=2, alpha=1e-2, max_iter=3000),
    ):
        assert not result.converged
        assert np.all(np.isfinite(result.x))
    limit = sparseflow.flow_limit(A, y, depth=3, alpha=1e-2)
    assert limit.status is StopReason.INFEASIBLE
    assert "not in the range of A" in limit.message


@pytest.mark.parametrize("depth", [2, 3, 5])
def test_no_nonnegative_solution_is_infeasible(depth: int) -> None:
    A, y = np.abs(A_OK), -np.ones(6)
    # independent confirmation that the data admit no non-negative solution
    from scipy.optimize import linprog

    assert linprog(np.zeros(12), A_eq=A, b_eq=y, bounds=(0, None), method="highs").status == 2
    limit = sparseflow.flow_limit(A, y, depth=depth, alpha=1e-2, nonnegative=True, max_iter=200)
    assert not limit.converged
    assert limit.status is StopReason.INFEASIBLE
    assert np.all(np.isfinite(limit.x))
    descent = sparseflow.gradient_descent(
        A, y, depth=depth, alpha=1e-2, nonnegative=True, max_iter=20_000
    )
    assert not descent.converged
    assert descent.status in (StopReason.INFEASIBLE, StopReason.MAX_ITER)
    assert np.all(np.isfinite(descent.x))


def test_cli_infeasible_exits_nonzero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _write_files(tmp_path)
    code = main(["recover", "-A", str(files["A_pos"]), "-y", str(files["y_neg"]), "--nonnegative"])
    out = capsys.readouterr()
    assert code == 1
    assert "INFEASIBLE" in out.out
    assert "Traceback" not in out.err


def test_exhausted_budget_is_never_converged() -> None:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 50)) / np.sqrt(20)
    x = np.zeros(50)
    x[:3] = [1.0, -1.0, 0.5]
    y = A @ x
    for result in (
        sparseflow.gradient_descent(A, y, depth=3, alpha=1e-3, max_iter=5),
        sparseflow.flow_limit(A, y, depth=3, alpha=1e-3, max_iter=1),
        sparseflow.iht(A, y, sparsity=3, max_iter=1),
        sparseflow.lasso(A, y, max_iter=1),
        sparseflow.omp(A, y, n_nonzero=1),
    ):
        assert not result.converged
        assert result.status is not StopReason.CONVERGED


def test_catalogue_size() -> None:
    n = len(API_CASES) + len(FILE_CASES) + len(CLI_CASES) + len(ARGPARSE_CASES)
    assert n >= 30
