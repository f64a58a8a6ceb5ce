"""Summaries of tidy trial tables: series labels, success rates, 50% points and log–log slopes.

The tables are pandas DataFrames with one row per trial (see :mod:`sparseflow.experiments.figures`
for the columns each experiment provides). Functions here compute numbers only; the figures and
the report both use them, so a number in the report is the number drawn in the figure.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "SERIES_KEYS",
    "fifty_percent_point",
    "gap_slopes",
    "loglog_slope",
    "series_label",
    "success_curves",
    "wilson_interval",
]

# Columns that distinguish one curve from another in every experiment.
SERIES_KEYS = ("method", "depth", "alpha", "nonnegative")

_METHOD_NAMES = {
    "basis-pursuit": "basis pursuit",
    "limit": "flow limit",
    "descent": "gradient descent",
    "flow": "gradient flow",
    "lasso": "LASSO",
    "min-norm": "min ℓ2 norm",
    "omp": "OMP",
    "iht": "IHT",
}


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return True


def series_label(key: dict[str, Any]) -> str:
    """A legend label such as ``"flow limit L=3, α=0.01"`` from a series' key values."""
    method = key.get("method")
    name = _METHOD_NAMES.get(str(method), str(method)) if _present(method) else "result"
    parts = []
    if _present(key.get("depth")) and method not in ("basis-pursuit", "lasso", "min-norm"):
        parts.append(f"L={int(key['depth'])}")
    if _present(key.get("alpha")) and method not in ("basis-pursuit", "lasso", "min-norm"):
        parts.append(f"α={float(key['alpha']):g}")
    nonneg = key.get("nonnegative")
    if _present(nonneg) and bool(nonneg):
        parts.append("non-negative")
    if _present(key.get("early_stop")) and method == "descent":
        parts.append("early stop" if bool(key["early_stop"]) else "no stopping")
    return name + (" " + ", ".join(parts) if parts else "")


def _series_keys(df: Any, extra: tuple[str, ...] = ()) -> list[str]:
    return [k for k in (*SERIES_KEYS, *extra) if k in df.columns]


def iter_series(df: Any, extra: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """Split ``df`` into (label, sub-frame) pairs, one per curve, in a stable order."""
    keys = _series_keys(df, extra)
    if not keys:
        return [("result", df)]
    out = []
    for values, sub in df.groupby(keys, dropna=False, sort=True):
        vals = values if isinstance(values, tuple) else (values,)
        out.append((series_label(dict(zip(keys, vals, strict=True))), sub))
    return out


def wilson_interval(successes: Any, n: Any, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion (no zero-width bands at 0% or 100%)."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def success_curves(df: Any, x: str = "m", extra: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Per series: x values, success rate, trial counts and the Wilson band."""
    curves = []
    for label, sub in iter_series(df, extra):
        agg = sub.groupby(x)["success"].agg(["sum", "count"]).sort_index()
        lo, hi = wilson_interval(agg["sum"].to_numpy(), agg["count"].to_numpy())
        curves.append(
            {
                "label": label,
                "x": agg.index.to_numpy(dtype=float),
                "rate": (agg["sum"] / agg["count"]).to_numpy(),
                "count": agg["count"].to_numpy(),
                "low": lo,
                "high": hi,
            }
        )
    return curves


def fifty_percent_point(x: Any, rate: Any, level: float = 0.5) -> float:
    """Where an increasing success-rate curve first crosses ``level`` (linear interpolation).

    Returns NaN when the curve never crosses (it stays below or starts above ``level``).

    Examples
    --------
    >>> fifty_percent_point([10, 20, 30], [0.0, 0.4, 0.8])
    22.5
    """
    xs = np.asarray(x, dtype=float)
    rs = np.asarray(rate, dtype=float)
    if xs.size == 0 or rs[0] >= level:
        return float("nan")
    above = np.nonzero(rs >= level)[0]
    if above.size == 0:
        return float("nan")
    j = int(above[0])
    x0, x1, r0, r1 = xs[j - 1], xs[j], rs[j - 1], rs[j]
    return float(x0 + (level - r0) * (x1 - x0) / (r1 - r0))


def loglog_slope(x: Any, y: Any) -> float:
    """Least-squares slope of log y against log x over the positive, finite pairs (NaN if < 2).

    Examples
    --------
    >>> round(loglog_slope([1e-3, 1e-2, 1e-1], [2e-9, 2e-6, 2e-3]), 6)
    3.0
    """
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    ok = np.isfinite(xs) & np.isfinite(ys) & (xs > 0) & (ys > 0)
    if np.count_nonzero(ok) < 2 or np.unique(xs[ok]).size < 2:
        return float("nan")
    return float(np.polyfit(np.log(xs[ok]), np.log(ys[ok]), 1)[0])


def gap_slopes(df: Any, *, floor: float = 1e-12, fit_max: float = 0.1) -> dict[int, float]:
    """Per depth, the log–log slope of the median ℓ1 gap against α.

    Only α ≤ ``fit_max`` (the small-α regime the theory describes) and median gaps above
    ``floor`` (the precision of the LP reference) enter the fit.
    """
    out: dict[int, float] = {}
    data = df[(df["alpha"] <= fit_max)]
    for depth, sub in data.groupby("depth", sort=True):
        med = sub.groupby("alpha")["gap"].median()
        med = med[med > floor]
        out[int(depth)] = loglog_slope(med.index.to_numpy(dtype=float), med.to_numpy())
    return out
