"""Thorough checks of the paper's claims on the reproduce experiments (slow: `make test-all`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pandas")

from sparseflow.experiments.analysis import (
    fifty_percent_point,
    gap_slopes,
    success_curves,
)
from sparseflow.experiments.local import run_spec
from sparseflow.experiments.specs import build_spec
from sparseflow.theory import phase_transition_m

pytestmark = pytest.mark.slow


def test_recovery_fifty_percent_points_track_the_prediction(tmp_path: Path) -> None:
    spec = build_spec("recovery", "quick")  # 40 trials per point
    df = run_spec(spec, tmp_path, workers=2)
    m50 = {c["label"]: fifty_percent_point(c["x"], c["rate"]) for c in success_curves(df)}
    predicted = phase_transition_m(100, 5)
    for label in ("basis pursuit", "flow limit L=3, α=0.01", "flow limit L=4, α=0.03"):
        assert abs(m50[label] - predicted) <= 2.0, (label, m50[label])
    assert m50["flow limit L=2, α=0.001"] > predicted + 5


def test_gap_slopes_follow_depth(tmp_path: Path) -> None:
    spec = replace(build_spec("gap", "quick"), trials=10)
    slopes = gap_slopes(run_spec(spec, tmp_path, workers=2))
    for depth in (3, 4, 5, 6):
        assert slopes[depth] == pytest.approx(depth, abs=0.35)
    assert slopes[2] < 1.5
    assert np.all(np.isfinite(list(slopes.values())))
