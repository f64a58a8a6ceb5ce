"""Tests of the experiment specs and the trial functions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sparseflow import basis_pursuit, flow_limit
from sparseflow.experiments.specs import EXPERIMENTS, build_spec, build_specs
from sparseflow.experiments.trials import TRIALS, cost_trial, gap_trial, make_instance, noisy_trial
from sparseflow.theory import l1_gap_bound


@pytest.mark.parametrize("size", ["quick", "full"])
def test_every_spec_is_plain_data_with_a_known_trial(size: str) -> None:
    specs = build_specs(size)
    assert [s.name for s in specs] == list(EXPERIMENTS)
    for spec in specs:
        assert spec.trial in TRIALS
        assert spec.points and spec.trials >= 1
        json.dumps(spec.points)  # JSON-able grid points
        keys = {json.dumps(p, sort_keys=True) for p in spec.points}
        assert len(keys) == len(spec.points), f"{spec.name} has duplicate points"
        if size == "full":
            assert spec.trials >= 100


def test_recovery_spec_covers_the_acceptance_settings() -> None:
    spec = build_spec("recovery", "quick")
    series = {(p["method"], p.get("depth"), p.get("alpha")) for p in spec.points}
    assert {
        ("basis-pursuit", None, None),
        ("limit", 3, 1e-2),
        ("limit", 4, 3e-2),
        ("limit", 2, 1e-3),
    } <= series
    assert spec.trials >= 40
    ms = sorted({p["m"] for p in spec.points})
    assert ms[0] < 20.4 < ms[-1]


def test_phase_points_have_s_below_m() -> None:
    for p in build_spec("phase", "full").points:
        assert 1 <= p["s"] < p["m"] < p["n"]


def test_unknown_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="name"):
        build_spec("nope")
    with pytest.raises(ValueError, match="size"):
        build_spec("gap", "huge")


def test_gap_trial_against_direct_solves() -> None:
    params = {"n": 60, "m": 25, "s": 3, "depth": 3, "alpha": 0.05}
    out = gap_trial(params, 11)
    A, _, y = make_instance(60, 25, 3, 11)
    l1_lim = np.abs(flow_limit(A, y, depth=3, alpha=0.05).x).sum()
    l1_bp = np.abs(basis_pursuit(A, y).x).sum()
    assert out["gap"] == pytest.approx(l1_lim - l1_bp, abs=1e-9)
    assert 0 <= out["gap"] <= out["bound"]
    assert out["bound"] == pytest.approx(float(l1_gap_bound(out["l1_limit"], 60, 3, 0.05)))


@pytest.mark.parametrize("method", ["descent", "flow", "limit"])
def test_cost_trial_reaches_tolerance(method: str) -> None:
    params = {"n": 40, "m": 20, "s": 2, "method": method, "depth": 2, "alpha": 0.1, "tol": 1e-3}
    out = cost_trial(params, 5)
    assert out["converged"] == 1
    assert out["residual"] <= 1e-3 * (1 + 1e-9)
    assert out["n_iter"] >= 1
    assert np.isfinite(out["flow_time"]) == (method == "flow")
    with pytest.raises(ValueError, match="method"):
        cost_trial({**params, "method": "basis-pursuit"}, 5)


def test_noisy_trial_is_seeded_and_early_stop_stops_early() -> None:
    base = {
        "n": 60,
        "m": 30,
        "s": 3,
        "noise": 0.05,
        "method": "descent",
        "depth": 2,
        "alpha": 1e-3,
        "max_iter": 5000,
    }
    first = noisy_trial(base, 3)
    again = noisy_trial(base, 3)
    assert first["rel_error"] == again["rel_error"] and first["n_iter"] == again["n_iter"]
    assert first["status"] == "CONVERGED"  # the discrepancy principle stopped it
    late = noisy_trial({**base, "early_stop": False}, 3)
    assert late["n_iter"] > first["n_iter"]
    lasso = noisy_trial({"n": 60, "m": 30, "s": 3, "noise": 0.05, "method": "lasso"}, 3)
    assert lasso["rel_error"] < 1.0
