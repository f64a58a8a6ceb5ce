"""The paper's experiments (THEORY §6) as data: grid points, trial counts, seeds, trial function.

Each experiment comes in two sizes: ``"quick"`` (all of them together finish in a few minutes on
two cores) and ``"full"`` (at least 100 trials per point, the paper's scale). A spec only
describes the work; :mod:`sparseflow.experiments.local` runs it and
:mod:`sparseflow.experiments.report` draws it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_choice

__all__ = ["EXPERIMENTS", "SIZES", "ExperimentSpec", "build_spec", "build_specs"]

SIZES = ("quick", "full")
EXPERIMENTS = ("recovery", "gap", "cost", "phase", "nonnegative", "noise")

# One base seed per experiment, so adding an experiment never changes another's instances.
_BASE_SEEDS = {name: 20230 + i for i, name in enumerate(EXPERIMENTS)}


@dataclass(frozen=True)
class ExperimentSpec:
    """An experiment: every grid point is run ``trials`` times with the trial function ``trial``.

    Attributes
    ----------
    name : str
        Identifier (file names, ``--only``).
    title : str
        One line describing the experiment.
    trial : str
        Key of :data:`sparseflow.experiments.trials.TRIALS`.
    points : tuple of dict
        The grid points: plain JSON-able parameter dictionaries passed to the trial.
    trials : int
        Trials per point; trial k of a point uses seed ``trial_seed(base_seed, point, k)``.
    base_seed : int
    figure : str
        The figure kind (a ``plot_<figure>`` function of :mod:`~sparseflow.experiments.figures`).
    """

    name: str
    title: str
    trial: str
    points: tuple[dict[str, Any], ...]
    trials: int
    base_seed: int
    figure: str

    @property
    def n_trials(self) -> int:
        """Total number of trials."""
        return len(self.points) * self.trials


def _product(base: dict[str, Any], series: Iterable[dict[str, Any]], **axes: Any) -> list[dict]:
    """Points = base ⊕ one series ⊕ one value per axis, over all combinations."""
    names = list(axes)
    out = []
    for opts in series:
        for values in itertools.product(*(axes[k] for k in names)):
            out.append({**base, **opts, **dict(zip(names, values, strict=True))})
    return out


def _floats(values: Any) -> list[float]:
    return [float(f"{v:.4g}") for v in values]


# Solver settings compared in the recovery experiments (THEORY §6.1).
_RECOVERY_SERIES: list[dict[str, Any]] = [
    {"method": "basis-pursuit"},
    {"method": "limit", "depth": 2, "alpha": 1e-3},
    {"method": "limit", "depth": 3, "alpha": 1e-2},
    {"method": "limit", "depth": 4, "alpha": 3e-2},
]


def _recovery(size: str) -> ExperimentSpec:
    quick = size == "quick"
    series = list(_RECOVERY_SERIES)
    if not quick:
        series += [{"method": "limit", "depth": 2, "alpha": 1e-6}]
    m_values = list(range(8, 41, 2)) if quick else list(range(6, 51))
    return ExperimentSpec(
        name="recovery",
        title="Recovery probability vs m (N = 100, s = 5), flow limits beside basis pursuit",
        trial="recovery",
        points=tuple(_product({"n": 100, "s": 5}, series, m=m_values)),
        trials=40 if quick else 100,
        base_seed=_BASE_SEEDS["recovery"],
        figure="recovery",
    )


def _gap(size: str) -> ExperimentSpec:
    quick = size == "quick"
    alphas = _floats(np.logspace(-3, -0.5, 6) if quick else np.logspace(-4, -0.5, 15))
    series = [{"depth": L} for L in (2, 3, 4, 5, 6)]
    return ExperimentSpec(
        name="gap",
        title="ℓ1 gap of the flow limit vs α for L = 2…6 (N = 100, m = 40, s = 5)",
        trial="gap",
        points=tuple(_product({"n": 100, "m": 40, "s": 5}, series, alpha=alphas)),
        trials=5 if quick else 100,
        base_seed=_BASE_SEEDS["gap"],
        figure="gap",
    )


def _cost(size: str) -> ExperimentSpec:
    quick = size == "quick"
    alphas = [0.1, 0.03, 0.01, 0.003, 0.001]
    max_iter = 20_000 if quick else 50_000
    series = [
        {"method": meth, "depth": L, **({"max_iter": max_iter} if meth == "descent" else {})}
        for meth in ("descent", "flow", "limit")
        for L in (2, 3, 4)
    ]
    return ExperimentSpec(
        name="cost",
        title="Cost to reach relative residual 1e-4 vs α: gradient descent, exact flow, limit",
        trial="cost",
        points=tuple(_product({"n": 100, "m": 40, "s": 5, "tol": 1e-4}, series, alpha=alphas)),
        trials=2 if quick else 100,
        base_seed=_BASE_SEEDS["cost"],
        figure="cost",
    )


def _phase(size: str) -> ExperimentSpec:
    quick = size == "quick"
    n = 50 if quick else 100
    m_values = list(range(5, n, 5))
    rhos = np.arange(0.05, 1.0, 0.1 if quick else 0.05)
    points = []
    for m in m_values:
        for s in sorted({max(1, round(r * m)) for r in rhos}):
            if s < m:
                points.append({"n": n, "m": m, "s": s, "method": "basis-pursuit"})
    return ExperimentSpec(
        name="phase",
        title=f"Phase transition of basis pursuit over (m/N, s/m), N = {n}",
        trial="recovery",
        points=tuple(points),
        trials=20 if quick else 100,
        base_seed=_BASE_SEEDS["phase"],
        figure="phase",
    )


def _nonnegative(size: str) -> ExperimentSpec:
    quick = size == "quick"
    series: list[dict[str, Any]] = [
        {"method": "basis-pursuit"},
        {"method": "limit", "depth": 3, "alpha": 1e-2},
        {"method": "limit", "depth": 3, "alpha": 1e-2, "nonnegative": True},
        {"method": "limit", "depth": 2, "alpha": 1e-3, "nonnegative": True},
    ]
    m_values = list(range(6, 37, 2)) if quick else list(range(4, 41))
    return ExperimentSpec(
        name="nonnegative",
        title="Non-negative signals: the non-negative model x = u^L vs the signed one (N = 100)",
        trial="recovery",
        points=tuple(_product({"n": 100, "s": 5, "values": "positive"}, series, m=m_values)),
        trials=40 if quick else 100,
        base_seed=_BASE_SEEDS["nonnegative"],
        figure="nonnegative",
    )


def _noise(size: str) -> ExperimentSpec:
    quick = size == "quick"
    sigmas = _floats(np.logspace(-3, -1, 5 if quick else 9))
    series: list[dict[str, Any]] = [
        {"method": "descent", "depth": 2, "alpha": 1e-3, "early_stop": True, "max_iter": 50_000},
        {"method": "lasso"},
        {"method": "limit", "depth": 3, "alpha": 1e-2},
        {"method": "basis-pursuit"},
    ]
    return ExperimentSpec(
        name="noise",
        title="Noisy data: early stopping (discrepancy principle) vs LASSO vs interpolation",
        trial="noisy",
        points=tuple(_product({"n": 100, "m": 40, "s": 5}, series, noise=sigmas)),
        trials=6 if quick else 100,
        base_seed=_BASE_SEEDS["noise"],
        figure="noise",
    )


_BUILDERS = {
    "recovery": _recovery,
    "gap": _gap,
    "cost": _cost,
    "phase": _phase,
    "nonnegative": _nonnegative,
    "noise": _noise,
}


def build_spec(name: str, size: str = "quick") -> ExperimentSpec:
    """The spec of one experiment.

    Parameters
    ----------
    name : {"recovery", "gap", "cost", "phase", "nonnegative", "noise"}
    size : {"quick", "full"}, default "quick"

    Returns
    -------
    ExperimentSpec

    Examples
    --------
    >>> from sparseflow.experiments.specs import build_spec
    >>> spec = build_spec("recovery", "full")
    >>> spec.trials >= 100, spec.points[0]
    (True, {'n': 100, 's': 5, 'method': 'basis-pursuit', 'm': 6})
    """
    check_choice(name, "name", EXPERIMENTS)
    check_choice(size, "size", SIZES)
    return _BUILDERS[name](size)


def build_specs(size: str = "quick", only: Iterable[str] | None = None) -> list[ExperimentSpec]:
    """The specs of all experiments (or of those named in ``only``), in a fixed order."""
    names = list(EXPERIMENTS) if only is None else list(only)
    return [build_spec(name, size) for name in names]
