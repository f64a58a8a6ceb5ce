"""Matrix-free operators: adjoint tests, exact cheap facts, and every solver on them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

import sparseflow
from sparseflow import as_operator, dottest
from sparseflow.transforms import (
    Composition,
    PartialDCT,
    PartialFourier,
    WaveletSynthesis,
    compose,
    from_pylops,
    from_scipy,
    random_rows,
    to_pylops,
)


def _operators():
    rng = np.random.default_rng(0)
    dense = rng.standard_normal((30, 64))
    return {
        "dct-1d": PartialDCT(64, random_rows(64, 20, seed=1)),
        "dct-2d": PartialDCT((16, 8), random_rows(128, 40, seed=2)),
        "fourier-even": PartialFourier(64, random_rows(64, 25, seed=3)),
        "fourier-odd": PartialFourier(63, random_rows(63, 25, seed=4)),
        "wavelet-1d-db4": WaveletSynthesis(64, "db4", level=3),
        "wavelet-2d-haar": WaveletSynthesis((16, 16), "haar", level=4),
        "wavelet-2d-sym4": WaveletSynthesis((16, 8), "sym4", level=2),
        "dct-wavelet": compose(
            PartialDCT((16, 16), random_rows(256, 70, seed=5)), WaveletSynthesis((16, 16), "db2", 2)
        ),
        "fourier-wavelet": PartialFourier(64, random_rows(64, 25, seed=6))
        @ WaveletSynthesis(64, "coif1", level=2),
        "scipy": from_scipy(aslinearoperator(dense)),
        "scipy-composed": compose(
            from_scipy(aslinearoperator(dense)), WaveletSynthesis(64, "db1", 2)
        ),
    }


OPERATORS = _operators()


@pytest.mark.parametrize("name", list(OPERATORS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adjoint_identity(name, seed):
    assert dottest(OPERATORS[name], seed=seed) <= 1e-12


@pytest.mark.parametrize("name", list(OPERATORS))
def test_products_match_the_materialized_matrix(name):
    op = OPERATORS[name]
    M = op.toarray()
    rng = np.random.default_rng(7)
    X = rng.standard_normal((op.shape[1], 3))
    Y = rng.standard_normal((op.shape[0], 3))
    assert np.allclose(op.matmat(X), M @ X, atol=1e-12)
    assert np.allclose(op.rmatmat(Y), M.T @ Y, atol=1e-12)
    assert np.allclose(op.matvec(X[:, 0]), M @ X[:, 0], atol=1e-12)
    # The batched path of MeasurementOperator agrees with one product per column.
    wrapped = as_operator(op, allow_overdetermined=True)
    assert np.allclose(wrapped.matvec(X), np.column_stack([M @ x for x in X.T]), atol=1e-12)
    assert np.allclose(wrapped.rmatvec(Y), M.T @ Y, atol=1e-12)


@pytest.mark.parametrize("name", list(OPERATORS))
def test_norm_and_orthonormality_are_true(name):
    op = OPERATORS[name]
    M = op.toarray()
    assert op.norm() == pytest.approx(np.linalg.norm(M, 2), rel=1e-6)
    if op.orthonormal_rows:
        assert np.allclose(M @ M.T, np.eye(op.shape[0]), atol=1e-11)


@pytest.mark.parametrize("name", list(OPERATORS))
def test_column_norms_are_exact_when_offered(name):
    op = OPERATORS[name]
    norms = op.column_norms()
    expected = np.linalg.norm(op.toarray(), axis=0)
    if norms is None:
        assert isinstance(op, Composition) or name.startswith("scipy")
        return
    assert np.allclose(norms, expected, atol=1e-12)
    assert np.allclose(as_operator(op, allow_overdetermined=True).column_norms(), expected)


def test_large_operator_facts_do_not_materialize():
    # 2**20 columns: materializing would need 4 TB; the facts come from closed forms.
    n = 2**20
    op = as_operator(PartialDCT(n, random_rows(n, 1000, seed=0)))
    with pytest.raises(ValueError, match="too large"):
        op.toarray()
    norms = op.column_norms()
    assert norms.shape == (n,)
    assert op.has_cheap_column_norms
    # ‖A‖_F² = m for orthonormal rows: the exact column norms must add up to it.
    assert np.sum(norms**2) == pytest.approx(1000, rel=1e-10)
    assert op.norm() == 1.0


def test_transpose_is_the_adjoint():
    op = OPERATORS["dct-wavelet"]
    assert np.allclose(
        op.T.toarray() if hasattr(op.T, "toarray") else op.T.matmat(np.eye(70)),
        op.toarray().T,
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: PartialDCT(8, [0, 8]),
        lambda: PartialDCT(8, [1, 1]),
        lambda: PartialDCT((4, 4, 4), [0]),
        lambda: WaveletSynthesis(30, "db2", level=2),
        lambda: WaveletSynthesis(32, "bior2.2", level=2),
        lambda: WaveletSynthesis(32, "nonsense", level=2),
        lambda: compose(PartialDCT(8, [0]), WaveletSynthesis(16, "haar", 1)),
        lambda: random_rows(5, 6),
    ],
)
def test_bad_construction_raises_value_error(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: PartialDCT(8, [0.5, 2.0]),
        lambda: from_scipy(np.eye(3)),
        lambda: Composition([np.eye(3)]),
        lambda: from_scipy(aslinearoperator(np.eye(3, dtype=complex))),
        lambda: compose(aslinearoperator(np.eye(3, dtype=complex))),
    ],
)
def test_bad_types_raise_type_error(make):
    with pytest.raises(TypeError):
        make()


def test_pylops_adapters_round_trip():
    pylops = pytest.importorskip("pylops")
    diag = pylops.Diagonal(np.arange(1.0, 9.0))
    first = pylops.FirstDerivative(8, kind="forward")
    op = from_pylops(first @ diag)
    assert dottest(op) <= 1e-12
    M = (first @ diag).todense()
    assert np.allclose(op.toarray(), M)
    with pytest.raises(TypeError, match=r"pylops\.LinearOperator"):
        from_pylops(aslinearoperator(np.eye(3)))
    back = to_pylops(PartialDCT(16, random_rows(16, 6, seed=0)))
    assert pylops.utils.dottest(back, 6, 16, rtol=1e-12)


def test_every_method_is_covered():
    assert {method for method, _ in SOLVER_CASES.values()} == set(sparseflow.METHODS)


# --- every solver accepts an operator and agrees with the same operator as a dense matrix ------


def _cs_operator():
    n = 128
    W = WaveletSynthesis(n, "db2", level=3)
    A = PartialFourier(n, random_rows(n, 60, seed=11)) @ W
    coefficients = np.zeros(n)
    coefficients[[2, 9, 40, 77, 100]] = [3.0, -2.0, 1.5, 1.0, -0.8]
    return A, A.matvec(coefficients), coefficients


SOLVER_CASES = {
    "limit-L2": ("limit", {"depth": 2, "alpha": 1e-4}),
    "limit-L3": ("limit", {"depth": 3, "alpha": 1e-3}),
    "descent": ("descent", {"depth": 2, "alpha": 1e-2, "max_iter": 3000, "tol": 1e-4}),
    "flow": ("flow", {"depth": 2, "alpha": 1e-2, "times": (50.0,)}),
    "basis-pursuit": ("basis-pursuit", {}),
    "basis-pursuit-admm": ("basis-pursuit-admm", {"tol": 1e-9}),
    "min-norm": ("min-norm", {}),
    "omp": ("omp", {}),
    "iht": ("iht", {"sparsity": 5}),
    "lasso": ("lasso", {"lam": 1e-3}),
}


@pytest.mark.parametrize("case", list(SOLVER_CASES))
def test_solver_on_operator_matches_dense(case):
    method, options = SOLVER_CASES[case]
    A, y, _ = _cs_operator()
    dense = A.toarray()
    if method == "descent":  # the same step for both, so that the iterates are the same
        from sparseflow.solvers.descent import auto_step

        options = {**options, "step": auto_step(as_operator(dense), y, options["depth"])}
    on_operator = sparseflow.recover(A, y, method=method, **options)
    on_matrix = sparseflow.recover(dense, y, method=method, **options)
    assert on_operator.x.shape == (A.shape[1],)
    assert np.all(np.isfinite(on_operator.x))
    scale = np.linalg.norm(on_matrix.x)
    assert np.linalg.norm(on_operator.x - on_matrix.x) <= 1e-5 * scale


def test_flow_limit_on_operator_recovers_sparse_coefficients():
    A, y, coefficients = _cs_operator()
    result = sparseflow.flow_limit(A, y, depth=3, alpha=1e-3)
    assert result.converged
    assert as_operator(A).kind == "operator"  # the matrix-free Newton–CG path was used
    assert np.linalg.norm(result.x - coefficients) < 1e-4 * np.linalg.norm(coefficients)


def test_auto_step_uses_exact_column_norms_of_operators():
    from sparseflow.solvers.descent import auto_step

    op = PartialDCT(64, random_rows(64, 20, seed=1))
    y = np.ones(20)
    assert auto_step(as_operator(op), y, 2) == pytest.approx(
        auto_step(as_operator(op.toarray()), y, 2)
    )
