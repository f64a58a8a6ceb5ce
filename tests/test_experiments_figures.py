"""Tests of the figure functions and the summaries they draw, on synthetic tidy tables."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from sparseflow.experiments import figures  # noqa: E402
from sparseflow.experiments.analysis import (  # noqa: E402
    fifty_percent_point,
    loglog_slope,
    series_label,
    success_curves,
    wilson_interval,
)
from sparseflow.theory import phase_transition_m  # noqa: E402


def _recovery_table() -> pd.DataFrame:
    rows = []
    for m in (10, 20, 30):
        for trial in range(4):
            rows.append(
                {
                    "n": 100,
                    "s": 5,
                    "m": m,
                    "method": "basis-pursuit",
                    "depth": np.nan,
                    "alpha": np.nan,
                    "trial": trial,
                    "success": int(m >= 20 + 5 * (trial % 2)),
                }
            )
            rows.append(
                {
                    "n": 100,
                    "s": 5,
                    "m": m,
                    "method": "limit",
                    "depth": 3,
                    "alpha": 0.01,
                    "trial": trial,
                    "success": int(m >= 30),
                }
            )
    return pd.DataFrame(rows)


def test_success_curves_and_fifty_percent_point() -> None:
    curves = {c["label"]: c for c in success_curves(_recovery_table())}
    assert set(curves) == {"basis pursuit", "flow limit L=3, α=0.01"}
    bp = curves["basis pursuit"]
    np.testing.assert_allclose(bp["rate"], [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(bp["count"], [4, 4, 4])
    assert fifty_percent_point(bp["x"], bp["rate"]) == 20.0
    assert fifty_percent_point([1, 2], [0.0, 0.2]) != fifty_percent_point([1, 2], [0.0, 0.2])
    assert fifty_percent_point([10, 20, 30], [0.2, 0.6, 1.0]) == pytest.approx(17.5)


def test_wilson_interval_contains_rate_and_is_not_degenerate() -> None:
    lo, hi = wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 10]))
    assert lo[0] == pytest.approx(0.0, abs=1e-12) and hi[0] > 0.2
    assert lo[1] < 0.5 < hi[1]
    assert hi[2] == pytest.approx(1.0) and lo[2] < 0.8


def test_loglog_slope_recovers_power() -> None:
    a = np.logspace(-3, -1, 7)
    assert loglog_slope(a, 5 * a**3.5) == pytest.approx(3.5)
    assert np.isnan(loglog_slope([1.0], [1.0]))


def test_series_label() -> None:
    assert series_label({"method": "descent", "depth": 2, "alpha": 1e-3}) == (
        "gradient descent L=2, α=0.001"
    )
    assert series_label({"method": "basis-pursuit", "depth": float("nan")}) == "basis pursuit"


def test_plot_recovery_draws_curves_and_prediction() -> None:
    ax = figures.plot_recovery(_recovery_table())
    labels = [line.get_label() for line in ax.get_lines()]
    assert "basis pursuit" in labels
    pred = [line for line in ax.get_lines() if line.get_label().startswith("ℓ1 prediction")]
    assert len(pred) == 1
    assert pred[0].get_xdata()[0] == pytest.approx(phase_transition_m(100, 5))
    ax2 = figures.plot_nonnegative(_recovery_table())
    assert sum(line.get_label().startswith("ℓ1 prediction") for line in ax2.get_lines()) == 2


def test_plot_gap_slope_in_legend_and_floor() -> None:
    rows = [
        {"alpha": a, "depth": L, "gap": a**L, "bound": 10 * a ** (L - 2)}
        for L in (3, 4)
        for a in (0.01, 0.03, 0.1)
        for _ in range(3)
    ]
    rows.append({"alpha": 0.001, "depth": 3, "gap": 1e-12, "bound": 1.0})  # below the floor
    ax = figures.plot_gap(pd.DataFrame(rows))
    labels = [line.get_label() for line in ax.get_lines()]
    assert "L=3 (slope 3.00)" in labels and "L=4 (slope 4.00)" in labels


def test_plot_cost_phase_noise(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cost = pd.DataFrame(
        [
            {"alpha": a, "method": meth, "depth": 3, "time": t * a**-1, "converged": 1}
            for a in (0.01, 0.1)
            for meth, t in (("limit", 1e-3), ("descent", 1e-1))
            for _ in range(2)
        ]
    )
    ax = figures.plot_cost(cost)
    assert len([ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]) == 2
    phase = pd.DataFrame(
        [
            {"n": 50, "m": m, "s": s, "success": int(s < m / 4)}
            for m in (10, 25, 40)
            for s in (1, 5, 10)
        ]
    )
    ax = figures.plot_phase(phase)
    assert ax.get_xlabel() == "δ = m/N"
    noise = pd.DataFrame(
        [
            {"noise": sig, "method": meth, "rel_error": sig * k}
            for sig in (0.01, 0.1)
            for meth, k in (("lasso", 2), ("descent", 1))
        ]
    )
    ax = figures.plot_noise(noise)
    paths = figures.save_figure(ax, tmp_path / "noise")
    assert all(p.stat().st_size > 0 for p in paths)


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match="success"):
        figures.plot_recovery(pd.DataFrame({"m": [1]}))
    with pytest.raises(TypeError, match="DataFrame"):
        figures.plot_gap([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        figures.plot_noise(pd.DataFrame(columns=["noise", "method", "rel_error"]))
