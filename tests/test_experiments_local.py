"""Tests of the local runner (determinism, resume), the report, the headline and the CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from sparseflow.cli import main  # noqa: E402
from sparseflow.experiments import headline  # noqa: E402
from sparseflow.experiments.analysis import fifty_percent_point, success_curves  # noqa: E402
from sparseflow.experiments.local import load_results, run_spec  # noqa: E402
from sparseflow.experiments.report import write_report  # noqa: E402
from sparseflow.experiments.specs import ExperimentSpec, build_spec  # noqa: E402
from sparseflow.experiments.trials import trial_seed  # noqa: E402

TIMES = ["time", "wall_time"]


def _tiny() -> ExperimentSpec:
    points = tuple(
        {"n": 40, "s": 2, "m": m, **series}
        for series in ({"method": "basis-pursuit"}, {"method": "limit", "depth": 3, "alpha": 0.05})
        for m in (6, 12, 18)
    )
    return ExperimentSpec("tiny", "tiny recovery", "recovery", points, 4, 7, "recovery")


def test_rows_carry_parameters_seed_and_metrics(tmp_path: Path) -> None:
    spec = _tiny()
    df = run_spec(spec, tmp_path, workers=1)
    assert len(df) == spec.n_trials
    row = df.iloc[0]
    assert row["seed"] == trial_seed(7, spec.points[0], 0)
    assert {"n", "s", "m", "method", "trial", "success", "rel_error", "wall_time"} <= set(df)
    assert (tmp_path / "tiny.csv").exists()
    assert len(pd.read_csv(tmp_path / "tiny.csv")) == spec.n_trials


def test_two_workers_give_the_same_table(tmp_path: Path) -> None:
    spec = _tiny()
    one = run_spec(spec, tmp_path / "a", workers=1).drop(columns=TIMES)
    two = run_spec(spec, tmp_path / "b", workers=2, chunk=1).drop(columns=TIMES)
    pd.testing.assert_frame_equal(one, two)


def test_interrupted_run_resumes_without_duplicates(tmp_path: Path) -> None:
    spec = _tiny()
    full = run_spec(spec, tmp_path / "ref", workers=1).drop(columns=TIMES)
    store = tmp_path / "cut" / "tiny.jsonl"
    store.parent.mkdir()
    lines = (tmp_path / "ref" / "tiny.jsonl").read_text().splitlines()
    # keep a third of the rows, in a scrambled order, and a torn last line
    kept = lines[::3]
    store.write_text("\n".join(kept) + "\n" + lines[1][: len(lines[1]) // 2])
    calls = []
    resumed = run_spec(
        spec, store.parent, workers=1, progress=lambda done, total: calls.append(done)
    )
    assert calls[0] > len(kept)  # counting starts from what was stored
    pd.testing.assert_frame_equal(resumed.drop(columns=TIMES), full)
    # rows from a changed spec (other parameters at the same index) are not reused
    changed = replace(spec, points=tuple({**p, "s": 3} for p in spec.points))
    again = run_spec(changed, store.parent, workers=1)
    assert (again["s"] == 3).all() and len(again) == spec.n_trials
    assert len(load_results(store, changed)) == spec.n_trials


def test_report_states_measured_and_predicted(tmp_path: Path) -> None:
    spec = replace(build_spec("recovery", "quick"), trials=2)
    spec = replace(spec, points=tuple(p for p in spec.points if p["m"] in (10, 20, 30, 40)))
    df = run_spec(spec, tmp_path, workers=1)
    path = write_report({"recovery": (spec, df)}, tmp_path, timings={"recovery": 1.0})
    text = path.read_text()
    assert "![recovery](recovery.png)" in text and "m* = 20.4" in text
    bp = next(c for c in success_curves(df) if c["label"] == "basis pursuit")
    m50 = fifty_percent_point(bp["x"], bp["rate"])
    assert (f"{m50:.1f} (basis pursuit)" if np.isfinite(m50) else "not reached") in text
    assert (tmp_path / "recovery.png").stat().st_size > 0
    assert (tmp_path / "recovery.svg").exists()


def test_headline_run(tmp_path: Path) -> None:
    out = headline.run(tmp_path, trials=1)
    assert out["figure"].exists()
    assert out["predicted"] == pytest.approx(20.39, abs=0.01)
    assert "basis pursuit" in out["fifty_percent"]


def test_cli_reproduce(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import sparseflow.experiments.reproduce as rep

    def tiny_specs(size: str, names: list[str]) -> list[ExperimentSpec]:
        assert size == "full" and names == ["gap"]
        spec = build_spec("gap", "quick")
        return [replace(spec, points=spec.points[::7], trials=1)]

    monkeypatch.setattr(rep, "build_specs", tiny_specs)
    code = main(["reproduce", "--full", "--only", "gap", "--out", str(tmp_path), "--workers", "1"])
    assert code == 0
    assert "report:" in capsys.readouterr().out
    report = (tmp_path / "report.md").read_text()
    assert "slope" in report and (tmp_path / "gap.png").exists()
    rows = [json.loads(line) for line in (tmp_path / "gap.jsonl").read_text().splitlines()]
    assert len(rows) == len(build_spec("gap", "quick").points[::7])


def test_cli_reproduce_rejects_unknown_experiment(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["reproduce", "--only", "nope"]) == 2
    assert "invalid choice" in capsys.readouterr().err
