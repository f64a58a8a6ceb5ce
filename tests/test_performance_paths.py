"""The fast paths of issue 5 against independent references (closed forms, an LP, plain loops)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.linalg import aslinearoperator

import sparseflow
from sparseflow.models import Model
from sparseflow.operators import as_operator
from sparseflow.solvers import _jit, _newton
from sparseflow.solvers._newton import NewtonSystem


def gaussian(m: int, n: int, s: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x = np.zeros(n)
    x[rng.choice(n, s, replace=False)] = rng.standard_normal(s)
    return A, x, A @ x


def lp_basis_pursuit(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    n = A.shape[1]
    res = linprog(np.ones(2 * n), A_eq=np.hstack([A, -A]), b_eq=y, bounds=(0, None))
    return res.x[:n] - res.x[n:]


# --- Newton directions ------------------------------------------------------------------------
def stiff_weights(n: int, seed: int = 1) -> np.ndarray:
    """Hessian weights like those near the flow's limit: a few huge, the rest tiny and spread."""
    rng = np.random.default_rng(seed)
    d = 1e-11 * np.exp(rng.uniform(0, np.log(50.0), n))
    d[rng.choice(n, n // 20, replace=False)] = 10.0 ** rng.uniform(-6, 1, n // 20)
    return d


@pytest.mark.parametrize("kind", ["dense", "sparse", "operator", "operator-pcg"])
@pytest.mark.parametrize("factor_gram", [False, True])
def test_newton_direction_solves_the_system(kind: str, factor_gram: bool) -> None:
    A, _, _ = gaussian(60, 400, 5)
    if kind == "sparse":
        A = sp.random(60, 400, density=0.3, random_state=3, format="csr").toarray()
    d = stiff_weights(400)
    r = np.random.default_rng(2).standard_normal(60)
    M = A @ (d[:, None] * A.T)
    matrix_free = kind.startswith("operator")
    operand = sp.csr_matrix(A) if kind == "sparse" else aslinearoperator(A) if matrix_free else A
    system = NewtonSystem(as_operator(operand), method="cg" if kind == "operator" else "pcg")
    system.factor_gram = factor_gram and not matrix_free
    delta, image = system.direction(d, r, rel_residual=1e-24)  # forcing term 1e-12
    direct, direct_image = NewtonSystem(as_operator(A), method="direct").direction(d, r, 1e-24)
    # the second output is AᵀΔ (accumulated inside CG, computed after the direct solve)
    for sol, img in ((delta, image), (direct, direct_image)):
        np.testing.assert_allclose(img, A.T @ sol, rtol=0, atol=1e-9 * np.linalg.norm(A.T @ sol))
    # M's condition number is ~1e12, so float64 resolves M Δ = −r only to a small normwise
    # backward error ‖MΔ + r‖ / (‖M‖‖Δ‖ + ‖r‖); both paths must reach it.
    norm_m = np.linalg.norm(M, 2)
    for sol in (delta, direct):
        backward = np.linalg.norm(M @ sol + r) / (norm_m * np.linalg.norm(sol) + np.linalg.norm(r))
        assert backward <= 1e-11
    assert np.linalg.norm(delta - direct) <= 1e-3 * np.linalg.norm(direct)


def test_pcg_resolves_weights_spanning_twenty_decades() -> None:
    # Near the flow's limit for small α (L = 3, α = 1e-4) the support's weights reach 1e20 times
    # the rest. The preconditioner's closed form for A_Tᵀ P⁻¹v keeps the Hessian products exact
    # there; computed as a product it is rounding error times 1e20, and CG ran to its bound.
    A, _, _ = gaussian(80, 400, 5)
    rng = np.random.default_rng(4)
    d = 1e-12 * np.exp(rng.uniform(0, np.log(30.0), 400))
    d[rng.choice(400, 12, replace=False)] = 10.0 ** rng.uniform(4, 8, 12)
    r = rng.standard_normal(80)
    system = NewtonSystem(as_operator(A), method="pcg")
    delta, image = system.direction(d, r, rel_residual=1e-8)  # forcing term 1e-4
    assert system.cg_iterations <= 30  # 15 here; 200 (the bound) with the product
    M = A @ (d[:, None] * A.T)
    # M Δ in float64 carries an error of eps‖M‖‖Δ‖, so only the normwise backward error can
    # be checked: 4e-17 here, 3e-12 with the product
    backward = np.linalg.norm(M @ delta + r) / (
        np.linalg.norm(M, 2) * np.linalg.norm(delta) + np.linalg.norm(r)
    )
    assert backward <= 1e-14
    np.testing.assert_allclose(image, A.T @ delta, rtol=0, atol=1e-9 * np.linalg.norm(image))


def test_weighted_gram_is_the_product() -> None:
    rng = np.random.default_rng(5)
    for m, n in [(1, 1), (7, 3), (30, 90)]:
        A, d = rng.standard_normal((m, n)), rng.random(n)
        G = _newton.weighted_gram(A, d)
        np.testing.assert_allclose(G, (A * d) @ A.T, rtol=0, atol=1e-13 * np.abs(G).max())
        assert np.array_equal(G, G.T)
    assert np.array_equal(_newton.weighted_gram(np.ones((3, 0)), np.ones(0)), np.zeros((3, 3)))


def test_newton_method_selection_and_validation() -> None:
    small = as_operator(np.ones((5, 10)))
    assert NewtonSystem(small).method == "direct"
    assert NewtonSystem(as_operator(np.eye(300, 400))).method == "pcg"
    # matrix-free: preconditioned when AAᵀ is close to a multiple of I, else plain CG
    assert NewtonSystem(as_operator(aslinearoperator(np.eye(3, 4)))).method == "pcg"
    # one row 100× longer than nine others: λ_max(AAᵀ) ≈ 10 × the mean eigenvalue
    skewed = as_operator(aslinearoperator(np.diag([1.0] * 9 + [100.0]) @ np.eye(10, 12)))
    assert NewtonSystem(skewed).method == "cg"
    with pytest.raises(ValueError, match="method"):
        NewtonSystem(small, method="magic")
    with pytest.raises(ValueError, match="LinearOperator"):
        NewtonSystem(as_operator(aslinearoperator(np.eye(3, 4))), method="direct")
    with pytest.raises(ValueError, match="multiple of I"):
        NewtonSystem(skewed, method="pcg")


def test_inexact_newton_is_loose_far_from_the_solution() -> None:
    A, _, _ = gaussian(60, 400, 5)
    d = stiff_weights(400)
    r = np.random.default_rng(2).standard_normal(60)
    M = A @ (d[:, None] * A.T)
    delta, _ = NewtonSystem(as_operator(A), method="pcg").direction(d, r, rel_residual=1.0)
    rel = np.linalg.norm(M @ delta + r) / np.linalg.norm(r)
    assert rel <= 0.1
    assert r @ delta < 0  # a descent direction for the dual objective


# --- flow_limit on the fast path --------------------------------------------------------------
def test_flow_limit_fast_path_depth1_is_min_norm() -> None:
    A, _, y = gaussian(150, 400, 10)  # 60 000 entries: preconditioned CG
    assert NewtonSystem(as_operator(A)).method == "pcg"
    res = sparseflow.flow_limit(A, y, depth=1, alpha=1.0, tol=1e-12)
    # depth 1, signed: x = 2Aᵀμ lies in the row space, so the limit is A⁺y (closed form)
    np.testing.assert_allclose(res.x, np.linalg.pinv(A) @ y, atol=1e-9)


def test_flow_limit_fast_path_matches_lp_and_direct_path(monkeypatch: pytest.MonkeyPatch) -> None:
    A, x_true, y = gaussian(150, 400, 12, seed=4)
    res = sparseflow.flow_limit(A, y, depth=3, alpha=1e-3, tol=1e-10)
    assert res.converged
    x_bp = lp_basis_pursuit(A, y)
    # §4: the ℓ1 gap shrinks like α^L; the limit is an exact-ish basis pursuit solution here
    assert abs(np.abs(res.x).sum() - np.abs(x_bp).sum()) <= 1e-5 * np.abs(x_bp).sum()
    assert np.linalg.norm(res.x - x_true) <= 1e-5 * np.linalg.norm(x_true)
    monkeypatch.setattr(_newton, "_DIRECT_MAX_ENTRIES", 10**9)
    direct = sparseflow.flow_limit(A, y, depth=3, alpha=1e-3, tol=1e-10)
    np.testing.assert_allclose(res.x, direct.x, atol=1e-8)


def test_flow_limit_fast_path_sparse_and_nonnegative() -> None:
    rng = np.random.default_rng(5)
    A = sp.random(120, 500, density=0.2, random_state=5, format="csr")
    x = np.zeros(500)
    x[rng.choice(500, 6, replace=False)] = rng.uniform(0.5, 2, 6)
    y = A @ x
    dense = sparseflow.flow_limit(A.toarray(), y, depth=3, alpha=1e-2, nonnegative=True)
    sparse = sparseflow.flow_limit(A, y, depth=3, alpha=1e-2, nonnegative=True)
    assert dense.converged and sparse.converged
    assert np.all(sparse.x >= 0)
    np.testing.assert_allclose(sparse.x, dense.x, atol=1e-8)


# --- gradient descent fast loops --------------------------------------------------------------
def plain_descent(A, y, depth, alpha, step, iters, nonnegative=False):  # type: ignore[no-untyped-def]
    u = np.full(A.shape[1], alpha)
    v = u.copy()
    for _ in range(iters):
        g = A.T @ (A @ ((u**depth) - (0 if nonnegative else v**depth)) - y)
        u, v = u - step * depth * u ** (depth - 1) * g, v + step * depth * v ** (depth - 1) * g
    return u**depth - (0 if nonnegative else v**depth)


ENGINES = [
    "numpy",
    pytest.param("numba", marks=pytest.mark.skipif(not _jit.available(), reason="no numba")),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("depth", [2, 3, 4])
@pytest.mark.parametrize("nonnegative", [False, True])
def test_descent_matches_a_plain_loop(depth: int, nonnegative: bool, engine: str) -> None:
    A, x, _ = gaussian(30, 80, 3, seed=depth)
    y = A @ np.abs(x) if nonnegative else A @ x
    kw = {"depth": depth, "alpha": 0.1, "step": 0.01, "tol": 1e-300, "nonnegative": nonnegative}
    res = sparseflow.gradient_descent(A, y, max_iter=300, engine=engine, **kw)
    assert res.info["engine"] == engine and res.n_iter == 300
    expected = plain_descent(A, y, depth, 0.1, 0.01, 300, nonnegative)
    np.testing.assert_allclose(res.x, expected, rtol=1e-10, atol=1e-14)
    # batched (one GEMM per step) equals one by one, with different stopping times
    Y = np.column_stack([y, 2 * y, -y])
    batch = sparseflow.gradient_descent(A, Y, max_iter=300, **{**kw, "tol": 1e-2})
    for j in range(3):
        one = sparseflow.gradient_descent(A, Y[:, j], max_iter=300, **{**kw, "tol": 1e-2})
        assert batch.info["n_iter"][j] == one.n_iter
        np.testing.assert_allclose(batch.x[:, j], one.x, rtol=1e-12, atol=1e-15)


def test_descent_fast_loop_divergence_and_callback() -> None:
    A, _, y = gaussian(30, 80, 3)
    res = sparseflow.gradient_descent(A, y, depth=3, alpha=0.1, step=50.0, max_iter=500)
    assert res.status is sparseflow.StopReason.DIVERGED
    assert np.all(np.isfinite(res.x)) and np.isfinite(res.residual_norm)
    seen: list[int] = []
    res = sparseflow.gradient_descent(
        A, y, depth=2, alpha=0.1, step=0.01, callback=lambda k, xk: seen.append(k) or k == 7
    )
    assert res.status is sparseflow.StopReason.CALLBACK and res.n_iter == 7 and seen[-1] == 7
    hist = sparseflow.gradient_descent(A, y, depth=2, step=0.01, max_iter=5, history=True)
    assert hist.history is not None and hist.history["loss"].shape == (6,)


def test_descent_makes_no_copy_of_A() -> None:
    A, _, y = gaussian(400, 2500, 10)  # 8 MB
    tracemalloc.start()
    sparseflow.gradient_descent(A, y, depth=2, alpha=1e-2, step=1e-3, max_iter=5)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.25 * A.nbytes


# --- mirror descent ---------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [2, 3])
def test_mirror_descent_reaches_the_flow_limit(depth: int) -> None:
    A, _, y = gaussian(40, 100, 4, seed=7)
    alpha = 1e-2 if depth == 3 else 1e-1
    lim = sparseflow.flow_limit(A, y, depth=depth, alpha=alpha, tol=1e-12).x
    res = sparseflow.mirror_descent(A, y, depth=depth, alpha=alpha, tol=1e-10)
    assert res.converged
    assert np.linalg.norm(res.x - lim) <= 1e-7 * np.linalg.norm(lim)
    # the dual variable reproduces x through the closed-form link, as along the flow
    np.testing.assert_allclose(Model(depth, alpha).link(A.T @ res.info["dual"]), res.x)


def test_mirror_descent_depth1_is_min_norm_and_constant_step() -> None:
    A, _, y = gaussian(20, 50, 3, seed=8)
    res = sparseflow.mirror_descent(A, y, depth=1, alpha=1.0, tol=1e-12)
    np.testing.assert_allclose(res.x, np.linalg.pinv(A) @ y, atol=1e-9)
    # constant steps: the explicit Euler scheme of the dual ODE has the same fixed point
    step = 0.9 / (2 * np.linalg.norm(A, 2) ** 2)
    euler = sparseflow.mirror_descent(A, y, depth=1, step=step, tol=1e-10, max_iter=100_000)
    assert euler.converged and euler.n_iter > res.n_iter
    np.testing.assert_allclose(euler.x, res.x, atol=1e-8)


def test_mirror_descent_nonnegative_and_batch() -> None:
    A, x, _ = gaussian(40, 100, 4, seed=9)
    Y = np.column_stack([A @ np.abs(x), A @ (2 * np.abs(x))])
    res = sparseflow.mirror_descent(A, Y, depth=3, alpha=1e-2, nonnegative=True, tol=1e-10)
    lim = sparseflow.flow_limit(A, Y, depth=3, alpha=1e-2, nonnegative=True, tol=1e-12)
    assert res.converged and res.x.shape == (100, 2)
    np.testing.assert_allclose(res.x, lim.x, atol=1e-7)


def test_mirror_descent_reports_max_iter_and_validates() -> None:
    A, _, y = gaussian(20, 50, 3)
    res = sparseflow.mirror_descent(A, y, depth=3, alpha=1e-3, max_iter=3)
    assert res.status is sparseflow.StopReason.MAX_ITER and "max_iter=3" in res.message
    with pytest.raises(ValueError, match="step"):
        sparseflow.mirror_descent(A, y, step="bb")
    with pytest.raises(ValueError, match="step"):
        sparseflow.mirror_descent(A, y, step=-1.0)
    with pytest.raises(ValueError, match="max_iter"):
        sparseflow.mirror_descent(A, y, max_iter=0)
