"""Input checks shared by the public API: one place, one style of message.

Every message names the argument, the value received and what was expected.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = [
    "check_alpha",
    "check_choice",
    "check_depth",
    "check_measurements",
    "check_positive",
    "check_positive_int",
]


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_depth(depth: Any) -> int:
    """Return ``depth`` as an int ≥ 1 or raise."""
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral):
        if (
            isinstance(depth, numbers.Real)
            and not isinstance(depth, bool)
            and float(depth).is_integer()
        ):
            depth = int(float(depth))
        else:
            raise TypeError(f"depth must be an integer >= 1, got {_describe(depth)}")
    if depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth}")
    return int(depth)


def check_positive(value: Any, name: str, *, allow_inf: bool = False) -> float:
    """Return ``value`` as a positive finite float or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {_describe(value)}")
    value = float(value)
    if not (value > 0) or (not allow_inf and not np.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an int ≥ 1 or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {_describe(value)}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices`` or raise."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {_describe(value)}")
    return value


def as_float_array(value: Any, name: str, *, ndim: tuple[int, ...]) -> np.ndarray:
    """Convert to a finite float64 array with an allowed number of dimensions."""
    if value is None:
        raise TypeError(f"{name} must be an array, got None")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be convertible to a numeric array: {exc}") from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        if arr.dtype.kind == "c":
            raise TypeError(f"{name} must be real-valued, got complex dtype {arr.dtype}")
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim not in ndim:
        allowed = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name} must be {allowed}, got a {arr.ndim}-D array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_measurements(y: Any, m: int) -> np.ndarray:
    """Check ``y`` against an operator with ``m`` rows; returns float64 of shape (m,) or (m, B)."""
    arr = as_float_array(y, "y", ndim=(1, 2))
    if arr.shape[0] != m:
        raise ValueError(
            f"y must have {m} rows to match A (shape (m, N) with m={m}), got shape {arr.shape}"
        )
    check_scale(arr, "y")
    return arr


# Entries beyond these magnitudes have squares (norms, losses) that leave float64.
_SCALE_RANGE = (1e-150, 1e150)


def check_scale(values: np.ndarray, name: str) -> None:
    """Reject data whose nonzero magnitudes would under- or overflow when squared."""
    if values.size == 0:
        return
    top = float(max(values.max(), -values.min()))
    if top == 0:
        return
    low, high = _SCALE_RANGE
    if not low < top < high:
        raise ValueError(
            f"{name} has entries of magnitude up to {top:.3g}, outside [{low:g}, {high:g}]: "
            "squared norms of it under- or overflow float64; rescale it (for example divide by "
            "its largest entry) and scale the solution back"
        )


def check_alpha(alpha: Any, n: int) -> float | np.ndarray:
    """Check the initial scale α: a positive scalar or a positive vector of length N."""
    if np.ndim(alpha) == 0:
        return check_positive(alpha, "alpha")
    arr = as_float_array(alpha, "alpha", ndim=(1,))
    if arr.shape != (n,):
        raise ValueError(
            f"alpha must be a scalar or a vector of length N={n}, got shape {arr.shape}"
        )
    if np.any(arr <= 0):
        raise ValueError("alpha must be positive in every coordinate, got a non-positive entry")
    return arr


# Largest decimal exponent of the dual variable the solver works with (float64 ends at 1e308).
_MAX_DUAL_EXPONENT = 280.0


def check_alpha_representable(alpha: float | np.ndarray, depth: int) -> None:
    r"""Reject an α so small that the limit's dual variable overflows float64.

    On the support the scaled dual :math:`k\alpha^{L-2}(A^\top\mu)_i` tends to ±1, so μ grows
    like :math:`\alpha^{-(L-2)}`; for L = 2 the link is :math:`\alpha^2\sinh`, so α² must stay
    a normal float.
    """
    power = 2 if depth == 2 else max(depth - 2, 0)
    smallest = float(np.min(alpha))
    if power == 0 or smallest >= 1.0:
        return
    exponent = power * -np.log10(smallest)
    if exponent > _MAX_DUAL_EXPONENT:
        bound = 10.0 ** (-_MAX_DUAL_EXPONENT / power)
        # two significant digits, rounded up, so that the suggested value passes this check
        digits = 10.0 ** (np.floor(np.log10(bound)) - 1)
        bound = float(np.ceil(bound / digits) * digits)
        raise ValueError(
            f"alpha={smallest:.3g} is too small for depth={depth}: the limit's dual variable "
            f"scales like alpha^-{power} = 1e{exponent:.0f}, beyond float64; use alpha >= "
            f"{bound:.1e} (the limit is then already within float64 rounding of its alpha -> 0 "
            "value for a well-posed problem), or basis_pursuit for alpha -> 0 itself"
        )
