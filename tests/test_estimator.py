"""The scikit-learn estimator: sklearn's own conformance checks and recovery on known data."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks

from sparseflow import OverparamRegressor, basis_pursuit
from sparseflow.estimator import reduce_system

from .conftest import make_problem


@parametrize_with_checks([OverparamRegressor()])
def test_sklearn_conformance(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks([OverparamRegressor(depth=2, solver="descent")])
def test_sklearn_conformance_descent(estimator, check):
    check(estimator)


def test_recovers_sparse_weights_like_basis_pursuit():
    A, x, y = make_problem(120, 50, 5, seed=3)
    model = OverparamRegressor(depth=3, alpha=1e-4, fit_intercept=False).fit(A, y)
    reference = basis_pursuit(A, y).x  # an independent LP
    assert model.result_.converged
    assert np.linalg.norm(model.coef_ - reference) < 1e-3 * np.linalg.norm(reference)
    assert np.allclose(model.predict(A), y, atol=1e-8)


def test_intercept_is_recovered():
    A, x, y = make_problem(120, 50, 5, seed=4)
    model = OverparamRegressor(alpha=1e-4).fit(A, y + 3.0)
    assert model.intercept_ == pytest.approx(3.0, abs=1e-6)
    assert np.allclose(model.coef_, x, atol=1e-5)


def test_tall_full_rank_data_gives_ordinary_least_squares():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8))
    y = rng.standard_normal(60)
    model = OverparamRegressor(depth=3, alpha=1e-2, fit_intercept=False).fit(X, y)
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    assert np.allclose(model.coef_, ols, atol=1e-7)


def test_tall_rank_deficient_data_keeps_the_implicit_bias():
    # Duplicated columns: least squares has a line of solutions; the flow picks the ℓ1-like one.
    A, _, y = make_problem(30, 12, 2, seed=5)
    X = np.vstack([A, A, A])  # 36 × 30, rank 12
    model = OverparamRegressor(depth=3, alpha=1e-4, fit_intercept=False).fit(X, np.tile(y, 3))
    assert model.rank_ == 12
    reference = basis_pursuit(A, y).x
    assert np.linalg.norm(model.coef_ - reference) < 1e-3 * np.linalg.norm(reference)


def test_reduced_system_has_the_same_normal_equations():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 7)) @ rng.standard_normal((7, 15))  # rank 7
    y = rng.standard_normal(20)
    B, c = reduce_system(X, y)
    assert B.shape == (7, 15)
    assert np.allclose(B.T @ B, X.T @ X)
    assert np.allclose(B.T @ c, X.T @ y)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"solver": "lbfgs"}, "solver"),
        ({"alpha": -1.0}, "alpha"),
        ({"depth": 0}, "depth"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        OverparamRegressor(**params).fit(np.eye(3), np.ones(3))
