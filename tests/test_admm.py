"""ADMM basis pursuit against the HiGHS linear program (an independent reference)."""

from __future__ import annotations

import numpy as np
import pytest

from sparseflow import StopReason, basis_pursuit, basis_pursuit_admm
from sparseflow.transforms import PartialDCT, WaveletSynthesis, compose, random_rows

from .conftest import make_problem


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_l1_objective_matches_the_lp_on_dense_random_data(seed):
    # Random y (not sparse-generated): the ℓ1 minimizer is not the generating signal, so the
    # comparison is of optimal values, the quantity both solvers certify.
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((25, 60))
    y = rng.standard_normal(25)
    lp = basis_pursuit(A, y)
    admm = basis_pursuit_admm(A, y, tol=1e-10, max_iter=50_000)
    assert admm.converged, admm.message
    assert np.linalg.norm(A @ admm.x - y) <= 1e-8 * np.linalg.norm(y)
    assert np.abs(admm.x).sum() == pytest.approx(np.abs(lp.x).sum(), rel=1e-6)


def test_recovers_a_sparse_signal_on_a_matrix_free_operator():
    W = WaveletSynthesis((16, 16), "db2", level=2)
    A = compose(PartialDCT((16, 16), random_rows(256, 100, seed=3)), W)
    c = np.zeros(256)
    c[[0, 5, 17, 80, 200]] = [4.0, -1.0, 2.0, 0.5, -1.5]
    y = A.matvec(c)
    admm = basis_pursuit_admm(A, y, tol=1e-10, max_iter=50_000)
    lp = basis_pursuit(A.toarray(), y)
    assert admm.converged
    assert np.allclose(lp.x, c, atol=1e-7)  # the LP certifies exact recovery here
    assert np.allclose(admm.x, c, atol=1e-6)


def test_operator_without_orthonormal_rows_uses_cg_projection():
    from scipy.sparse.linalg import aslinearoperator

    A, x, y = make_problem(60, 30, 3, seed=2)
    admm = basis_pursuit_admm(aslinearoperator(A), y, tol=1e-10, max_iter=50_000)
    assert admm.converged
    assert np.allclose(admm.x, x, atol=1e-6)


def test_batch_equals_loop():
    A, _, y1 = make_problem(50, 25, 3, seed=8)
    _, _, y2 = make_problem(50, 25, 3, seed=9)
    Y = np.column_stack([y1, A @ np.linspace(-1, 1, 50)])
    batch = basis_pursuit_admm(A, Y, tol=1e-9)
    for j in range(2):
        single = basis_pursuit_admm(A, Y[:, j], tol=1e-9)
        assert np.allclose(batch.x[:, j], single.x)


def test_zero_measurements_give_zero():
    A, _, _ = make_problem(30, 10, 2, seed=1)
    result = basis_pursuit_admm(A, np.zeros(10))
    assert result.converged and not np.any(result.x)


def test_iteration_bound_is_reported():
    A, _, y = make_problem(80, 30, 10, seed=4)
    result = basis_pursuit_admm(A, y, tol=1e-14, max_iter=5)
    assert result.status is StopReason.MAX_ITER and not result.converged
    assert "max_iter=5" in result.message


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"tol": 0.0}, "tol"), ({"max_iter": 0}, "max_iter"), ({"rho": -1}, "rho")]
)
def test_bad_arguments_are_named(kwargs, name):
    A, _, y = make_problem(30, 10, 2, seed=1)
    with pytest.raises(ValueError, match=name):
        basis_pursuit_admm(A, y, **kwargs)


def test_rank_deficient_matrix_is_refused():
    A = np.ones((3, 10))
    with pytest.raises(ValueError, match="full row rank"):
        basis_pursuit_admm(A, np.ones(3))
