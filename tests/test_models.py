"""The closed forms of models.py against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from sparseflow.models import Model, link, regularizer

DEPTHS = [1, 2, 3, 4, 5, 10]
ALPHAS = [1.0, 1e-2, 1e-4]


def _grid(model: Model, n: int = 41) -> np.ndarray:
    b = model.barrier
    if np.isfinite(b):
        lo = -0.95 * b if not model.nonnegative else -3 * b
        return np.linspace(lo, 0.95 * b, n)
    return np.linspace(-3.0, 3.0, n)


@pytest.mark.parametrize("nonnegative", [False, True])
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("depth", DEPTHS)
def test_potential_derivative_is_link(depth, alpha, nonnegative):
    model = Model(depth, alpha, nonnegative)
    w = _grid(model)
    step = 1e-6 * max(1.0, float(np.abs(w).max()))
    central = (model.potential(w + step) - model.potential(w - step)) / (2 * step)
    scale = np.abs(model.link(w)) + np.abs(central).max() * 1e-6
    assert np.all(np.abs(central - model.link(w)) <= 1e-4 * scale)


@pytest.mark.parametrize("nonnegative", [False, True])
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("depth", DEPTHS)
def test_link_derivative_matches_finite_difference(depth, alpha, nonnegative):
    model = Model(depth, alpha, nonnegative)
    w = _grid(model)
    step = 1e-7 * max(1.0, float(np.abs(w).max()))
    central = (model.link(w + step) - model.link(w - step)) / (2 * step)
    deriv = model.link_derivative(w)
    assert np.all(deriv > 0)
    assert np.allclose(central, deriv, rtol=1e-4, atol=1e-12 * deriv.max())


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("depth", DEPTHS)
def test_signed_link_is_odd_and_increasing(depth, alpha):
    model = Model(depth, alpha)
    w = _grid(model)
    h = model.link(w)
    assert np.allclose(h, -model.link(-w), rtol=1e-12, atol=0)
    assert np.all(np.diff(h) > 0)


@pytest.mark.parametrize("nonnegative", [False, True])
@pytest.mark.parametrize("alpha", [1e-1, 1e-3, 1e-8])
@pytest.mark.parametrize("depth", [3, 4])
def test_rational_depths_to_a_few_ulps_in_exact_arithmetic(depth, alpha, nonnegative):
    """Depths 3 and 4 (integer p) take rational fast paths; THEORY §3's factor formulas
    evaluated in exact rational arithmetic at the same scaled dual s are the reference, also
    within 1e−15 of the barrier, where 1 − s² computed naively loses digits."""
    from fractions import Fraction

    model = Model(depth, alpha, nonnegative)
    k, p, q = depth * (depth - 2), depth // (depth - 2), 2 // (depth - 2)
    a = Fraction(alpha)
    targets = [1e-9, -3e-5, 1 / 3, -0.9, 0.999999, -(1 - 1e-12), 1 - 2.0**-50]
    if nonnegative:
        targets += [-5.0, -1e6]
    w = np.array(targets) / (k * alpha ** (depth - 2))
    got = np.stack([model.link(w), model.link_derivative(w), model.potential(w)])
    for j, s_float in enumerate(model._scaled(w)[0]):
        s = Fraction(float(s_float))
        lo, hi = (1 - s), (1 + s)
        if nonnegative:
            ref = [
                a**depth * lo**-p,
                k * p * a ** (2 * depth - 2) * lo ** (-p - 1),
                a**2 * (lo**-q - 1) / (2 * depth),
            ]
        else:
            ref = [
                a**depth * (lo**-p - hi**-p),
                k * p * a ** (2 * depth - 2) * (lo ** (-p - 1) + hi ** (-p - 1)),
                a**2 * (lo**-q + hi**-q - 2) / (2 * depth),
            ]
        for i, value in enumerate(ref):
            assert abs(got[i, j] - float(value)) <= 1.6e-15 * abs(float(value)), (i, j)


def test_link_against_factor_formulas():
    """h from THEORY §3, evaluated directly with the factors (no scaled variable)."""
    w = np.linspace(-0.3, 0.3, 13)
    alpha = 0.5
    assert np.allclose(link(w, 2, alpha), 2 * alpha**2 * np.sinh(4 * w))
    assert np.allclose(link(w, 1, alpha), 2 * w)
    for L in (3, 4, 6):
        k, p = L * (L - 2), L / (L - 2)
        c0 = alpha ** (2 - L)
        w_small = w * c0 / k  # inside the barrier
        direct = (c0 - k * w_small) ** (-p) - (c0 + k * w_small) ** (-p)
        assert np.allclose(link(w_small, L, alpha), direct, rtol=1e-12)
        nonneg = (c0 - k * w_small) ** (-p)
        assert np.allclose(link(w_small, L, alpha, nonnegative=True), nonneg, rtol=1e-12)


@pytest.mark.parametrize("nonnegative", [False, True])
@pytest.mark.parametrize("alpha", [1.0, 1e-2])
@pytest.mark.parametrize("depth", [1, 2, 3, 4, 7])
def test_regularizer_is_convex_conjugate(depth, alpha, nonnegative):
    """g(z) = sup_w z w − H(w), maximized numerically by a bounded scalar search."""
    model = Model(depth, alpha, nonnegative)
    b = model.barrier
    for z in [0.3, 1.0, 2.5] + ([] if nonnegative else [-1.7]):
        w_star = float(model.link_inverse(z))
        lo = (
            w_star - 1.0
            if not np.isfinite(b)
            else max(w_star - 0.5 * b, -b if not nonnegative else -10 * b)
        )
        hi = w_star + 1.0 if not np.isfinite(b) else min(w_star + 0.5 * abs(b - w_star), b)

        def negative(w, z=z):
            return -(z * w - float(model.potential(w)))

        best = minimize_scalar(
            negative, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}
        )
        assert float(model.regularizer(z)) == pytest.approx(-best.fun, rel=1e-7, abs=1e-12)


def test_regularizer_depth2_closed_form():
    z = np.linspace(-3, 3, 11)
    a = 0.1
    expected = 0.25 * (z * np.arcsinh(z / (2 * a**2)) - np.sqrt(z**2 + 4 * a**4) + 2 * a**2)
    assert np.allclose(regularizer(z, 2, a), expected)


def test_nonnegative_regularizer_is_infinite_for_negative():
    g = regularizer(np.array([-1.0, 0.0, 1.0]), 3, 0.1, nonnegative=True)
    assert g[0] == np.inf and np.isfinite(g[1:]).all()


@pytest.mark.parametrize("depth", [3, 4, 10])
def test_link_inverse_keeps_relative_precision_near_zero(depth):
    model = Model(depth, 1e-2)
    z = np.array([1e-30, 1e-20, 1e-12])
    assert np.allclose(model.link(model.link_inverse(z)), z, rtol=1e-10)


def test_vector_alpha_broadcasts_over_batches():
    alpha = np.array([0.1, 0.2, 0.3])
    model = Model(3, alpha)
    w = np.array([[0.1, -0.2], [0.0, 0.3], [-0.4, 0.5]])
    cols = np.column_stack([model.link(w[:, j]) for j in range(2)])
    assert np.allclose(model.link(w), cols)
    scalar = np.array([Model(3, a).link(w[i]) for i, a in enumerate(alpha)])
    assert np.allclose(model.link(w), scalar)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"depth": 0, "alpha": 0.1}, ValueError),
        ({"depth": 2.5, "alpha": 0.1}, TypeError),
        ({"depth": 2, "alpha": 0.0}, ValueError),
        ({"depth": 2, "alpha": -1.0}, ValueError),
        ({"depth": 2, "alpha": np.array([0.1, -0.1])}, ValueError),
    ],
)
def test_model_rejects_bad_parameters(kwargs, error):
    with pytest.raises(error, match=r"depth|alpha"):
        Model(**kwargs)
