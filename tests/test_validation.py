"""Bad input gets a clear error that names the argument."""

from __future__ import annotations

import numpy as np
import pytest

import sparseflow

A = np.random.default_rng(0).standard_normal((5, 12))
Y = A @ np.eye(12)[0]


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: sparseflow.flow_limit(A, Y[:4]), ValueError, "y must have 5 rows"),
        (lambda: sparseflow.flow_limit(A.T, Y), ValueError, "transpose"),
        (
            lambda: sparseflow.flow_limit(np.where(A > 1, np.nan, A), Y),
            ValueError,
            "A contains NaN",
        ),
        (lambda: sparseflow.flow_limit(A, np.full(5, np.inf)), ValueError, "y contains NaN"),
        (lambda: sparseflow.flow_limit(A, Y, alpha=0.0), ValueError, "alpha"),
        (lambda: sparseflow.flow_limit(A, Y, alpha=-1e-3), ValueError, "alpha"),
        (lambda: sparseflow.flow_limit(A, Y, alpha=np.ones(3)), ValueError, "alpha"),
        (lambda: sparseflow.flow_limit(A, Y, depth=0), ValueError, "depth"),
        (lambda: sparseflow.flow_limit(A, Y, depth=2.5), TypeError, "depth"),
        (lambda: sparseflow.flow_limit(A, Y, depth="3"), TypeError, "depth"),
        (lambda: sparseflow.gradient_descent(A, Y, step=0.0), ValueError, "step"),
        (lambda: sparseflow.gradient_descent(A, Y, step="big"), ValueError, "step"),
        (lambda: sparseflow.gradient_descent(A, Y, max_iter=0), ValueError, "max_iter"),
        (
            lambda: sparseflow.gradient_descent(A, Y, parametrization="x"),
            ValueError,
            "parametrization",
        ),
        (lambda: sparseflow.recover(A, Y, method="magic"), ValueError, "method"),
        (lambda: sparseflow.recover(A, Y, method="limit", bogus=1), TypeError, "bogus"),
        (lambda: sparseflow.flow_limit(A.astype(complex), Y), TypeError, "A must be real"),
        (lambda: sparseflow.flow_limit(np.zeros((2, 3, 4)), Y), ValueError, "A must be 2-D"),
        (lambda: sparseflow.flow_limit(A, np.zeros((5, 2, 2))), ValueError, "y must be 1-D or 2-D"),
        (lambda: sparseflow.flow_limit("matrix", Y), TypeError, "A must be"),
        (lambda: sparseflow.flow_limit(A, None), TypeError, "y must be"),
    ],
)
def test_bad_arguments_are_named(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_integer_input_is_computed_in_float():
    A_int = np.array([[1, 0, 2, 0], [0, 1, 0, 3]])
    y_int = np.array([2, 3])
    res = sparseflow.flow_limit(A_int, y_int, depth=3, alpha=1e-3)
    ref = sparseflow.flow_limit(A_int.astype(float), y_int.astype(float), depth=3, alpha=1e-3)
    assert res.x.dtype == np.float64 and np.array_equal(res.x, ref.x)
