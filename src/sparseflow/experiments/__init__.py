"""Experiments as data: trial functions, specs, runners, figures and reports."""

from __future__ import annotations

# The sweep engine imports dask, pandas and pyarrow only when it runs: these imports are cheap.
from .store import load_results
from .sweep import SweepReport, run_sweep
from .sweepspec import SweepSpec, load_spec, parse_spec

__all__ = ["SweepReport", "SweepSpec", "load_results", "load_spec", "parse_spec", "run_sweep"]
