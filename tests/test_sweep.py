"""Sweep engine: serial and Dask runs agree bit for bit; kill -9 and resume loses and duplicates
nothing. Dask clusters here listen on 127.0.0.1 only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from sparseflow.cli import main  # noqa: E402
from sparseflow.experiments.store import TIMING_COLUMNS, ResultStore, load_results  # noqa: E402
from sparseflow.experiments.sweep import SweepError, run_sweep, run_task  # noqa: E402
from sparseflow.experiments.sweepspec import parse_spec  # noqa: E402
from sparseflow.experiments.trials import recovery_trial, trial_seed  # noqa: E402

# Small but real: the flow limit and (bounded, never converging early) gradient descent.
SMALL = {
    "name": "small",
    "trials": 6,
    "task_size": 2,
    "seed": 11,
    "grid": {"n": 40, "s": 2, "m": [12, 20]},
    "solvers": {
        "limit": {"depth": 3, "alpha": 1e-2},
        "gd": {"method": "descent", "depth": 2, "alpha": 1e-2, "max_iter": 300, "tol": 1e-14},
    },
}

# For the kill test: enough tasks that a kill after a few stored ones lands mid-sweep.
KILLABLE = """
name = "killable"
trials = 30
task_size = 2
seed = 7
[grid]
n = 50
s = 3
m = [15, 25]
[solvers.limit]
depth = 3
alpha = 1e-2
[solvers.gd]
method = "descent"
depth = 2
alpha = 1e-2
max_iter = 1000
tol = 1e-14
"""


def reproducible(frame):
    return frame.drop(columns=[c for c in TIMING_COLUMNS if c in frame.columns])


def assert_same_results(left, right):
    pd.testing.assert_frame_equal(reproducible(left), reproducible(right), check_exact=True)


@pytest.fixture(scope="module")
def serial_small(tmp_path_factory):
    store = tmp_path_factory.mktemp("serial") / "store"
    report = run_sweep(SMALL, store, workers=0, progress=False)
    assert report.complete and report.workers == 0
    return load_results(store)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


def test_rows_match_the_trial_function_called_directly(serial_small):
    spec = parse_spec(SMALL)
    frame = serial_small
    assert len(frame) == spec.n_trials
    assert not frame.duplicated(["task_id", "trial"]).any()
    for row in frame.sample(5, random_state=0).itertuples():
        point = {"m": row.m, "n": row.n, "s": row.s}
        seed = trial_seed(11, point, row.trial)
        assert row.seed == seed
        options = dict(SMALL["solvers"][row.solver])
        params = {**point, "method": options.pop("method", row.solver), **options}
        direct = recovery_trial(params, seed)
        assert row.rel_error == direct["rel_error"] and row.n_iter == direct["n_iter"]
    # Paired instances: both solvers saw the same x* at the same (m, trial).
    l1 = frame.pivot_table(index=["m", "trial"], columns="solver", values="l1_true")
    assert np.array_equal(l1["gd"].to_numpy(), l1["limit"].to_numpy())


def test_dask_run_equals_serial_run(serial_small, cluster, tmp_path):
    report = run_sweep(SMALL, tmp_path / "s", client=cluster, progress=False)
    assert report.workers == 2 and report.tasks_run == parse_spec(SMALL).n_tasks
    assert_same_results(load_results(tmp_path / "s"), serial_small)


def test_one_worker_equals_two_workers(serial_small, cluster, tmp_path):
    one = run_sweep(SMALL, tmp_path / "one", workers=1, progress=False)
    assert one.workers == 1
    # Two workers, one task in flight at a time: another completion order, same results.
    run_sweep(SMALL, tmp_path / "two", client=cluster, max_in_flight=1, progress=False)
    assert_same_results(load_results(tmp_path / "one"), load_results(tmp_path / "two"))
    assert_same_results(load_results(tmp_path / "one"), serial_small)


def test_resume_computes_only_missing_tasks(serial_small, tmp_path):
    store = tmp_path / "s"
    run_sweep(SMALL, store, workers=0, progress=False)
    files = sorted((store / "tasks").glob("*.parquet"))
    for path in files[::3]:
        path.unlink()
    before = {p.name: p.stat().st_mtime_ns for p in files[1::3]}
    report = run_sweep(SMALL, store, workers=0, progress=False, resume=True)
    assert (
        report.tasks_run == len(files[::3])
        and report.tasks_skipped == len(files) - report.tasks_run
    )
    assert {p.name: p.stat().st_mtime_ns for p in files[1::3]} == before  # untouched
    assert_same_results(load_results(store), serial_small)
    again = run_sweep(SMALL, store, workers=0, progress=False, resume=True)
    assert again.tasks_run == 0 and again.complete


def test_without_dask_it_runs_serially_and_says_so(serial_small, tmp_path, monkeypatch):
    import sparseflow.experiments.sweep as engine

    monkeypatch.setattr(engine, "available", lambda name: name != "distributed")
    messages: list[str] = []
    report = run_sweep(SMALL, tmp_path / "s", progress=False, echo=messages.append)
    assert report.workers == 0 and report.complete
    assert any("dask is not installed" in m for m in messages)
    assert_same_results(load_results(tmp_path / "s"), serial_small)
    # A finished sweep resumed starts no cluster at all.
    monkeypatch.undo()
    again = run_sweep(SMALL, tmp_path / "s", workers=2, resume=True, progress=False)
    assert again.tasks_run == 0 and again.workers == 0


def test_failing_task_keeps_stored_results(tmp_path, monkeypatch):
    calls = {"n": 0}

    def flaky(params, seed):
        calls["n"] += 1
        if calls["n"] > 3:
            raise FloatingPointError("boom")
        return {"value": float(seed % 97)}

    monkeypatch.setitem(
        __import__("sparseflow.experiments.trials").experiments.trials.TRIALS, "flaky", flaky
    )
    spec = {"trial": "flaky", "trials": 4, "task_size": 1, "grid": {"k": [1, 2]}}
    with pytest.raises(SweepError, match=r"task .*'k': 1.*FloatingPointError: boom.*--resume"):
        run_sweep(spec, tmp_path, workers=0, progress=False)
    assert len(ResultStore(tmp_path).completed()) == 3


def test_run_task_rejects_metric_that_shadows_a_parameter(monkeypatch):
    trials = __import__("sparseflow.experiments.trials").experiments.trials.TRIALS
    monkeypatch.setitem(trials, "shadow", lambda params, seed: {"k": 1})
    task = next(parse_spec({"trial": "shadow", "trials": 1, "grid": {"k": 1}}).tasks())
    with pytest.raises(ValueError, match="metric 'k'"):
        run_task(task)


def test_argument_errors():
    with pytest.raises(ValueError, match="at most one"):
        run_sweep(SMALL, workers=1, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match="workers"):
        run_sweep(SMALL, workers=-1)
    with pytest.raises(TypeError, match="spec"):
        run_sweep(42)  # type: ignore[arg-type]


def test_kill_9_then_resume_loses_and_duplicates_nothing(cluster, tmp_path):
    spec_file = tmp_path / "killable.toml"
    spec_file.write_text(KILLABLE)
    store = tmp_path / "store"
    command = [
        sys.executable,
        "-m",
        "sparseflow.cli",
        "sweep",
        str(spec_file),
        "--workers",
        "2",
        "--store",
        str(store),
        "--no-progress",
    ]
    # A session of its own, so that SIGKILL reaches the client and its worker processes at once.
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    total = parse_spec(__import__("tomllib").loads(KILLABLE)).n_tasks
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(ResultStore(store).completed()) >= 4:
                break
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    stored_at_kill = len(ResultStore(store).completed())
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode() if proc.stderr else ""
    assert 4 <= stored_at_kill < total, "the kill must land mid-sweep"

    assert (
        main(["sweep", str(spec_file), "--store", str(store), "--workers", "2"]) == 2
    )  # no --resume
    resumed = run_sweep(spec_file, store, client=cluster, resume=True, progress=False)
    assert resumed.tasks_skipped >= stored_at_kill and resumed.complete

    reference = tmp_path / "reference"
    run_sweep(spec_file, reference, workers=0, progress=False)
    got, want = load_results(store), load_results(reference)
    keys = ["task_id", "trial"]
    merged = want[keys].merge(got[keys], how="left", indicator=True)
    assert (merged["_merge"] == "left_only").sum() == 0  # rows lost
    assert got.duplicated(keys).sum() == 0  # rows duplicated
    assert_same_results(got, want)


def test_cli_sweep_and_plot_arguments(tmp_path, capsys):
    spec_file = tmp_path / "tiny.toml"
    spec_file.write_text("trials = 2\n[grid]\nn = 20\nm = 10\ns = 1\n[solvers.limit]\ndepth = 3\n")
    assert (
        main(
            [
                "sweep",
                str(spec_file),
                "--workers",
                "0",
                "--store",
                str(tmp_path / "s"),
                "--no-progress",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "1 run, 0 already stored, 1 in the sweep" in out
    assert main(["sweep", str(tmp_path / "missing.toml"), "--workers", "0"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "s"), "--kind", "nope"]) == 2
    assert main(["plot", str(tmp_path), "--kind", "recovery"]) == 2  # not a store


def test_cli_plot_draws_from_a_store(tmp_path):
    pytest.importorskip("sparseflow.experiments.figures")
    pytest.importorskip("matplotlib")
    store = tmp_path / "s"
    run_sweep(SMALL, store, workers=0, progress=False)
    out = tmp_path / "fig.png"
    assert main(["plot", str(store), "--kind", "recovery", "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_cli_plot_hands_the_tidy_frame_to_the_figure_function(tmp_path, monkeypatch):
    # Checks the wiring only (which function, which data, where the file goes), with a stand-in
    # for the figures module so it runs whether or not that module is installed.
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import types

    import matplotlib.pyplot as plt

    seen = {}

    def plot_recovery(frame):
        seen["frame"] = frame
        figure, axes = plt.subplots()
        axes.plot(frame["m"], frame["success"], "o")
        return axes  # an Axes is accepted too

    stand_in = types.ModuleType("sparseflow.experiments.figures")
    stand_in.plot_recovery = plot_recovery  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sparseflow.experiments.figures", stand_in)
    store = tmp_path / "s"
    run_sweep(SMALL, store, workers=0, progress=False)
    assert main(["plot", str(store), "--kind", "recovery"]) == 0
    assert (store / "recovery.png").read_bytes()[:4] == b"\x89PNG"
    assert_same_results(seen["frame"], load_results(store))
    plt.close("all")
    # a phase diagram of several solvers pooled together would mislead: one must be chosen
    assert main(["plot", str(store), "--kind", "phase"]) == 2


@pytest.mark.slow
def test_lost_worker_is_replaced_and_results_are_unchanged(cluster, tmp_path):
    import threading

    spec = parse_spec(__import__("tomllib").loads(KILLABLE))
    store = tmp_path / "store"
    pids_before = set(cluster.run(os.getpid).values())
    killed: list[int] = []

    def kill_one_worker_midway():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(ResultStore(store).completed()) < 3:
            time.sleep(0.02)
        victim = min(pids_before)
        os.kill(victim, signal.SIGKILL)  # a worker process dies without a word
        killed.append(victim)

    killer = threading.Thread(target=kill_one_worker_midway)
    killer.start()
    report = run_sweep(spec, store, client=cluster, progress=False)
    killer.join()
    assert report.complete and report.tasks_run == spec.n_tasks
    reference = tmp_path / "reference"
    run_sweep(spec, reference, workers=0, progress=False)
    got = load_results(store)
    assert got.duplicated(["task_id", "trial"]).sum() == 0
    assert_same_results(got, load_results(reference))
    assert killed and len(ResultStore(store).completed()) == spec.n_tasks
    cluster.wait_for_workers(2, timeout=60)  # the nanny started a replacement
    assert killed[0] not in set(cluster.run(os.getpid).values())
