"""Real signals and the sparsifying bases they are measured in."""

from __future__ import annotations

from typing import Any

import numpy as np
import pywt

from ._validation import check_positive_int

__all__ = ["ecg", "gaussian_matrix", "snr_db", "sparse_signal", "wavelet_synthesis_matrix"]


def ecg() -> np.ndarray:
    """The 1024-sample electrocardiogram shipped with PyWavelets (``pywt.data.ecg``), as float64."""
    return np.asarray(pywt.data.ecg(), dtype=np.float64)


def wavelet_synthesis_matrix(n: int, wavelet: str = "db4", level: int = 5) -> np.ndarray:
    """The n×n matrix W with signal = W @ c for the orthogonal periodized wavelet transform.

    Column j is the inverse transform of the j-th unit coefficient vector (coefficients ordered
    as :func:`pywt.coeffs_to_array` orders them). For orthogonal wavelets W is orthogonal.

    Parameters
    ----------
    n : int
        Signal length; must be divisible by 2**level.
    wavelet : str, default "db4"
    level : int, default 5
    """
    n = check_positive_int(n, "n")
    level = check_positive_int(level, "level")
    if n % (2**level):
        raise ValueError(f"n must be divisible by 2**level = {2**level}, got n={n}")
    template = pywt.wavedec(np.zeros(n), wavelet, mode="periodization", level=level)
    _, slices = pywt.coeffs_to_array(template)
    W = np.empty((n, n))
    unit = np.zeros(n)
    for j in range(n):
        unit[j] = 1.0
        coeffs = pywt.array_to_coeffs(unit, slices, output_format="wavedec")
        W[:, j] = pywt.waverec(coeffs, wavelet, mode="periodization")
        unit[j] = 0.0
    return W


def gaussian_matrix(m: int, n: int, rng: Any = None) -> np.ndarray:
    """An m×n matrix with i.i.d. N(0, 1/m) entries (columns of unit norm on average)."""
    m = check_positive_int(m, "m")
    n = check_positive_int(n, "n")
    gen = np.random.default_rng(rng)
    return gen.standard_normal((m, n)) / np.sqrt(m)


def sparse_signal(n: int, s: int, rng: Any = None, values: str = "gaussian") -> np.ndarray:
    """A length-n vector with a uniformly random support of size s.

    ``values="gaussian"`` draws N(0, 1) entries, ``"sign"`` draws ±1 and ``"positive"`` draws
    ``|N(0, 1)|``.
    """
    n = check_positive_int(n, "n")
    if not 0 <= s <= n:
        raise ValueError(f"s must be between 0 and n={n}, got {s}")
    gen = np.random.default_rng(rng)
    x = np.zeros(n)
    support = gen.choice(n, size=s, replace=False)
    if values == "gaussian":
        x[support] = gen.standard_normal(s)
    elif values == "sign":
        x[support] = gen.choice([-1.0, 1.0], size=s)
    elif values == "positive":
        x[support] = np.abs(gen.standard_normal(s))
    else:
        raise ValueError(f"values must be 'gaussian', 'sign' or 'positive', got {values!r}")
    return x


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Signal-to-noise ratio 20·log10(‖ref‖ / ‖ref − est‖) in dB (∞ for an exact estimate)."""
    err = float(np.linalg.norm(np.asarray(reference) - np.asarray(estimate)))
    ref = float(np.linalg.norm(reference))
    return float("inf") if err == 0 else 20.0 * np.log10(ref / err)
