"""Reading measurement matrices and vectors from files, safely.

Supported: ``.npy`` (never unpickled), ``.npz`` (a single array, or the key given after a colon:
``data.npz:A``), ``.mat`` (MATLAB, likewise ``file.mat:A``), ``.mtx`` (MatrixMarket, dense or
sparse) and ``.csv``/``.txt`` (comma- or whitespace-separated numbers).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
import scipy.sparse as sp

__all__ = ["SUPPORTED_SUFFIXES", "InputFileError", "load_array", "save_array"]

SUPPORTED_SUFFIXES = (".npy", ".npz", ".mat", ".mtx", ".csv", ".txt")


class InputFileError(ValueError):
    """A file could not be read as a numeric array; the message says which file and why."""


def _split_key(spec: str | os.PathLike[str]) -> tuple[Path, str | None]:
    text = os.fspath(spec)
    path = Path(text)
    if not path.exists() and ":" in text:
        head, key = text.rsplit(":", 1)
        if Path(head).suffix.lower() in (".npz", ".mat"):
            return Path(head), key
    return path, None


def load_array(spec: str | os.PathLike[str], name: str = "file") -> Any:
    """Load a numeric array (or scipy sparse matrix) from ``spec``.

    Parameters
    ----------
    spec : str or path
        A path, optionally ``path:key`` for ``.npz`` and ``.mat`` files with several arrays.
    name : str
        What the file holds, used in error messages (e.g. ``"--matrix"``).

    Returns
    -------
    ndarray or scipy sparse matrix

    Raises
    ------
    InputFileError
        Missing file, a directory, an unknown suffix, a pickled object, a corrupt or truncated
        file, or content that is not a real numeric array.
    """
    path, key = _split_key(spec)
    if not path.exists():
        raise InputFileError(f"{name}: no such file: {path}")
    if path.is_dir():
        raise InputFileError(f"{name}: {path} is a directory, expected a file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputFileError(
            f"{name}: unsupported file type {suffix or '(none)'!r} for {path}; expected one of "
            + ", ".join(SUPPORTED_SUFFIXES)
        )
    try:
        data = _read(path, suffix, key, name)
    except InputFileError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickle" in str(exc).lower():
            raise InputFileError(
                f"{name}: {path} holds pickled Python objects, which are never loaded "
                "(they can run arbitrary code); save a plain numeric array instead"
            ) from None
        raise InputFileError(f"{name}: cannot read {path}: {exc}") from None
    except Exception as exc:  # corrupt, truncated or foreign content
        raise InputFileError(f"{name}: cannot read {path} ({type(exc).__name__}: {exc})") from None
    if sp.issparse(data):
        if data.dtype.kind not in "biuf":
            raise InputFileError(f"{name}: {path} holds a {data.dtype} matrix, expected real")
        return data
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise InputFileError(
            f"{name}: {path} holds an array of dtype {arr.dtype}, expected real numbers"
        )
    return arr


def _read(path: Path, suffix: str, key: str | None, name: str) -> Any:
    if suffix == ".npy":
        with path.open("rb") as handle:
            if handle.read(6) != b"\x93NUMPY":
                raise InputFileError(f"{name}: {path} is not a .npy file (no NumPy header)")
        return np.load(path, allow_pickle=False)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            return _pick(dict(archive.items()), key, path, name)
    if suffix == ".mat":
        contents = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
        return _pick(contents, key, path, name)
    if suffix == ".mtx":
        return scipy.io.mmread(path)
    text = path.read_text()
    if not text.strip():
        raise InputFileError(f"{name}: {path} is empty, expected numbers")
    delimiter = "," if "," in text else None
    arr = np.loadtxt(path, delimiter=delimiter, ndmin=1)
    return arr


def _pick(contents: dict[str, Any], key: str | None, path: Path, name: str) -> Any:
    if key is not None:
        if key not in contents:
            raise InputFileError(
                f"{name}: {path} has no array {key!r}; it holds {sorted(contents)}"
            )
        return contents[key]
    if len(contents) != 1:
        raise InputFileError(
            f"{name}: {path} holds {len(contents)} arrays {sorted(contents)}; name one as "
            f"'{path}:KEY'"
        )
    return next(iter(contents.values()))


def save_array(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Save ``array`` to ``path`` (``.npy``, ``.csv``/``.txt`` or ``.mat``) and return the path.

    Raises
    ------
    InputFileError
        If the suffix is not supported or the file cannot be written.
    """
    out = Path(path)
    suffix = out.suffix.lower()
    try:
        if suffix == ".npy":
            np.save(out, array, allow_pickle=False)
        elif suffix in (".csv", ".txt"):
            np.savetxt(out, array, delimiter="," if suffix == ".csv" else " ")
        elif suffix == ".mat":
            scipy.io.savemat(out, {"x": array})
        else:
            raise InputFileError(
                f"--out: unsupported suffix {suffix!r}; use .npy, .csv, .txt or .mat"
            )
    except OSError as exc:
        raise InputFileError(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    return out
