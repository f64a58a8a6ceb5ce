"""Derived tables from a sweep's trials, prepared for the figures (one row per trial).

Solvers at one grid point see the same instances (same seed), so per-instance comparisons between
solvers are joins on the ``seed`` column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["BASIS_PURSUIT", "with_l1_gap"]

BASIS_PURSUIT = "basis-pursuit"


def with_l1_gap(frame: Any) -> Any:
    r"""Add ``gap`` = ‖x‖₁ − ‖x_BP‖₁ on the same instance and the THEORY §4 ``bound``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Trials with columns ``method``, ``seed``, ``l1_norm``, ``n``, ``depth``, ``alpha``,
        including basis-pursuit trials on the same instances.

    Returns
    -------
    pandas.DataFrame
        The non-basis-pursuit rows with depth ≥ 2 that have a basis-pursuit partner, with the
        columns ``bp_l1_norm``, ``gap`` and ``bound`` added (``bound`` is NaN where the formula
        does not apply: depth 2 with α ≥ 1).

    Notes
    -----
    The bound is :func:`sparseflow.theory.l1_gap_bound`: for L ≥ 3,
    :math:`\tfrac L2\alpha^{L-2}N^{1-2/L}\|x_\infty\|_1^{2/L}`.

    Examples
    --------
    >>> import pandas as pd
    >>> trials = pd.DataFrame({"method": ["basis-pursuit", "limit"], "seed": [7, 7], "n": 100,
    ...                        "depth": [None, 3], "alpha": [None, 1e-2], "l1_norm": [2.0, 2.5]})
    >>> with_l1_gap(trials)[["depth", "gap"]].to_dict("records")
    [{'depth': 3.0, 'gap': 0.5}]
    """
    from ..theory import l1_gap_bound

    needed = ("method", "seed", "l1_norm", "n", "depth", "alpha")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"the gap figure needs the columns {', '.join(missing)}")
    is_bp = frame["method"] == BASIS_PURSUIT
    if not is_bp.any():
        raise ValueError(
            "the gap figure needs basis-pursuit trials on the same instances: add a "
            "[solvers.bp] table with method = 'basis-pursuit' to the spec"
        )
    reference = frame.loc[is_bp].drop_duplicates("seed").set_index("seed")["l1_norm"]
    rows = frame.loc[~is_bp & (frame["depth"] >= 2) & frame["seed"].isin(reference.index)].copy()
    rows["bp_l1_norm"] = rows["seed"].map(reference)
    rows["gap"] = rows["l1_norm"] - rows["bp_l1_norm"]
    bound = np.full(len(rows), np.nan)
    for i, row in enumerate(rows[["l1_norm", "n", "depth", "alpha"]].itertuples(index=False)):
        if row.depth >= 3 or row.alpha < 1:
            bound[i] = float(l1_gap_bound(row.l1_norm, int(row.n), int(row.depth), row.alpha))
    rows["bound"] = bound
    return rows.reset_index(drop=True)
