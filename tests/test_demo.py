"""The ECG demo: quality of each method and the files it writes."""

from __future__ import annotations

import json

import pytest

from sparseflow.demo import DemoSettings, run_demo


class FastSettings(DemoSettings):
    descent_max_iter = 3000
    headline_trials = 0  # the headline figure has its own test


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, run_demo(out, settings=FastSettings, verbose=False)


def test_demo_quality_matches_basis_pursuit(demo_run):
    _, metrics = demo_run
    by_kind = {name.split(" (")[0]: row for name, row in metrics.items()}
    bp, limit, l2 = by_kind["basis pursuit"], by_kind["flow limit"], by_kind["minimum ℓ2 norm"]
    assert bp["converged"] and limit["converged"]
    assert bp["snr_db"] > 20 and abs(limit["snr_db"] - bp["snr_db"]) < 0.1
    assert l2["snr_db"] < 5
    # a compressible signal: preconditioned CG stalls and must hand over to exact Newton steps
    assert limit["n_iter"] <= 60
    # gradient descent with a tiny budget is honest about it
    descent = by_kind["gradient descent"]
    assert descent["status"] == "MAX_ITER" and not descent["converged"]


def test_demo_writes_figure_metrics_and_summary(demo_run):
    out, metrics = demo_run
    assert (out / "figure.png").stat().st_size > 10_000
    stored = json.loads((out / "metrics.json").read_text())
    assert set(stored) == set(metrics)
    for row in stored.values():
        assert {"snr_db", "rel_error", "l1_norm", "residual", "time", "status"} <= set(row)
    summary = (out / "summary.md").read_text()
    assert "figure.png" in summary and "SNR" in summary
