"""Figures of the paper's experiments, drawn from tidy tables (one row per trial).

Every function takes a pandas DataFrame and an optional matplotlib Axes, draws on it and returns
the Axes; none computes a solver. Curves are split by the columns ``method``, ``depth``, ``alpha``
and ``nonnegative`` (whichever are present; missing values are fine, e.g. no α for basis pursuit).

Columns each figure reads:

=====================  ============================================================================
``plot_recovery``      ``m``, ``success`` (0/1); ``n`` and ``s`` to draw the predicted m*
``plot_nonnegative``   as ``plot_recovery``; draws the signed and non-negative predictions
``plot_gap``           ``alpha``, ``depth``, ``gap`` (‖x∞‖₁ − ‖x_BP‖₁); optional ``bound``
``plot_cost``          ``alpha``, ``method``, ``depth`` and the metric (default ``time``)
``plot_phase``         ``n``, ``m``, ``s``, ``success``
``plot_noise``         ``noise`` (σ), ``method``, ``rel_error``
=====================  ============================================================================

matplotlib and pandas come with the ``plot`` extra: ``pip install "sparseflow[plot]"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .analysis import gap_slopes, iter_series, success_curves

__all__ = [
    "plot_cost",
    "plot_gap",
    "plot_noise",
    "plot_nonnegative",
    "plot_phase",
    "plot_recovery",
    "save_figure",
]


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'figures need matplotlib; install it with: pip install "sparseflow[plot]"'
        ) from exc
    return plt


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=(6.4, 4.2))
    return ax


def _require(df: Any, columns: tuple[str, ...], figure: str) -> None:
    if not hasattr(df, "columns"):
        raise TypeError(f"{figure} needs a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{figure} needs the columns {', '.join(columns)}; missing {', '.join(missing)}"
        )
    if len(df) == 0:
        raise ValueError(f"{figure} got an empty table")


def _unique(df: Any, column: str) -> Any:
    if column not in df.columns:
        return None
    values = df[column].dropna().unique()
    return values[0] if len(values) == 1 else None


def plot_recovery(
    df: Any,
    ax: Any = None,
    *,
    predictions: dict[str, float] | None = None,
    nonnegative: bool = False,
) -> Any:
    """Recovery rate against the number of measurements m, one curve per solver setting.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per trial with columns ``m`` and ``success``.
    ax : matplotlib Axes, optional
    predictions : dict of str to float, optional
        Vertical lines to draw (label → m). By default, when ``n`` and ``s`` are unique in
        ``df``, the ℓ1 phase-transition prediction m* = N ψ(s/N).
    nonnegative : bool, default False
        Also draw the non-negative prediction in the default predictions.

    Returns
    -------
    matplotlib Axes
        The bands are 95% Wilson intervals of the success rate.
    """
    _require(df, ("m", "success"), "plot_recovery")
    ax = _axes(ax)
    for curve in success_curves(df):
        (line,) = ax.plot(curve["x"], curve["rate"], marker="o", ms=3, label=curve["label"])
        ax.fill_between(curve["x"], curve["low"], curve["high"], color=line.get_color(), alpha=0.15)
    if predictions is None:
        predictions = {}
        n, s = _unique(df, "n"), _unique(df, "s")
        if n is not None and s is not None:
            from ..theory import phase_transition_m

            predictions["ℓ1 prediction"] = phase_transition_m(int(n), int(s))
            if nonnegative:
                predictions["ℓ1 prediction, x ≥ 0"] = phase_transition_m(
                    int(n), int(s), nonnegative=True
                )
    styles = ["--", ":", "-."]
    for i, (label, m_star) in enumerate(predictions.items()):
        ax.axvline(m_star, color="black", ls=styles[i % 3], lw=1, label=f"{label} m*={m_star:.1f}")
    ax.axhline(0.5, color="grey", lw=0.5)
    n, s = _unique(df, "n"), _unique(df, "s")
    title = "Recovery rate" + (f" (N = {int(n)}, s = {int(s)})" if n is not None and s else "")
    ax.set(xlabel="measurements m", ylabel="success rate", ylim=(-0.02, 1.02), title=title)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    return ax


def plot_nonnegative(df: Any, ax: Any = None) -> Any:
    """Recovery rate of non-negative signals, with the signed and non-negative ℓ1 predictions."""
    ax = plot_recovery(df, ax, nonnegative=True)
    ax.set_title("Non-negative signals: " + ax.get_title())
    return ax


def _median_band(sub: Any, x: str, y: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    agg = sub.groupby(x)[y].quantile([0.25, 0.5, 0.75]).unstack().sort_index()
    return (
        agg.index.to_numpy(dtype=float),
        agg[0.5].to_numpy(),
        agg[0.25].to_numpy(),
        agg[0.75].to_numpy(),
    )


def plot_gap(df: Any, ax: Any = None, *, floor: float = 1e-12, fit_max: float = 0.1) -> Any:
    """ℓ1 gap ‖x∞‖₁ − ‖x_BP‖₁ against α (log–log), one curve per depth, with the bounds.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``alpha``, ``depth``, ``gap``; optional ``bound`` (THEORY §4) drawn dashed.
    ax : matplotlib Axes, optional
    floor : float, default 1e-12
        Gaps below this are at the LP solver's precision and are left out (median and slope).
    fit_max : float, default 0.1
        The slope in the legend is fitted over α ≤ fit_max.

    Returns
    -------
    matplotlib Axes
        Medians with interquartile bands; the legend gives the fitted log–log slope per depth.
    """
    _require(df, ("alpha", "depth", "gap"), "plot_gap")
    ax = _axes(ax)
    slopes = gap_slopes(df, floor=floor, fit_max=fit_max)
    data = df[df["gap"] > floor]
    for depth, sub in data.groupby("depth", sort=True):
        a, med, lo, hi = _median_band(sub, "alpha", "gap")
        slope = slopes.get(int(depth), float("nan"))
        (line,) = ax.loglog(a, med, marker="o", ms=3, label=f"L={int(depth)} (slope {slope:.2f})")
        ax.fill_between(a, lo, hi, color=line.get_color(), alpha=0.15)
        if "bound" in sub.columns:
            b = sub.groupby("alpha")["bound"].median().sort_index()
            ax.loglog(b.index, b.to_numpy(), ls="--", lw=1, color=line.get_color())
    ax.set(xlabel="initial scale α", ylabel="ℓ1 gap ‖x∞‖₁ − ‖x_BP‖₁", title="ℓ1 gap vs α")
    ax.legend(fontsize=7, title="dashed: bound (THEORY §4)", title_fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_cost(df: Any, ax: Any = None, *, metric: str = "time") -> Any:
    """Cost (``time`` in seconds, or ``n_iter``) against α, per solver and depth (log–log).

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``alpha``, ``method``, ``depth`` and ``metric``; a ``converged`` column (0/1)
        marks runs that hit their iteration bound with open markers.
    ax : matplotlib Axes, optional
    metric : str, default "time"

    Returns
    -------
    matplotlib Axes
    """
    _require(df, ("alpha", "method", metric), "plot_cost")
    ax = _axes(ax)
    for label, sub in iter_series(df.drop(columns=["alpha"])):
        sub = df.loc[sub.index]
        a, med, lo, hi = _median_band(sub, "alpha", metric)
        (line,) = ax.loglog(a, med, marker="o", ms=3, label=label)
        ax.fill_between(a, lo, hi, color=line.get_color(), alpha=0.15)
        if "converged" in sub.columns:
            bad = sub.groupby("alpha")["converged"].mean().sort_index() < 1
            if bad.any():
                ax.loglog(
                    a[bad.to_numpy()],
                    med[bad.to_numpy()],
                    ls="none",
                    marker="o",
                    mfc="white",
                    color=line.get_color(),
                )
    ylabel = "seconds per solve" if metric == "time" else metric
    ax.set(xlabel="initial scale α", ylabel=ylabel, title=f"Cost vs α ({metric})")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_phase(df: Any, ax: Any = None, *, nonnegative: bool = False) -> Any:
    """Phase-transition diagram: success rate over (δ = m/N, ρ = s/m) with the ℓ1 curve.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``n``, ``m``, ``s``, ``success``; one N.
    ax : matplotlib Axes, optional
    nonnegative : bool, default False
        Overlay the non-negative curve instead of the signed one.

    Returns
    -------
    matplotlib Axes
    """
    _require(df, ("n", "m", "s", "success"), "plot_phase")
    from ..theory import phase_transition_curve

    ax = _axes(ax)
    agg = df.groupby(["n", "m", "s"])["success"].mean().reset_index()
    delta = agg["m"] / agg["n"]
    rho = agg["s"] / agg["m"]
    art = ax.scatter(
        delta,
        rho,
        c=agg["success"],
        cmap="viridis",
        vmin=0,
        vmax=1,
        s=60,
        marker="s",
        edgecolors="none",
    )
    ax.figure.colorbar(art, ax=ax, label="success rate")
    grid = np.linspace(0.02, 0.98, 97)
    ax.plot(
        grid,
        phase_transition_curve(grid, nonnegative=nonnegative),
        color="red",
        lw=1.5,
        label="ℓ1 phase transition (statistical dimension)",
    )
    ax.set(
        xlabel="δ = m/N",
        ylabel="ρ = s/m",
        xlim=(0, 1),
        ylim=(0, 1),
        title=f"Phase transition (N = {int(agg['n'].iloc[0])})",
    )
    ax.legend(fontsize=7, loc="upper left")
    return ax


def plot_noise(df: Any, ax: Any = None) -> Any:
    """Relative error ‖x − x*‖₂/‖x*‖₂ against the noise level σ, per method (log–log).

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``noise``, ``method``, ``rel_error``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        Medians with interquartile bands.
    """
    _require(df, ("noise", "method", "rel_error"), "plot_noise")
    ax = _axes(ax)
    data = df[df["noise"] > 0]
    for label, sub in iter_series(data.drop(columns=["noise"]), extra=("early_stop",)):
        sub = data.loc[sub.index]
        sig, med, lo, hi = _median_band(sub, "noise", "rel_error")
        (line,) = ax.loglog(sig, med, marker="o", ms=3, label=label)
        ax.fill_between(sig, lo, hi, color=line.get_color(), alpha=0.15)
    ax.set(
        xlabel="noise level σ",
        ylabel="relative error ‖x − x*‖₂ / ‖x*‖₂",
        title="Noisy measurements",
    )
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return ax


def save_figure(ax: Any, stem: str | Path, *, dpi: int = 100) -> list[Path]:
    """Save the figure holding ``ax`` as ``stem.png`` and ``stem.svg``; returns the paths."""
    fig = ax.figure
    fig.tight_layout()
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    for path in paths:
        fig.savefig(path, dpi=dpi)
    _pyplot().close(fig)
    return paths
