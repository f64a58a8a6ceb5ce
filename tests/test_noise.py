"""Noisy measurements: the discrepancy principle and the noise-aware baselines."""

from __future__ import annotations

import numpy as np
import pytest

import sparseflow
from sparseflow.result import StopReason
from tests.references import gaussian_instance

SIGMA = 0.02


@pytest.fixture(scope="module")
def noisy():
    A, x_true, y0 = gaussian_instance(200, 80, 8, seed=3)
    y = y0 + SIGMA * np.random.default_rng(1).standard_normal(80)
    return A, x_true, y


def test_descent_stops_by_the_discrepancy_principle(noisy) -> None:
    A, x_true, y = noisy
    target = 1.1 * SIGMA * np.sqrt(A.shape[0])
    res = sparseflow.gradient_descent(A, y, depth=2, alpha=1e-3, noise_level=SIGMA)
    assert res.converged and res.status is StopReason.CONVERGED
    assert "discrepancy" in res.message
    residual = np.linalg.norm(A @ res.x - y)
    assert residual <= target
    # it stopped at the first iterate below the target, not after fitting the noise
    previous = sparseflow.gradient_descent(A, y, depth=2, alpha=1e-3, max_iter=res.n_iter - 1)
    assert np.linalg.norm(A @ previous.x - y) > target
    # measured: relative error 0.158 (interpolating limit 0.126, lasso 0.169, OMP 0.042, IHT 0.105)
    assert np.linalg.norm(res.x - x_true) <= 0.25 * np.linalg.norm(x_true)


def test_discrepancy_factor_is_used(noisy) -> None:
    A, _, y = noisy
    loose = sparseflow.gradient_descent(A, y, depth=2, alpha=1e-3, noise_level=SIGMA, discrepancy=3)
    tight = sparseflow.gradient_descent(A, y, depth=2, alpha=1e-3, noise_level=SIGMA)
    assert loose.n_iter < tight.n_iter
    assert np.linalg.norm(A @ loose.x - y) <= 3 * SIGMA * np.sqrt(A.shape[0])


def test_batched_noise_levels_stop_each_problem(noisy) -> None:
    A, _, y = noisy
    Y = np.column_stack([y, 2 * y])
    res = sparseflow.gradient_descent(A, Y, depth=2, alpha=1e-3, noise_level=SIGMA, step=0.01)
    assert res.converged
    assert np.all(np.linalg.norm(A @ res.x - Y, axis=0) <= 1.1 * SIGMA * np.sqrt(A.shape[0]))


def test_lasso_with_universal_lambda(noisy) -> None:
    A, x_true, y = noisy
    res = sparseflow.lasso(A, y, noise_level=SIGMA)
    assert res.converged
    expected = SIGMA * np.sqrt(2 * np.log(200)) * np.max(np.linalg.norm(A, axis=0))
    assert res.info["lam"] == pytest.approx(expected, rel=1e-12)
    assert np.linalg.norm(res.x - x_true) <= 0.25 * np.linalg.norm(x_true)  # measured 0.169
    # the universal λ keeps pure-noise coordinates out: few false positives
    false = np.sum((res.x != 0) & (x_true == 0))
    assert false <= 8


def test_omp_and_iht_with_noise_level(noisy) -> None:
    A, x_true, y = noisy
    target = 1.1 * SIGMA * np.sqrt(A.shape[0])
    omp = sparseflow.omp(A, y, noise_level=SIGMA)
    assert omp.converged
    assert np.linalg.norm(A @ omp.x - y) <= target
    assert np.linalg.norm(omp.x - x_true) <= 0.1 * np.linalg.norm(x_true)  # measured 0.042
    iht = sparseflow.iht(A, y, sparsity=8, noise_level=SIGMA)
    assert np.all(np.isfinite(iht.x))
    if iht.converged:
        assert np.linalg.norm(A @ iht.x - y) <= target
    else:
        assert iht.status in (StopReason.STAGNATED, StopReason.MAX_ITER)
