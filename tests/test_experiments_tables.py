"""Derived tables: the per-instance ℓ1 gap against basis pursuit."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from sparseflow.experiments import load_results, run_sweep  # noqa: E402
from sparseflow.experiments.tables import with_l1_gap  # noqa: E402
from sparseflow.experiments.trials import recovery_trial  # noqa: E402
from sparseflow.theory import l1_gap_bound  # noqa: E402

SPEC = {
    "trials": 3,
    "grid": {"n": 40, "s": 2, "m": 20},
    "solvers": {"bp": {"method": "basis-pursuit"}, "limit": {"depth": [2, 3], "alpha": 1e-1}},
}


def test_gap_is_the_l1_difference_on_the_same_instance(tmp_path):
    run_sweep(SPEC, tmp_path, workers=0, progress=False)
    table = with_l1_gap(load_results(tmp_path))
    assert len(table) == 2 * 3 and set(table["depth"]) == {2, 3}
    for row in table.itertuples():
        point = {"n": 40, "s": 2, "m": 20}
        bp = recovery_trial({**point, "method": "basis-pursuit"}, row.seed)
        flow = recovery_trial(
            {**point, "method": "limit", "depth": int(row.depth), "alpha": 0.1}, row.seed
        )
        assert row.gap == pytest.approx(flow["l1_norm"] - bp["l1_norm"], abs=1e-12)
        assert row.gap > -1e-8  # basis pursuit has the least ℓ1 norm among solutions
        expected = float(l1_gap_bound(row.l1_norm, 40, int(row.depth), 0.1))
        assert row.bound == pytest.approx(expected)
        if row.depth == 3:  # the L ≥ 3 bound is rigorous
            assert row.gap <= row.bound + 1e-9
    assert np.isfinite(table["bound"]).all()


def test_gap_needs_basis_pursuit_rows():
    frame = pd.DataFrame(
        {
            "method": ["limit"],
            "seed": [1],
            "l1_norm": [1.0],
            "n": [10],
            "depth": [3],
            "alpha": [0.1],
        }
    )
    with pytest.raises(ValueError, match="basis-pursuit"):
        with_l1_gap(frame)
    with pytest.raises(ValueError, match="l1_norm"):
        with_l1_gap(frame.drop(columns=["l1_norm"]))


def test_cli_gap_figure_keeps_the_basis_pursuit_partner(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from sparseflow.cli import main

    run_sweep(SPEC, tmp_path / "s", workers=0, progress=False)
    out = tmp_path / "gap.png"
    assert (
        main(["plot", str(tmp_path / "s"), "--kind", "gap", "--solver", "limit", "-o", str(out)])
        == 0
    )
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert "(6 trials)" in capsys.readouterr().out
    assert main(["plot", str(tmp_path / "s"), "--kind", "gap", "--solver", "nope"]) == 2
