"""basis_pursuit and min_norm against independent references."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.linalg import aslinearoperator

import sparseflow


def test_basis_pursuit_recovers_sparse_vector(problem):
    A, x_true, y = problem
    res = sparseflow.basis_pursuit(A, y)
    assert res.converged
    assert np.linalg.norm(res.x - x_true) <= 1e-6 * np.linalg.norm(x_true)


def test_basis_pursuit_is_l1_optimal_on_a_hard_instance():
    """When recovery fails, BP still attains the LP optimum of the split formulation."""
    rng = np.random.default_rng(8)
    A = rng.standard_normal((10, 40))
    y = A @ rng.standard_normal(40)  # dense x: BP cannot recover it, but must be optimal
    res = sparseflow.basis_pursuit(A, y)
    # independent LP in epigraph form: min Σ t  s.t.  −t ≤ z ≤ t, Az = y
    n = 40
    c = np.concatenate([np.zeros(n), np.ones(n)])
    eye = np.eye(n)
    A_ub = np.block([[eye, -eye], [-eye, -eye]])
    ref = linprog(
        c,
        A_ub=A_ub,
        b_ub=np.zeros(2 * n),
        A_eq=np.hstack([A, np.zeros((10, n))]),
        b_eq=y,
        bounds=(None, None),
        method="highs-ipm",
    )
    assert ref.status == 0
    assert np.isclose(np.abs(res.x).sum(), ref.fun, rtol=1e-7)
    assert np.linalg.norm(A @ res.x - y) <= 1e-7 * np.linalg.norm(y)


def test_min_norm_matches_pseudo_inverse_for_all_input_kinds(small_problem):
    A, _, y = small_problem
    expected = np.linalg.pinv(A) @ y
    for variant in (A, sp.csr_matrix(A), aslinearoperator(A)):
        res = sparseflow.min_norm(variant, y)
        assert np.allclose(res.x, expected, atol=1e-8)


def test_recover_dispatches_to_each_method(small_problem):
    A, _, y = small_problem
    for method in ("limit", "descent", "basis-pursuit", "min-norm"):
        res = sparseflow.recover(A, y, method=method)
        assert res.x.shape == (A.shape[1],)
        assert np.all(np.isfinite(res.x))


def test_batched_basis_pursuit_equals_looped(small_problem):
    A, _, y = small_problem
    Y = np.column_stack([y, -2 * y])
    batch = sparseflow.basis_pursuit(A, Y)
    assert batch.converged
    for j in range(2):
        assert np.allclose(batch.x[:, j], sparseflow.basis_pursuit(A, Y[:, j]).x, atol=1e-9)
