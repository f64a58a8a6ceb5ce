"""Sweep specs: parsing, validation messages naming the key, and the task expansion."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparseflow.experiments.sweepspec import SpecError, load_spec, parse_spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def base(**changes):
    spec = {
        "trials": 7,
        "task_size": 3,
        "seed": 5,
        "grid": {"n": 30, "s": 2, "m": [10, 15]},
        "solvers": {"limit": {"depth": [2, 3], "alpha": 1e-2}, "bp": {"method": "basis-pursuit"}},
    }
    spec.update(changes)
    return spec


def test_tasks_partition_every_trial_exactly_once():
    spec = parse_spec(base())
    tasks = list(spec.tasks())
    assert spec.n_tasks == len(tasks) == 2 * 3 * 3  # points × configurations × chunks
    assert spec.n_trials == 2 * 3 * 7
    assert [t.task_index for t in tasks] == list(range(len(tasks)))
    assert len({t.task_id for t in tasks}) == len(tasks)
    cells: dict[tuple, list[int]] = {}
    for t in tasks:
        key = (t.point["m"], t.solver, t.params.get("depth"))
        cells.setdefault(key, []).extend(range(t.start, t.stop))
        assert 1 <= t.n_trials <= 3
        assert t.params["method"] in ("limit", "basis-pursuit")
    assert all(sorted(trials) == list(range(7)) for trials in cells.values())
    assert len(cells) == 6


def test_task_ids_do_not_depend_on_key_order_and_change_with_the_seed():
    spec = parse_spec(base())
    reordered = base(grid={"m": [10, 15], "s": 2, "n": 30})
    reordered["solvers"] = {
        "bp": {"method": "basis-pursuit"},
        "limit": {"alpha": 1e-2, "depth": [2, 3]},
    }
    ids = [t.task_id for t in spec.tasks()]
    assert [t.task_id for t in parse_spec(reordered).tasks()] == ids
    assert parse_spec(reordered).spec_hash == spec.spec_hash
    other = parse_spec(base(seed=6))
    assert set(t.task_id for t in other.tasks()).isdisjoint(ids)
    assert other.spec_hash != spec.spec_hash


def test_seed_point_excludes_the_solver_so_solvers_share_instances():
    spec = parse_spec(base())
    points = {
        (t.solver, t.params.get("depth")): dict(t.point)
        for t in spec.tasks()
        if t.start == 0 and t.point["m"] == 10
    }
    assert len(points) == 3
    assert all(p == {"m": 10, "n": 30, "s": 2} for p in points.values())


def test_load_spec_reads_toml_and_defaults_name_to_stem(tmp_path):
    file = tmp_path / "mine.toml"
    file.write_text("trials = 2\n[grid]\nn = 20\nm = 10\ns = 1\n[solvers.limit]\ndepth = 3\n")
    spec = load_spec(file)
    assert spec.name == "mine" and spec.trial == "recovery" and spec.seed == 0
    assert spec.task_size == 2  # capped at trials
    assert spec.grid == {"n": [20], "m": [10], "s": [1]}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_specs_are_valid(path):
    spec = load_spec(path)
    assert spec.n_trials > 0 and spec.name == path.stem


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"trails": 3}, "'trails'"),
        ({"trials": None}, "trials"),
        ({"trials": 0}, "trials"),
        ({"trials": 2.5}, "trials"),
        ({"seed": -1}, "seed"),
        ({"task_size": 0}, "task_size"),
        ({"trial": "nope"}, "trial"),
        ({"trial": "os.path:nothing_here"}, "trial"),
        ({"grid": None}, "grid"),
        ({"grid": {"n": 30, "s": 2}}, "grid.m"),
        ({"grid": {"n": 30, "s": 2, "m": []}}, "grid.m"),
        ({"grid": {"n": 30, "s": 2, "m": [10, 10]}}, "grid.m"),
        ({"grid": {"n": 30, "s": 2, "m": [10, [1]]}}, "grid.m"),
        ({"grid": {"n": 30, "s": 2, "m": 10, "seed": 1}}, "grid.seed"),
        ({"grid": {"n": 30, "s": 2, "m": 10, "depth": 3}}, "solvers.limit.depth"),
        (
            {
                "grid": {"n": 30, "s": 2, "m": 10, "depth": 3},
                "solvers": {"bp": {"method": "basis-pursuit"}},
            },
            "grid.depth",
        ),
        ({"solvers": {"limit": {"dept": 3}}}, "solvers.limit.dept"),
        ({"solvers": {"fast": {"depth": 3}}}, "solvers.fast.method"),
        ({"solvers": {"limit": 3}}, "solvers.limit"),
        ({"solvers": {"limit": {"m": 3}}}, "solvers.limit.m"),
        ({"solvers": {}}, "solvers"),
    ],
)
def test_invalid_specs_name_the_key(changes, key):
    data = base(**changes)
    if changes.get("trials", 1) is None:
        del data["trials"]
    with pytest.raises(SpecError, match=key.replace(".", r"\.")):
        parse_spec(data)


def test_bad_files_are_reported(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("trials = [\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)
