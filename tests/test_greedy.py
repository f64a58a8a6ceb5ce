"""OMP and IHT against independent least-squares and exact-recovery checks."""

from __future__ import annotations

import numpy as np

import sparseflow
from sparseflow.result import StopReason
from tests.references import gaussian_instance


def test_omp_recovers_support_and_least_squares_values() -> None:
    A, x_true, y = gaussian_instance(120, 50, 5, seed=4)
    res = sparseflow.omp(A, y)
    assert res.converged
    support = sorted(res.info["support"])
    assert support == sorted(np.flatnonzero(x_true).tolist())
    coef = np.linalg.lstsq(A[:, support], y, rcond=None)[0]  # independent LS on the support
    assert np.allclose(res.x[support], coef, atol=1e-12)
    assert np.allclose(res.x, x_true, atol=1e-10)


def test_omp_budget_exhausted_is_not_converged() -> None:
    A, _, y = gaussian_instance(120, 50, 5, seed=4)
    res = sparseflow.omp(A, y, n_nonzero=2)
    assert not res.converged
    assert res.status is StopReason.MAX_ITER
    assert len(res.info["support"]) == 2


def test_omp_never_selects_a_zero_column() -> None:
    A, x_true, _ = gaussian_instance(120, 50, 5, seed=4)
    A = A.copy()
    A[:, 0] = 0.0
    res = sparseflow.omp(A, A @ x_true, n_nonzero=50)
    assert 0 not in res.info["support"]
    assert res.x[0] == 0.0


def test_iht_recovers_and_respects_the_sparsity() -> None:
    A, x_true, y = gaussian_instance(120, 60, 4, seed=6)
    res = sparseflow.iht(A, y, sparsity=4)
    assert res.converged
    assert np.count_nonzero(res.x) <= 4
    assert np.linalg.norm(res.x - x_true) <= 1e-6 * np.linalg.norm(x_true)


def test_iht_with_too_small_sparsity_does_not_converge() -> None:
    A, _, y = gaussian_instance(120, 60, 4, seed=6)
    res = sparseflow.iht(A, y, sparsity=1, max_iter=3000)
    assert not res.converged
    assert res.status in (StopReason.STAGNATED, StopReason.MAX_ITER)
    assert np.count_nonzero(res.x) <= 1


def test_iht_loss_never_increases() -> None:
    A, _, y = gaussian_instance(120, 60, 4, seed=6)
    losses = []
    for k in range(1, 30):
        res = sparseflow.iht(A, y, sparsity=6, max_iter=k)
        losses.append(np.linalg.norm(A @ res.x - y))
    assert np.all(np.diff(losses) <= 1e-12)


def test_greedy_methods_are_registered() -> None:
    assert sparseflow.METHODS["omp"] is sparseflow.omp
    assert sparseflow.METHODS["iht"] is sparseflow.iht
    A, x_true, y = gaussian_instance(120, 50, 5, seed=4)
    res = sparseflow.recover(A, y, method="iht", sparsity=5)
    assert np.allclose(res.x, x_true, atol=1e-6)
