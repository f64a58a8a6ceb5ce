"""File loading and the command line."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from sparseflow.cli import main
from sparseflow.io import InputFileError, load_array

from .conftest import make_problem


@pytest.fixture
def files(tmp_path):
    A, x, y = make_problem(60, 30, 3, seed=2)
    paths = {
        "npy": (tmp_path / "A.npy", tmp_path / "y.npy"),
        "npz": (tmp_path / "A.npz", tmp_path / "y.npz"),
        "mat": (tmp_path / "data.mat", None),
        "mtx": (tmp_path / "A.mtx", None),
        "csv": (tmp_path / "A.csv", tmp_path / "y.csv"),
    }
    np.save(paths["npy"][0], A)
    np.save(paths["npy"][1], y)
    np.savez(paths["npz"][0], A=A)
    np.savez(paths["npz"][1], y=y)
    scipy.io.savemat(paths["mat"][0], {"A": A, "y": y})
    scipy.io.mmwrite(paths["mtx"][0], sp.csr_matrix(A))
    np.savetxt(paths["csv"][0], A, delimiter=",")
    np.savetxt(paths["csv"][1], y, delimiter=",")
    return A, x, y, paths


def test_every_format_loads_the_same_matrix(files):
    A, _, y, paths = files
    assert np.array_equal(load_array(paths["npy"][0]), A)
    assert np.array_equal(load_array(paths["npz"][0]), A)
    assert np.array_equal(load_array(f"{paths['mat'][0]}:A"), A)
    assert np.allclose(load_array(paths["mtx"][0]).toarray(), A)
    assert np.allclose(load_array(paths["csv"][0]), A)
    assert np.allclose(load_array(paths["csv"][1]), y)


def test_pickled_npy_is_refused(tmp_path):
    path = tmp_path / "evil.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputFileError, match="pickled"):
        load_array(path)


@pytest.mark.parametrize(
    ("setup", "pattern"),
    [
        (lambda d: d / "missing.npy", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: (d / "x.bin").write_bytes(b"1") and d / "x.bin", "unsupported file type"),
        (
            lambda d: (d / "t.npy").write_bytes(b"\x93NUMPY\x01\x00garbage") and d / "t.npy",
            "cannot read",
        ),
    ],
)
def test_unreadable_files_get_one_clear_error(tmp_path, setup, pattern):
    with pytest.raises(InputFileError, match=pattern):
        load_array(setup(tmp_path))


def test_npz_with_several_arrays_needs_a_key(tmp_path):
    path = tmp_path / "two.npz"
    np.savez(path, a=np.ones(2), b=np.zeros(2))
    with pytest.raises(InputFileError, match="KEY"):
        load_array(path)
    assert np.array_equal(load_array(f"{path}:b"), np.zeros(2))


@pytest.mark.parametrize("fmt", ["npy", "npz", "csv"])
def test_cli_recover_writes_solution(files, fmt, tmp_path, capsys):
    A, x, y, paths = files
    out = tmp_path / "x.npy"
    code = main(
        [
            "recover",
            "--matrix",
            str(paths[fmt][0]),
            "--measurements",
            str(paths[fmt][1]),
            "--depth",
            "3",
            "--alpha",
            "1e-3",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    for word in ("residual", "l1 norm", "nonzeros", "time", "CONVERGED"):
        assert word in text
    assert np.allclose(np.load(out), x, atol=1e-4)


def test_cli_mat_and_mtx_inputs(files, tmp_path):
    A, x, y, paths = files
    np.save(tmp_path / "y.npy", y)
    assert (
        main(
            [
                "recover",
                "-A",
                f"{paths['mat'][0]}:A",
                "-y",
                f"{paths['mat'][0]}:y",
                "--method",
                "basis-pursuit",
            ]
        )
        == 0
    )
    assert main(["recover", "-A", str(paths["mtx"][0]), "-y", str(tmp_path / "y.npy")]) == 0


@pytest.mark.parametrize(
    ("extra", "pattern"),
    [
        (["--method", "nope"], "--method must be one of"),
        (["--alpha", "-1"], "alpha"),
        (["--depth", "0"], "depth"),
    ],
)
def test_cli_errors_are_one_line_without_traceback(files, extra, pattern, capsys):
    _, _, _, paths = files
    code = main(["recover", "-A", str(paths["npy"][0]), "-y", str(paths["npy"][1]), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert pattern in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_missing_file_and_bad_output(files, tmp_path, capsys):
    _, _, _, paths = files
    assert main(["recover", "-A", str(tmp_path / "none.npy"), "-y", str(paths["npy"][1])]) == 2
    assert "no such file" in capsys.readouterr().err
    code = main(
        [
            "recover",
            "-A",
            str(paths["npy"][0]),
            "-y",
            str(paths["npy"][1]),
            "--out",
            str(tmp_path / "no" / "dir" / "x.npy"),
        ]
    )
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_cli_help_and_version(capsys):
    import sparseflow

    assert main(["--help"]) == 0
    assert "recover" in capsys.readouterr().out
    assert main(["recover", "--help"]) == 0
    help_text = capsys.readouterr().out
    for option in ("--matrix", "--measurements", "--method", "--depth", "--alpha", "--out"):
        assert option in help_text
    assert main(["--version"]) == 0
    assert sparseflow.__version__ in capsys.readouterr().out
    assert main([]) == 2  # a command is required


def test_cli_methods_lists_solvers(capsys):
    assert main(["methods"]) == 0
    assert "basis-pursuit" in capsys.readouterr().out


def test_cli_greedy_and_noise_options(tmp_path, capsys):
    A, x, y = make_problem(80, 30, 3, seed=5)
    noisy = y + 0.01 * np.random.default_rng(0).standard_normal(y.shape)
    np.save(tmp_path / "A.npy", A)
    np.save(tmp_path / "y.npy", noisy)
    files = ["-A", str(tmp_path / "A.npy"), "-y", str(tmp_path / "y.npy")]
    out = tmp_path / "x.npy"
    assert (
        main(
            [
                "recover",
                *files,
                "--method",
                "omp",
                "--sparsity",
                "3",
                "-o",
                str(out),
                "--noise-level",
                "0.01",
            ]
        )
        == 0
    )
    assert np.flatnonzero(np.load(out)).tolist() == np.flatnonzero(x).tolist()
    assert main(["recover", *files, "--method", "descent", "--noise-level", "0.01"]) == 0
    assert "discrepancy" in capsys.readouterr().out
    assert main(["recover", *files, "--method", "iht"]) == 2
    assert "--sparsity" in capsys.readouterr().err
    assert main(["recover", *files, "--method", "limit", "--sparsity", "3"]) == 2
    assert "--sparsity applies to omp and iht" in capsys.readouterr().err


def test_cli_reports_numerical_overflow_and_bad_files_in_one_line(files, tmp_path, capsys):
    _, _, _, paths = files
    base = ["recover", "-A", str(paths["npy"][0]), "-y", str(paths["npy"][1])]
    assert main([*base, "--alpha", "1e300"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    (tmp_path / "text.npy").write_bytes(b"not numpy at all")
    assert main(["recover", "-A", str(tmp_path / "text.npy"), "-y", str(paths["npy"][1])]) == 2
    assert "no NumPy header" in capsys.readouterr().err
    # the output suffix is checked before the (possibly long) solve
    assert main([*base, "--out", str(tmp_path / "x.xyz")]) == 2
    assert "unsupported suffix" in capsys.readouterr().err
    assert not (tmp_path / "x.xyz").exists()
