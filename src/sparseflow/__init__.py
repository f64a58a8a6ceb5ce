"""sparseflow: sparse recovery by gradient descent on overparameterized least squares.

Write x = u^L − v^L, start from u = v = α and run gradient descent on ½‖A(u^L − v^L) − y‖²:
for small α (and better for larger L) the iterates converge to an approximately ℓ1-minimal
solution of Ax = y (Chou, Maly, Rauhut, 2023).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .models import Model
from .operators import MeasurementOperator, as_operator, dottest
from .result import RecoveryResult, SparseflowWarning, StopReason
from .solvers import (
    METHODS,
    basis_pursuit,
    basis_pursuit_admm,
    flow_limit,
    gradient_descent,
    gradient_flow,
    iht,
    lasso,
    min_norm,
    mirror_descent,
    omp,
    recover,
)

try:
    __version__ = version("sparseflow")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"


def __getattr__(name: str) -> object:
    # The scikit-learn estimator is imported on first use: scikit-learn is an optional extra.
    if name == "OverparamRegressor":
        from .estimator import OverparamRegressor

        return OverparamRegressor
    raise AttributeError(f"module 'sparseflow' has no attribute {name!r}")


__all__ = [
    "METHODS",
    "MeasurementOperator",
    "Model",
    "OverparamRegressor",
    "RecoveryResult",
    "SparseflowWarning",
    "StopReason",
    "__version__",
    "as_operator",
    "basis_pursuit",
    "basis_pursuit_admm",
    "dottest",
    "flow_limit",
    "gradient_descent",
    "gradient_flow",
    "iht",
    "lasso",
    "min_norm",
    "mirror_descent",
    "omp",
    "recover",
]
