"""Results store of a sweep: a directory of Parquet files, one per finished task.

Layout::

    STORE/
      manifest.json          the spec (as data) and its hash: a resume checks it is the same sweep
      tasks/<task_id>.parquet  one row per trial of that task

Each task file is written to a temporary name in the same directory, flushed to disk and then
renamed over its final name with :func:`os.replace`, which is atomic on POSIX: a reader (or a
resumed sweep) sees a task either complete or not at all, even if the writer is killed mid-write.
Leftover temporary files are ignored and removed when the store is opened for writing.

Reading concatenates all task files into one pandas DataFrame, deduplicated by (task id, trial) and
sorted by (task index, trial), so the result does not depend on the order in which tasks finished.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..result import SparseflowWarning
from ._deps import require

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .sweepspec import SweepSpec

__all__ = ["TIMING_COLUMNS", "ResultStore", "StoreError", "load_results"]

FORMAT = "sparseflow-sweep/1"
MANIFEST = "manifest.json"
TASKS = "tasks"
_SUFFIX = ".parquet"
_TMP_PREFIX = ".tmp-"

#: Columns that measure time: they differ between runs; every other column is reproducible.
TIMING_COLUMNS = ("time",)


class StoreError(ValueError):
    """The store directory is not a sweep store, or belongs to a different sweep."""


class ResultStore:
    """A sweep's results store rooted at ``path``.

    Parameters
    ----------
    path : str or Path
        The store directory (created by :meth:`initialize`).

    Examples
    --------
    >>> import tempfile
    >>> from sparseflow.experiments.sweepspec import parse_spec
    >>> spec = parse_spec({"trials": 2, "grid": {"n": 20, "m": 10, "s": 1},
    ...                    "solvers": {"limit": {}}})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     store = ResultStore(tmp + "/store")
    ...     already_done = store.initialize(spec)
    ...     task = next(spec.tasks())
    ...     path = store.write_task(task.task_id, [{"task_id": task.task_id, "task_index": 0,
    ...                                      "trial": t, "x": 1.5 * t} for t in range(2)])
    ...     sorted(store.completed()) == [task.task_id], store.read()["x"].tolist()
    (True, [0.0, 1.5])
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def tasks_dir(self) -> Path:
        """Directory holding one Parquet file per finished task."""
        return self.path / TASKS

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or None if the directory holds no sweep store."""
        file = self.path / MANIFEST
        if not file.is_file():
            return None
        try:
            data = json.loads(file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"store {str(self.path)!r}: unreadable {MANIFEST}: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise StoreError(f"store {str(self.path)!r}: {MANIFEST} is not a {FORMAT} manifest")
        return data

    def initialize(self, spec: SweepSpec, *, resume: bool = False) -> set[str]:
        """Prepare the store for ``spec`` and return the ids of the tasks already stored.

        A new (absent or empty) directory gets a manifest. An existing store is reused only with
        ``resume=True`` and only if its manifest records the same spec hash; otherwise
        :class:`StoreError` says why, so results of two different sweeps are never mixed.
        """
        manifest = self.manifest()
        if manifest is None:
            if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
                raise StoreError(
                    f"store {str(self.path)!r} exists and is not an empty directory or a sweep "
                    "store; choose another --store"
                )
            self.tasks_dir.mkdir(parents=True, exist_ok=True)
            record = {
                "format": FORMAT,
                "sparseflow_version": _version(),
                "spec_hash": spec.spec_hash,
                "n_tasks": spec.n_tasks,
                "n_trials": spec.n_trials,
                "spec": spec.to_dict(),
            }
            _atomic_write_bytes(self.path / MANIFEST, json.dumps(record, indent=2).encode())
            return set()
        if manifest.get("spec_hash") != spec.spec_hash:
            raise StoreError(
                f"store {str(self.path)!r} holds a different sweep "
                f"({_describe_difference(manifest.get('spec', {}), spec.to_dict())}); "
                "use another --store for this spec"
            )
        done = self.completed()
        if done and resume and manifest.get("sparseflow_version") != _version():
            warnings.warn(
                f"store {str(self.path)!r} was started with sparseflow "
                f"{manifest.get('sparseflow_version')} and is resumed with {_version()}: "
                "if the solvers changed, its rows come from two versions",
                SparseflowWarning,
                stacklevel=2,
            )
        if done and not resume:
            raise StoreError(
                f"store {str(self.path)!r} already holds {len(done)} of {spec.n_tasks} tasks of "
                "this sweep; pass --resume (Python: resume=True) to run the missing ones, or "
                "choose another --store"
            )
        self.tasks_dir.mkdir(parents=True, exist_ok=True)
        self._remove_temporaries()
        return done

    def completed(self) -> set[str]:
        """Ids of the tasks whose file is in the store."""
        if not self.tasks_dir.is_dir():
            return set()
        return {
            p.name[: -len(_SUFFIX)]
            for p in self.tasks_dir.iterdir()
            if p.name.endswith(_SUFFIX) and not p.name.startswith(_TMP_PREFIX)
        }

    def write_task(self, task_id: str, rows: Sequence[Mapping[str, Any]]) -> Path:
        """Write one task's rows atomically as ``tasks/<task_id>.parquet``; return its path."""
        pa = require("pyarrow")
        import pyarrow.parquet as pq

        if not rows:
            raise ValueError(f"rows of task {task_id!r} must not be empty")
        table = pa.Table.from_pylist([dict(r) for r in rows])
        final = self.tasks_dir / f"{task_id}{_SUFFIX}"
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=_SUFFIX, dir=self.tasks_dir)
        try:
            with os.fdopen(fd, "wb") as handle:
                pq.write_table(table, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return final

    def read(self) -> pd.DataFrame:
        """All stored rows as one DataFrame, one row per trial (see :func:`load_results`)."""
        pa = require("pyarrow")
        import pyarrow.parquet as pq

        pd = require("pandas")
        files = sorted(
            p
            for p in (self.tasks_dir.iterdir() if self.tasks_dir.is_dir() else [])
            if p.name.endswith(_SUFFIX) and not p.name.startswith(_TMP_PREFIX)
        )
        if not files:
            return pd.DataFrame()
        tables = [pq.read_table(p) for p in files]
        frame = pa.concat_tables(tables, promote_options="permissive").to_pandas()
        keys = [c for c in ("task_id", "trial") if c in frame.columns]
        if keys:
            frame = frame.drop_duplicates(subset=keys, keep="first")
        order = [c for c in ("task_index", "trial") if c in frame.columns]
        if order:
            frame = frame.sort_values(order, kind="stable")
        return frame.reset_index(drop=True)

    def _remove_temporaries(self) -> None:
        # Left by a writer killed between creating its temporary file and renaming it.
        for p in self.tasks_dir.glob(f"{_TMP_PREFIX}*"):
            p.unlink(missing_ok=True)


def load_results(path: str | Path) -> pd.DataFrame:
    """Read a sweep store into one tidy DataFrame (one row per trial).

    Parameters
    ----------
    path : str or Path
        A store written by :func:`sparseflow.experiments.sweep.run_sweep`.

    Returns
    -------
    pandas.DataFrame
        Columns: ``task_id``, ``task_index``, ``trial``, ``seed``, the grid parameters,
        ``solver``, ``method`` and the solver options, and the trial's metrics. Rows are
        deduplicated by (``task_id``, ``trial``) and sorted by (``task_index``, ``trial``).

    Raises
    ------
    StoreError
        If ``path`` is not a sweep store.
    """
    store = ResultStore(path)
    if store.manifest() is None:
        raise StoreError(f"{str(path)!r} is not a sweep store (no {MANIFEST})")
    return store.read()


def _version() -> str:
    from .. import __version__

    return str(__version__)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _describe_difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    keys = [
        k
        for k in sorted(set(old) | set(new))
        if k not in ("name", "description") and old.get(k) != new.get(k)
    ]
    if not keys:
        return "its manifest has another spec hash"
    return "differs in " + ", ".join(repr(k) for k in keys)
