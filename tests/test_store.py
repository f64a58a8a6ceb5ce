"""Results store: atomic task files, manifest checks, deduplicated reads."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from sparseflow.experiments.store import (  # noqa: E402
    MANIFEST,
    ResultStore,
    StoreError,
    load_results,
)
from sparseflow.experiments.sweepspec import parse_spec  # noqa: E402

SPEC = {
    "trials": 4,
    "task_size": 2,
    "grid": {"n": 20, "s": 1, "m": [8, 12]},
    "solvers": {"limit": {"depth": 3}},
}


def rows_for(task, value=0.5):
    return [
        {
            "task_id": task.task_id,
            "task_index": task.task_index,
            "trial": t,
            "seed": 1000 + t,
            **task.params,
            "solver": task.solver,
            "x": value * (t + 1) / 3,
            "status": "CONVERGED",
        }
        for t in range(task.start, task.stop)
    ]


def test_roundtrip_is_exact_and_sorted_by_task_then_trial(tmp_path):
    spec = parse_spec(SPEC)
    store = ResultStore(tmp_path / "s")
    assert store.initialize(spec) == set()
    tasks = list(spec.tasks())
    for task in reversed(tasks):  # completion order must not matter
        store.write_task(task.task_id, rows_for(task))
    frame = load_results(tmp_path / "s")
    assert len(frame) == spec.n_trials
    assert frame["task_index"].tolist() == sorted(frame["task_index"])
    expected = np.concatenate([[r["x"] for r in rows_for(t)] for t in tasks])
    assert np.array_equal(frame["x"].to_numpy(), expected)  # float64 bits survive Parquet
    assert set(frame.columns) >= {"m", "n", "s", "depth", "method", "solver", "seed", "status"}
    assert store.completed() == {t.task_id for t in tasks}


def test_duplicates_are_dropped_and_temporaries_ignored(tmp_path):
    spec = parse_spec(SPEC)
    store = ResultStore(tmp_path)
    store.initialize(spec)
    task = next(spec.tasks())
    path = store.write_task(task.task_id, rows_for(task))
    shutil.copy(path, store.tasks_dir / "copy-of-first.parquet")  # e.g. a file copied by hand
    (store.tasks_dir / ".tmp-half-written.parquet").write_bytes(b"PAR1 truncated")
    frame = store.read()
    assert len(frame) == task.n_trials
    assert not frame.duplicated(["task_id", "trial"]).any()
    assert ".tmp-half-written" not in "".join(store.completed())


def test_resume_requires_the_same_spec_and_the_flag(tmp_path):
    spec = parse_spec(SPEC)
    store = ResultStore(tmp_path)
    store.initialize(spec)
    task = next(spec.tasks())
    store.write_task(task.task_id, rows_for(task))
    (store.tasks_dir / ".tmp-leftover.parquet").write_bytes(b"x")
    with pytest.raises(StoreError, match="--resume"):
        store.initialize(spec)
    assert store.initialize(spec, resume=True) == {task.task_id}
    assert not list(store.tasks_dir.glob(".tmp-*"))  # leftovers of a killed writer are removed
    other = parse_spec({**SPEC, "seed": 9})
    with pytest.raises(StoreError, match=r"different sweep.*'seed'"):
        store.initialize(other, resume=True)
    renamed = parse_spec({**SPEC, "name": "renamed"})  # the name does not change the results
    assert store.initialize(renamed, resume=True) == {task.task_id}


def test_refuses_directories_that_are_not_stores(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not an empty directory"):
        ResultStore(tmp_path).initialize(parse_spec(SPEC))
    with pytest.raises(StoreError, match="not a sweep store"):
        load_results(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(StoreError, match="manifest"):
        load_results(tmp_path)


def test_empty_rows_are_rejected_and_empty_store_reads_empty(tmp_path):
    spec = parse_spec(SPEC)
    store = ResultStore(tmp_path)
    store.initialize(spec)
    with pytest.raises(ValueError, match="rows"):
        store.write_task("abc", [])
    assert store.read().empty
    manifest = store.manifest()
    assert manifest is not None
    assert manifest["n_trials"] == spec.n_trials and manifest["spec_hash"] == spec.spec_hash


def test_resuming_with_another_version_warns(tmp_path):
    from sparseflow.result import SparseflowWarning

    spec = parse_spec(SPEC)
    store = ResultStore(tmp_path)
    store.initialize(spec)
    task = next(spec.tasks())
    store.write_task(task.task_id, rows_for(task))
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["sparseflow_version"] = "0.0.1"
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.warns(SparseflowWarning, match="two versions"):
        assert store.initialize(spec, resume=True) == {task.task_id}
