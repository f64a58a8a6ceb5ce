"""LASSO against closed forms and a generic bound-constrained optimizer."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

import sparseflow
from sparseflow.result import StopReason
from sparseflow.solvers.lasso import lasso_lambda
from tests.references import gaussian_instance


def _objective(A: np.ndarray, y: np.ndarray, x: np.ndarray, lam: float) -> float:
    return 0.5 * float(np.sum((A @ x - y) ** 2)) + lam * float(np.sum(np.abs(x)))


def test_identity_design_is_soft_thresholding() -> None:
    y = np.array([3.0, -0.5, 0.2, -2.0, 1.0])
    res = sparseflow.lasso(np.eye(5), y, lam=0.7, tol=1e-12)
    expected = np.sign(y) * np.maximum(np.abs(y) - 0.7, 0.0)
    assert res.converged
    assert np.allclose(res.x, expected, atol=1e-10)


def test_large_lambda_gives_exactly_zero() -> None:
    A, _, y = gaussian_instance(80, 30, 3, seed=2)
    lam = 1.01 * np.max(np.abs(A.T @ y))
    res = sparseflow.lasso(A, y, lam=lam)
    assert res.converged
    assert np.array_equal(res.x, np.zeros(80))


@pytest.mark.parametrize("ratio", [0.3, 0.05])
def test_matches_a_generic_optimizer(ratio: float) -> None:
    A, _, y = gaussian_instance(80, 30, 3, seed=2)
    lam = ratio * np.max(np.abs(A.T @ y))
    res = sparseflow.lasso(A, y, lam=lam, tol=1e-10, max_iter=100_000)
    assert res.converged
    n = A.shape[1]

    # split x = p − q with p, q ≥ 0: a smooth bound-constrained problem for L-BFGS-B
    def f(v: np.ndarray) -> tuple[float, np.ndarray]:
        x = v[:n] - v[n:]
        r = A @ x - y
        g = A.T @ r
        return 0.5 * float(r @ r) + lam * float(v.sum()), np.concatenate([g + lam, -g + lam])

    ref = minimize(
        f,
        np.zeros(2 * n),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0, None)] * (2 * n),
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 50_000},
    )
    x_ref = ref.x[:n] - ref.x[n:]
    assert _objective(A, y, res.x, lam) <= _objective(A, y, x_ref, lam) + 1e-9
    assert np.linalg.norm(res.x - x_ref) <= 1e-4 * max(np.linalg.norm(x_ref), 1e-12)


def test_lambda_rules() -> None:
    A, _, y = gaussian_instance(80, 30, 3, seed=2)
    assert lasso_lambda(A, y) == pytest.approx(1e-3 * np.max(np.abs(A.T @ y)))
    expected = 0.1 * np.sqrt(2 * np.log(80)) * np.max(np.linalg.norm(A, axis=0))
    assert lasso_lambda(A, y, noise_level=0.1) == pytest.approx(expected)


def test_budget_exhausted_is_reported() -> None:
    A, _, y = gaussian_instance(80, 30, 3, seed=2)
    res = sparseflow.lasso(A, y, lam=1e-3, max_iter=3)
    assert not res.converged
    assert res.status is StopReason.MAX_ITER
    assert "max_iter=3" in res.message
