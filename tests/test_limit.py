"""flow_limit against independent references: pseudo-inverse, an LP, a generic optimizer."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import null_space
from scipy.optimize import linprog, minimize

import sparseflow
from sparseflow.models import Model
from sparseflow.result import StopReason

from .conftest import make_problem


def lp_basis_pursuit(A, y):
    """Basis pursuit written independently of sparseflow.basis_pursuit."""
    n = A.shape[1]
    sol = linprog(np.ones(2 * n), A_eq=np.hstack([A, -A]), b_eq=y, bounds=(0, None), method="highs")
    assert sol.status == 0
    return sol.x[:n] - sol.x[n:]


def test_depth_one_is_minimum_norm(problem):
    A, _, y = problem
    res = sparseflow.flow_limit(A, y, depth=1, alpha=0.3)
    assert res.converged
    assert np.allclose(res.x, np.linalg.pinv(A) @ y, atol=1e-10)


def test_sparse_instance_recovered_like_basis_pursuit(problem):
    A, x_true, y = problem
    res = sparseflow.flow_limit(A, y, depth=3, alpha=1e-3)
    assert res.converged and res.status is StopReason.CONVERGED
    x_bp = lp_basis_pursuit(A, y)
    rel = np.linalg.norm(res.x - x_true) / np.linalg.norm(x_true)
    assert rel <= 1e-4
    assert np.linalg.norm(x_bp - x_true) / np.linalg.norm(x_true) <= 1e-4


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_l1_gap_shrinks_with_alpha(depth):
    A, _, y = make_problem(120, 40, 8, seed=3)  # a harder instance: the gap is visible
    l1_bp = np.abs(lp_basis_pursuit(A, y)).sum()
    gaps = []
    for alpha in [1e-1, 1e-2, 1e-3]:
        res = sparseflow.flow_limit(A, y, depth=depth, alpha=alpha)
        assert res.converged
        gaps.append(np.abs(res.x).sum() - l1_bp)
    assert gaps[0] > gaps[1] > gaps[2] > -1e-9


@pytest.mark.parametrize("nonnegative", [False, True])
@pytest.mark.parametrize("depth", [2, 3, 4])
def test_limit_minimizes_implicit_regularizer(small_problem, depth, nonnegative):
    """x∞ = argmin Σ g(z) s.t. Az = y, minimized by BFGS over the null space of A."""
    A, _, y = small_problem
    if nonnegative:
        A, _, y = make_problem(40, 20, 3, seed=7, nonnegative=True)
    alpha = 0.3
    model = Model(depth, alpha, nonnegative)
    res = sparseflow.flow_limit(A, y, depth=depth, alpha=alpha, nonnegative=nonnegative)
    assert res.converged
    basis = null_space(A)
    z0 = res.x  # feasible starting point; BFGS must not be able to improve the objective

    def objective(c):
        return float(np.sum(model.regularizer(z0 + basis @ c)))

    rng = np.random.default_rng(0)
    if not nonnegative:
        best = minimize(
            objective,
            0.05 * rng.standard_normal(basis.shape[1]),
            method="BFGS",
            options={"gtol": 1e-12},
        )
        assert objective(np.zeros(basis.shape[1])) <= best.fun + 1e-9 * abs(best.fun)
    # no feasible point nearby is better (Σg is convex, so local optimality is global)
    base = objective(np.zeros(basis.shape[1]))
    for _ in range(50):
        c = rng.standard_normal(basis.shape[1])
        c *= 1e-3 * np.min(np.abs(z0)) / np.linalg.norm(basis @ c) if nonnegative else 1e-3
        assert objective(c) >= base - 1e-12 * abs(base)
    # and the KKT condition holds: g'(x) lies in the range of Aᵀ
    grad = model.link_inverse(res.x)
    coef, *_ = np.linalg.lstsq(A.T, grad, rcond=None)
    assert np.linalg.norm(A.T @ coef - grad) <= 1e-6 * np.linalg.norm(grad)


def test_batched_equals_looped(problem):
    A, _x_true, y = problem
    rng = np.random.default_rng(5)
    Y = np.column_stack([y, A @ rng.standard_normal(A.shape[1]), 3 * y])
    batch = sparseflow.flow_limit(A, Y, depth=3, alpha=1e-2)
    assert batch.x.shape == (A.shape[1], 3)
    for j in range(3):
        single = sparseflow.flow_limit(A, Y[:, j], depth=3, alpha=1e-2)
        assert np.array_equal(single.x, batch.x[:, j])
        assert single.converged == batch.info["status"][j].name.startswith("CONV")


def test_vector_alpha_weights_the_support(small_problem):
    """A per-coordinate α favours coordinates with a larger initial scale."""
    A, x_true, y = small_problem
    alpha = np.full(A.shape[1], 1e-3)
    alpha[np.flatnonzero(x_true)] = 1e-1
    res = sparseflow.flow_limit(A, y, depth=3, alpha=alpha)
    assert res.converged
    assert np.linalg.norm(res.x - x_true) <= 1e-3 * np.linalg.norm(x_true)


def test_zero_measurements_give_zero():
    A, _, _ = make_problem(30, 10, 2, seed=0)
    res = sparseflow.flow_limit(A, np.zeros(10), depth=3, alpha=1e-2)
    assert res.converged and np.array_equal(res.x, np.zeros(30))


def test_precision_limit_is_reported_not_hidden(problem):
    """For α^(L-2) far below float64 resolution the result says so instead of claiming success."""
    A, _, y = problem
    res = sparseflow.flow_limit(A, y, depth=10, alpha=1e-3)
    assert np.all(np.isfinite(res.x))
    if not res.converged:
        assert res.status in (StopReason.PRECISION, StopReason.MAX_ITER)
        assert "alpha" in res.message or "max_iter" in res.message
    else:  # an improved solver may resolve it: then it must really be a solution
        assert np.linalg.norm(A @ res.x - y) <= 1e-8 * np.linalg.norm(y)


def test_sparse_and_operator_inputs_agree_with_dense(small_problem):
    import scipy.sparse as sp
    from scipy.sparse.linalg import aslinearoperator

    A, _, y = small_problem
    dense = sparseflow.flow_limit(A, y, depth=3, alpha=1e-2)
    for variant in (sp.csr_matrix(A), aslinearoperator(A)):
        other = sparseflow.flow_limit(variant, y, depth=3, alpha=1e-2)
        assert other.converged
        assert np.allclose(other.x, dense.x, rtol=1e-6, atol=1e-9)


def test_nonnegative_zero_measurements_converge_to_a_feasible_point():
    """y = 0: the limit is the projection of α^L·1 onto {z ≥ 0, Az = 0}, found to tolerance."""
    A, _, _ = make_problem(30, 10, 2, seed=0)
    res = sparseflow.flow_limit(A, np.zeros(10), depth=3, alpha=1e-2, nonnegative=True)
    assert res.converged, res.message
    start = np.linalg.norm(A @ np.full(30, 1e-2**3))
    assert np.linalg.norm(A @ res.x) <= 1e-10 * start
    assert np.all(res.x >= 0) and "e+2" not in res.message
