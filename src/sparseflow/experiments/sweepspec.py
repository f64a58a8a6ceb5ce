"""Sweep specifications: a TOML file naming a grid, a trial function, solvers, trials and a seed.

A spec is data. It is parsed into a :class:`SweepSpec`, validated (every error names the key at
fault), and expanded into :class:`Task` objects: groups of consecutive trials at one grid point
with one solver configuration. The expansion depends only on the spec, never on the number of
workers, so a task's identity (and the seeds of its trials) is the same on every run; that is what
makes resuming and bit-identical results possible.

Example spec::

    name = "recovery-n100"
    trial = "recovery"          # a key of trials.TRIALS, or "module:function"
    trials = 50                 # trials per grid point and solver configuration
    seed = 2024                 # base seed
    task_size = 25              # trials per task

    [grid]                      # instance parameters; a list is swept, a scalar is fixed
    n = 100
    s = 5
    m = [10, 20, 30, 40]

    [solvers.limit]             # a solver configuration; method defaults to the table name
    depth = [2, 3]              # lists of options are swept too
    alpha = 1e-3

    [solvers.bp]
    method = "basis-pursuit"

The seed of trial ``t`` at grid point ``p`` is ``trial_seed(seed, p, t)`` where ``p`` holds the
``[grid]`` values only: every solver configuration sees the same random instances, so solvers are
compared on paired samples.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import itertools
import json
import numbers
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .trials import TRIALS, TrialFunction

__all__ = [
    "RESERVED_COLUMNS",
    "SpecError",
    "SweepSpec",
    "Task",
    "load_spec",
    "parse_spec",
    "resolve_trial",
]

#: Columns the engine adds to every row; grid keys and solver options may not use these names.
RESERVED_COLUMNS = ("task_id", "task_index", "trial", "seed", "solver")

_TOP_KEYS = ("name", "description", "trial", "trials", "seed", "task_size", "grid", "solvers")
DEFAULT_TASK_SIZE = 25


class SpecError(ValueError):
    """A sweep spec is malformed; the message names the key at fault."""


@dataclass(frozen=True)
class Task:
    """Trials ``start, ..., stop - 1`` of one grid point with one solver configuration.

    ``params`` is what the trial function receives (grid point, ``method`` and solver options);
    ``point`` is the grid point alone, from which the trial seeds are derived.
    """

    task_id: str
    task_index: int
    trial: str
    base_seed: int
    point: Mapping[str, Any]
    solver: str | None
    params: Mapping[str, Any]
    start: int
    stop: int

    @property
    def n_trials(self) -> int:
        """Number of trials in the task."""
        return self.stop - self.start


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: grid × solver configurations × trials.

    Build one with :func:`parse_spec` (from a mapping) or :func:`load_spec` (from a TOML file).

    Attributes
    ----------
    name : str
        Name of the sweep (default: the file's stem, or ``"sweep"``).
    trial : str
        Trial function: a key of :data:`~sparseflow.experiments.trials.TRIALS` or
        ``"module:function"``.
    trials : int
        Trials per grid point and solver configuration.
    seed : int
        Base seed.
    task_size : int
        Trials per task (the unit of scheduling and of storage).
    grid : dict
        Parameter name → list of values (scalars in the file become one-element lists).
    solvers : dict
        Solver label → options (``method`` included); a list value is swept.
    description : str
        Free text.

    Examples
    --------
    >>> spec = parse_spec({"trials": 4, "task_size": 2, "grid": {"n": 30, "s": 2, "m": [10, 20]},
    ...                    "solvers": {"limit": {"depth": 3}}})
    >>> spec.n_tasks, spec.n_trials
    (4, 8)
    >>> [(t.point["m"], t.start, t.stop) for t in spec.tasks()][:3]
    [(10, 0, 2), (10, 2, 4), (20, 0, 2)]
    """

    name: str
    trial: str
    trials: int
    seed: int
    task_size: int
    grid: dict[str, list[Any]]
    solvers: dict[str, dict[str, Any]]
    description: str = ""
    _chunks: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bounds = range(0, self.trials, self.task_size)
        chunks = tuple((a, min(a + self.task_size, self.trials)) for a in bounds)
        object.__setattr__(self, "_chunks", chunks)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (what :func:`parse_spec` accepts)."""
        return {
            "name": self.name,
            "description": self.description,
            "trial": self.trial,
            "trials": self.trials,
            "seed": self.seed,
            "task_size": self.task_size,
            "grid": {k: list(v) for k, v in self.grid.items()},
            "solvers": {k: dict(v) for k, v in self.solvers.items()},
        }

    @property
    def spec_hash(self) -> str:
        """Hash of everything that determines the results (not the name or description)."""
        data = self.to_dict()
        del data["name"], data["description"]
        return _digest(data, 16)

    def points(self) -> list[dict[str, Any]]:
        """The grid points, in a canonical order (keys sorted, the last key varying fastest)."""
        keys = sorted(self.grid)
        return [dict(zip(keys, values, strict=True)) for values in _product(self.grid, keys)]

    def configurations(self) -> list[tuple[str | None, dict[str, Any]]]:
        """Solver configurations as (label, options) with swept options expanded."""
        if not self.solvers:
            return [(None, {})]
        configs: list[tuple[str | None, dict[str, Any]]] = []
        for label in sorted(self.solvers):
            options = self.solvers[label]
            keys = sorted(options)
            axes = {k: options[k] if isinstance(options[k], list) else [options[k]] for k in keys}
            for values in _product(axes, keys):
                configs.append((label, dict(zip(keys, values, strict=True))))
        return configs

    @property
    def n_tasks(self) -> int:
        """Number of tasks."""
        return len(self.points()) * len(self.configurations()) * len(self._chunks)

    @property
    def n_trials(self) -> int:
        """Number of trials (rows of the finished store)."""
        return len(self.points()) * len(self.configurations()) * self.trials

    def tasks(self) -> Iterator[Task]:
        """All tasks in canonical order; ``task_index`` counts from 0 in that order."""
        index = 0
        for point in self.points():
            for label, options in self.configurations():
                params = {**point, **options}
                for start, stop in self._chunks:
                    ident = {
                        "trial": self.trial,
                        "seed": self.seed,
                        "point": point,
                        "solver": label,
                        "options": options,
                        "start": start,
                        "stop": stop,
                    }
                    yield Task(
                        task_id=_digest(ident, 12),
                        task_index=index,
                        trial=self.trial,
                        base_seed=self.seed,
                        point=point,
                        solver=label,
                        params=params,
                        start=start,
                        stop=stop,
                    )
                    index += 1


def _product(axes: Mapping[str, list[Any]], keys: list[str]) -> Iterator[tuple[Any, ...]]:
    return itertools.product(*(axes[k] for k in keys))


def _digest(data: Any, size: int) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a TOML sweep spec.

    Parameters
    ----------
    path : str or Path
        The ``.toml`` file. ``name`` defaults to the file's stem.

    Returns
    -------
    SweepSpec

    Raises
    ------
    SpecError
        If the file cannot be read or parsed, or the spec is invalid (the message names the key).
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec: no such file {str(path)!r}")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"spec {str(path)!r} is not valid TOML: {exc}") from None
    data.setdefault("name", path.stem)
    return parse_spec(data)


def parse_spec(data: Mapping[str, Any]) -> SweepSpec:
    """Validate a spec given as a mapping (the parsed TOML) and return a :class:`SweepSpec`.

    Examples
    --------
    >>> parse_spec({"trials": 0, "grid": {"n": 10}})
    Traceback (most recent call last):
    ...
    sparseflow.experiments.sweepspec.SpecError: trials must be a positive integer, got 0
    """
    if not isinstance(data, Mapping):
        raise SpecError(f"a spec must be a table (mapping), got {type(data).__name__}")
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise SpecError(
            f"unknown key {unknown[0]!r} in the spec; expected keys: {', '.join(_TOP_KEYS)}"
        )
    name = _string(data.get("name", "sweep"), "name")
    description = _string(data.get("description", ""), "description")
    trial = _string(data.get("trial", "recovery"), "trial")
    func = resolve_trial(trial)
    trials = _positive_int(data.get("trials"), "trials")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise SpecError(f"seed must be a non-negative integer, got {seed!r}")
    task_size = min(_positive_int(data.get("task_size", DEFAULT_TASK_SIZE), "task_size"), trials)
    grid = _grid(data.get("grid"))
    solvers = _solvers(data.get("solvers", {}), grid)
    if func is TRIALS.get("recovery"):
        _check_recovery(grid, solvers)
    return SweepSpec(
        name=name,
        trial=trial,
        trials=trials,
        seed=int(seed),
        task_size=task_size,
        grid=grid,
        solvers=solvers,
        description=description,
    )


def resolve_trial(name: str) -> TrialFunction:
    """The trial function named ``name``: a registered trial or ``"module:function"``."""
    if name in TRIALS:
        return TRIALS[name]
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            func = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise SpecError(f"trial {name!r} cannot be imported: {exc}") from None
        if not callable(func):
            raise SpecError(f"trial {name!r} is not callable")
        return func
    known = ", ".join(repr(k) for k in sorted(TRIALS))
    raise SpecError(f"trial must be one of {known} or 'module:function', got {name!r}")


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise SpecError(f"{key} must be a string, got {value!r}")
    return value


def _positive_int(value: Any, key: str) -> int:
    if value is None:
        raise SpecError(f"{key} is required (a positive integer)")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise SpecError(f"{key} must be a positive integer, got {value!r}")
    return int(value)


def _check_value(value: Any, key: str) -> None:
    # Values become Parquet columns and JSON in task ids: only plain scalars are allowed.
    if isinstance(value, bool | int | float | str):
        if isinstance(value, float) and value != value:
            raise SpecError(f"{key} must not be NaN")
        return
    raise SpecError(f"{key} must be a number, string or boolean (or a list of them), got {value!r}")


def _axis(value: Any, key: str) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise SpecError(f"{key} is an empty list; give at least one value")
    for item in values:
        _check_value(item, key)
    if len({json.dumps(v) for v in values}) != len(values):
        raise SpecError(f"{key} lists a value twice: {values!r}")
    return list(values)


def _check_name(name: str, key: str) -> None:
    if name in RESERVED_COLUMNS:
        raise SpecError(
            f"{key}: {name!r} is reserved for the engine ({', '.join(RESERVED_COLUMNS)})"
        )


def _grid(value: Any) -> dict[str, list[Any]]:
    if value is None:
        raise SpecError("grid is required: a table of parameter names and values")
    if not isinstance(value, Mapping) or not value:
        raise SpecError(f"grid must be a non-empty table, got {value!r}")
    grid: dict[str, list[Any]] = {}
    for name, values in value.items():
        _check_name(name, f"grid.{name}")
        grid[name] = _axis(values, f"grid.{name}")
    return grid


def _solvers(value: Any, grid: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Mapping):
        raise SpecError(f"solvers must be a table of [solvers.NAME] tables, got {value!r}")
    solvers: dict[str, dict[str, Any]] = {}
    for label, options in value.items():
        key = f"solvers.{label}"
        if not isinstance(options, Mapping):
            raise SpecError(f"{key} must be a table of solver options, got {options!r}")
        opts: dict[str, Any] = {"method": label, **options}
        for name, item in opts.items():
            _check_name(name, f"{key}.{name}")
            if name in grid:
                raise SpecError(f"{key}.{name} is also a grid parameter; name it in one place")
            axis = _axis(item, f"{key}.{name}")
            opts[name] = axis if isinstance(item, list) else item
        solvers[label] = opts
    return solvers


def _check_recovery(grid: Mapping[str, Any], solvers: Mapping[str, Mapping[str, Any]]) -> None:
    from ..solvers import METHODS

    for size in ("n", "m", "s"):
        if size not in grid:
            raise SpecError(f"grid.{size} is required by the recovery trial")
    if not solvers:
        if "method" not in grid:
            raise SpecError("the recovery trial needs at least one [solvers.NAME] table")
        return
    trial_keys = {"values", "noise", "threshold"}
    # Grid parameters other than the instance's reach the solver as options.
    grid_options = set(grid) - {"n", "m", "s", "method"} - trial_keys
    for label, options in solvers.items():
        methods = options["method"] if isinstance(options["method"], list) else [options["method"]]
        for method in methods:
            if method not in METHODS:
                raise SpecError(
                    f"solvers.{label}.method must be one of {', '.join(METHODS)}, got {method!r}"
                )
            accepted = set(inspect.signature(METHODS[method]).parameters) - {"A", "y"}
            for name in options:
                if name != "method" and name not in accepted | trial_keys:
                    raise SpecError(
                        f"solvers.{label}.{name} is not an option of method {method!r}; "
                        f"accepted: {', '.join(sorted(accepted | trial_keys))}"
                    )
            for name in sorted(grid_options - accepted):
                raise SpecError(
                    f"grid.{name} is passed to every solver, but method {method!r} "
                    f"(solvers.{label}) has no option {name!r}"
                )
