"""The headline figure: recovery rate vs m for basis pursuit and the flow limits (for the demo)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from .._validation import check_positive_int
from .analysis import fifty_percent_point, success_curves
from .local import run_spec
from .report import draw_figure
from .specs import build_spec

__all__ = ["run"]


def run(out_dir: str | Path, *, trials: int = 10, workers: int = 1) -> dict[str, Any]:
    """Draw the headline recovery-rate figure at a small trial count (about 10 s).

    Parameters
    ----------
    out_dir : str or Path
        Writes ``recovery_rate.png`` / ``.svg`` and the table ``headline.csv`` there.
    trials : int, default 10
        Trials per point (the ``reproduce`` experiment uses 20 quick, 100 full).
    workers : int, default 1

    Returns
    -------
    dict
        ``figure`` (path of the PNG), ``fifty_percent`` (series label → m at 50% recovery) and
        ``predicted`` (the ℓ1 phase-transition m*).
    """
    from ..theory import phase_transition_m

    trials = check_positive_int(trials, "trials")
    spec = replace(build_spec("recovery", "quick"), name="headline", trials=trials)
    df = run_spec(spec, out_dir, workers=workers)
    paths = draw_figure("recovery", df, Path(out_dir) / "recovery_rate")
    fifty = {c["label"]: fifty_percent_point(c["x"], c["rate"]) for c in success_curves(df)}
    return {"figure": paths[0], "fifty_percent": fifty, "predicted": phase_transition_m(100, 5)}
