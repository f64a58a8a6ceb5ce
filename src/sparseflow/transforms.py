r"""Matrix-free measurement operators: partial DCT/Fourier, wavelet synthesis, compositions.

Each operator is a :class:`scipy.sparse.linalg.LinearOperator` (so scipy's iterative solvers and
:func:`sparseflow.as_operator` accept it) that also knows, cheaply and exactly:

- ``orthonormal_rows``: whether :math:`AA^\top = I` (then :math:`\|A\|_2 = 1`);
- :meth:`Transform.norm`: the spectral norm (exact where known, power iteration otherwise);
- :meth:`Transform.column_norms`: the Euclidean norm of every column, without materializing A
  (or ``None`` where no cheap exact formula exists).

A compressed-sensing operator for an image sparse in wavelets is the composition
:math:`A = S F W^\top`-style product ``PartialDCT(...) @ WaveletSynthesis(...)``: the wavelet
synthesis maps coefficients to pixels, the partial DCT keeps a random set of frequencies.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pywt
import scipy.fft as sfft
from scipy.sparse.linalg import LinearOperator, eigsh

from ._validation import _describe, check_positive_int

__all__ = [
    "Composition",
    "PartialDCT",
    "PartialFourier",
    "Transform",
    "WaveletSynthesis",
    "compose",
    "from_pylops",
    "from_scipy",
    "random_rows",
    "to_pylops",
]


class Transform(LinearOperator):
    """Base class of sparseflow's real matrix-free operators.

    Subclasses implement ``_forward(X)`` and ``_adjoint(Y)`` on 2-D arrays whose columns are
    vectors (so a batch costs one vectorized call), and may override :meth:`column_norms`.
    """

    #: True when A Aᵀ = I exactly (then ‖A‖₂ = 1 and the projection onto {Az = y} is explicit).
    orthonormal_rows: bool = False

    def __init__(self, shape: tuple[int, int]) -> None:
        super().__init__(dtype=np.dtype(np.float64), shape=(int(shape[0]), int(shape[1])))
        self._norm_cache: float | None = None

    # scipy's LinearOperator protocol ------------------------------------------------------------
    def _matvec(self, x: np.ndarray) -> np.ndarray:
        return self._forward(np.asarray(x, dtype=np.float64).reshape(-1, 1))[:, 0]

    def _rmatvec(self, y: np.ndarray) -> np.ndarray:
        return self._adjoint(np.asarray(y, dtype=np.float64).reshape(-1, 1))[:, 0]

    def _matmat(self, X: np.ndarray) -> np.ndarray:
        return self._forward(np.asarray(X, dtype=np.float64))

    def _rmatmat(self, Y: np.ndarray) -> np.ndarray:
        return self._adjoint(np.asarray(Y, dtype=np.float64))

    def _adjoint_op(self) -> LinearOperator:
        return LinearOperator(
            dtype=self.dtype,
            shape=(self.shape[1], self.shape[0]),
            matvec=self._rmatvec,
            rmatvec=self._matvec,
            matmat=self._rmatmat,
            rmatmat=self._matmat,
        )

    def _forward(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _adjoint(self, Y: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # cheap facts ----------------------------------------------------------------------------------
    def norm(self) -> float:
        """Spectral norm ‖A‖₂: 1 for orthonormal rows, else computed once by Lanczos and cached."""
        if self.orthonormal_rows:
            return 1.0 if self.shape[0] > 0 else 0.0
        if self._norm_cache is None:
            self._norm_cache = _lanczos_norm(self)
        return self._norm_cache

    def toarray(self) -> np.ndarray:
        """The dense m×N matrix, one batched product with the identity (for tests, small N)."""
        return self._forward(np.eye(self.shape[1]))

    def column_norms(self) -> np.ndarray | None:
        """Exact Euclidean norm of every column, or None when no cheap formula is known."""
        return None

    def __matmul__(self, other: Any) -> Any:
        if isinstance(other, Transform):
            return compose(self, other)
        return super().__matmul__(other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape})"


def _lanczos_norm(op: Transform) -> float:
    """‖A‖₂ from the largest eigenvalue of the smaller Gram matrix (AAᵀ or AᵀA)."""
    m, n = op.shape
    wide = m <= n
    d = min(m, n)
    if wide:
        gram = LinearOperator((d, d), matvec=lambda v: op._matvec(op._rmatvec(v)), dtype=float)
    else:
        gram = LinearOperator((d, d), matvec=lambda v: op._rmatvec(op._matvec(v)), dtype=float)
    if d <= 64:
        top = float(
            np.max(np.linalg.eigvalsh(np.column_stack([gram.matvec(e) for e in np.eye(d)])))
        )
    else:
        v0 = np.random.default_rng(0).standard_normal(d)
        top = float(eigsh(gram, k=1, which="LA", v0=v0, tol=1e-12, return_eigenvectors=False)[0])
    return float(np.sqrt(max(top, 0.0)))


def random_rows(n: int, m: int, *, seed: int = 0, density: Any = None) -> np.ndarray:
    """Choose m of n row indices at random without replacement, sorted.

    Parameters
    ----------
    n : int
        Number of candidate rows.
    m : int
        Number of rows to keep, 1 ≤ m ≤ n.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`.
    density : array_like of shape (n,), optional
        Non-negative sampling weights (variable-density sampling); uniform by default.

    Returns
    -------
    ndarray of int, shape (m,)

    Notes
    -----
    Rows are drawn sequentially with probability proportional to ``density`` among those not yet
    drawn (:meth:`numpy.random.Generator.choice` with ``replace=False``).

    Examples
    --------
    >>> from sparseflow.transforms import random_rows
    >>> random_rows(10, 4, seed=1).tolist() == sorted(set(random_rows(10, 4, seed=1).tolist()))
    True
    """
    n = check_positive_int(n, "n")
    m = check_positive_int(m, "m")
    if m > n:
        raise ValueError(f"m must be at most n={n}, got m={m}")
    rng = np.random.default_rng(seed)
    p = None
    if density is not None:
        w = np.asarray(density, dtype=np.float64).reshape(-1)
        if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"density must be {n} finite non-negative weights")
        if np.count_nonzero(w) < m:
            raise ValueError(f"density must have at least m={m} positive weights")
        p = w / w.sum()
    return np.sort(rng.choice(n, size=m, replace=False, p=p))


def _check_shape(shape: Any, name: str, max_ndim: int) -> tuple[int, ...]:
    dims = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    if not 1 <= len(dims) <= max_ndim:
        raise ValueError(f"{name} must have 1 to {max_ndim} dimensions, got {shape!r}")
    return tuple(check_positive_int(d, name) for d in dims)


def _check_rows(rows: Any, n: int) -> np.ndarray:
    idx = np.asarray(rows)
    if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
        raise TypeError(f"rows must be a non-empty 1-D array of integers, got {_describe(rows)}")
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"rows must lie in [0, {n}), got range [{idx.min()}, {idx.max()}]")
    if np.unique(idx).size != idx.size:
        raise ValueError("rows must not repeat an index")
    return idx.astype(np.intp)


def _dct_energy_1d(v: np.ndarray, axis: int) -> np.ndarray:
    r"""Apply Q, Q[j, k] = C[k, j]² (orthonormal DCT-II C), to v along ``axis``.

    C[0, j]² = 1/n and C[k, j]² = (1 + cos(πk(2j+1)/n))/n for k ≥ 1, so
    (Qv)_j = (Σ_k v_k + Re Σ_{k≥1} v_k e^{iπk/n} e^{2πikj/n}) / n: one FFT.
    """
    n = v.shape[axis]
    v = np.moveaxis(v, axis, 0)
    k = np.arange(n).reshape((n,) + (1,) * (v.ndim - 1))
    twisted = v * np.exp(1j * np.pi * k / n)
    twisted[0] = 0.0
    out = (v.sum(axis=0, keepdims=True) + n * np.real(sfft.ifft(twisted, axis=0))) / n
    return np.moveaxis(out, 0, axis)


class PartialDCT(Transform):
    r"""Selected rows of the orthonormal DCT-II (1-D or 2-D): :math:`A = S\,C`.

    Parameters
    ----------
    shape : int or tuple of int
        Signal length n, or image shape (n1, n2); vectors are flattened in C order.
    rows : array_like of int, shape (m,)
        Indices (into the flattened DCT coefficients) of the measured frequencies, no repeats;
        see :func:`random_rows`.

    Notes
    -----
    With the orthonormal DCT-II :math:`C` (``scipy.fft.dctn(..., norm="ortho")``) and the row
    selector :math:`S`, :math:`A = S C` has orthonormal rows (:math:`AA^\top = I`) and adjoint
    :math:`A^\top = C^\top S^\top` (zero-fill, then inverse DCT). Column norms are exact:
    :math:`\|a_j\|^2 = \sum_{k\in S} C_{kj}^2`, computed with one FFT per axis from
    :math:`C_{kj}^2 = (1 + \cos(\pi k(2j+1)/n))/n` (k ≥ 1).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseflow.transforms import PartialDCT, random_rows
    >>> A = PartialDCT(64, random_rows(64, 20, seed=0))
    >>> x = np.random.default_rng(0).standard_normal(64)
    >>> bool(np.allclose(A.matvec(A.rmatvec(A.matvec(x))), A.matvec(x)))  # A Aᵀ = I
    True
    >>> A.norm()
    1.0
    """

    orthonormal_rows = True

    def __init__(self, shape: Any, rows: Any) -> None:
        self.signal_shape = _check_shape(shape, "shape", 2)
        n = int(np.prod(self.signal_shape))
        self.rows = _check_rows(rows, n)
        super().__init__((self.rows.size, n))

    def _forward(self, X: np.ndarray) -> np.ndarray:
        b = X.shape[1]
        grid = X.reshape(*self.signal_shape, b)
        axes = tuple(range(len(self.signal_shape)))
        coef = sfft.dctn(grid, norm="ortho", axes=axes).reshape(-1, b)
        return coef[self.rows]

    def _adjoint(self, Y: np.ndarray) -> np.ndarray:
        b = Y.shape[1]
        full = np.zeros((self.shape[1], b))
        full[self.rows] = Y
        axes = tuple(range(len(self.signal_shape)))
        grid = sfft.idctn(full.reshape(*self.signal_shape, b), norm="ortho", axes=axes)
        return grid.reshape(-1, b)

    def column_norms(self) -> np.ndarray:
        mask = np.zeros(self.shape[1])
        mask[self.rows] = 1.0
        energy = mask.reshape(self.signal_shape)
        for axis in range(energy.ndim):
            energy = _dct_energy_1d(energy, axis)
        return np.sqrt(np.maximum(energy.reshape(-1), 0.0))


class PartialFourier(Transform):
    r"""Selected rows of the real orthonormal Fourier transform of a length-n signal.

    Parameters
    ----------
    n : int
        Signal length.
    rows : array_like of int, shape (m,)
        Indices of the measured real Fourier coefficients (see Notes for their order).

    Notes
    -----
    With :math:`X = \mathrm{fft}(x)/\sqrt n` the real orthonormal Fourier transform
    :math:`R x \in \mathbb R^n` lists :math:`\operatorname{Re} X_0`, then
    :math:`\sqrt2\operatorname{Re} X_k` and :math:`\sqrt2\operatorname{Im} X_k` for
    :math:`1 \le k < n/2`, then :math:`\operatorname{Re} X_{n/2}` when n is even. R is an
    orthogonal matrix (cosine and sine rows of norm 1), so :math:`A = S R` has orthonormal rows
    and :math:`A^\top = R^\top S^\top`. Column norms are exact: the cosine row of frequency k
    contributes :math:`(1 + \cos(4\pi kj/n))/n` to column j, the sine row
    :math:`(1 - \cos(4\pi kj/n))/n`.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseflow.transforms import PartialFourier
    >>> R = PartialFourier(8, np.arange(8)).toarray()  # all rows: an orthogonal matrix
    >>> bool(np.allclose(R @ R.T, np.eye(8)))
    True
    """

    orthonormal_rows = True

    def __init__(self, n: int, rows: Any) -> None:
        self.n = check_positive_int(n, "n")
        self.rows = _check_rows(rows, self.n)
        super().__init__((self.rows.size, self.n))
        # Real-coefficient index → (frequency k, is_sine).
        half = (self.n - 1) // 2
        k = np.concatenate([[0], np.repeat(np.arange(1, half + 1), 2)])
        sine = np.concatenate([[False], np.tile([False, True], half)])
        if self.n % 2 == 0:
            k = np.append(k, self.n // 2)
            sine = np.append(sine, False)
        self._freq, self._sine = k, sine

    def _full_forward(self, X: np.ndarray) -> np.ndarray:
        F = sfft.rfft(X, axis=0, norm="ortho")
        out = np.empty_like(X)
        half = (self.n - 1) // 2
        out[0] = F[0].real
        out[1 : 2 * half + 1 : 2] = np.sqrt(2.0) * F[1 : half + 1].real
        out[2 : 2 * half + 2 : 2] = np.sqrt(2.0) * F[1 : half + 1].imag
        if self.n % 2 == 0:
            out[-1] = F[self.n // 2].real
        return out

    def _forward(self, X: np.ndarray) -> np.ndarray:
        return self._full_forward(X)[self.rows]

    def _adjoint(self, Y: np.ndarray) -> np.ndarray:
        # Rᵀ = R⁻¹: rebuild the half spectrum and invert.
        full = np.zeros((self.n, Y.shape[1]))
        full[self.rows] = Y
        half = (self.n - 1) // 2
        F = np.zeros((self.n // 2 + 1, Y.shape[1]), dtype=np.complex128)
        F[0] = full[0]
        F[1 : half + 1] = (full[1 : 2 * half + 1 : 2] + 1j * full[2 : 2 * half + 2 : 2]) / np.sqrt(
            2.0
        )
        if self.n % 2 == 0:
            F[self.n // 2] = full[-1]
        return sfft.irfft(F, n=self.n, axis=0, norm="ortho")

    def column_norms(self) -> np.ndarray:
        k, sine = self._freq[self.rows], self._sine[self.rows]
        oscillating = (k > 0) & (2 * k != self.n)
        weights = np.zeros(self.n)
        np.add.at(weights, (2 * k[oscillating]) % self.n, np.where(sine[oscillating], -1.0, 1.0))
        energy = (self.rows.size + self.n * np.real(sfft.ifft(weights))) / self.n
        return np.sqrt(np.maximum(energy, 0.0))


class WaveletSynthesis(Transform):
    r"""Orthogonal periodized wavelet synthesis W (coefficients → signal), 1-D or 2-D.

    Parameters
    ----------
    shape : int or tuple of int
        Signal length n or image shape (n1, n2); each dimension divisible by 2**level.
    wavelet : str, default "db4"
        An orthogonal PyWavelets wavelet (haar, dbN, symN, coifN).
    level : int, default 4
        Decomposition depth.

    Notes
    -----
    The coefficient vector is :func:`pywt.ravel_coeffs` of :func:`pywt.wavedecn` with
    ``mode="periodization"``: approximation first, then details from coarse to fine. For an
    orthogonal wavelet and dimensions divisible by :math:`2^{\text{level}}`, W is an orthogonal
    N×N matrix, so :math:`W^\top = W^{-1}` is the analysis transform, :math:`\|W\|_2 = 1` and every
    column has norm 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseflow.transforms import WaveletSynthesis
    >>> W = WaveletSynthesis((16, 16), "haar", level=2)
    >>> img = np.random.default_rng(0).standard_normal(256)
    >>> bool(np.allclose(W.matvec(W.rmatvec(img)), img))  # W Wᵀ = I
    True
    """

    orthonormal_rows = True

    def __init__(self, shape: Any, wavelet: str = "db4", level: int = 4) -> None:
        self.signal_shape = _check_shape(shape, "shape", 2)
        self.level = check_positive_int(level, "level")
        try:
            self.wavelet = pywt.Wavelet(wavelet)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"wavelet must be a PyWavelets wavelet name, got {wavelet!r}") from exc
        if not self.wavelet.orthogonal:
            raise ValueError(
                f"wavelet must be orthogonal (haar, dbN, symN, coifN) for an exact adjoint, "
                f"got {wavelet!r}"
            )
        bad = [d for d in self.signal_shape if d % 2**self.level]
        if bad:
            raise ValueError(
                f"every dimension of shape must be divisible by 2**level = {2**self.level}, "
                f"got shape {self.signal_shape}"
            )
        template = self._analysis(np.zeros(self.signal_shape))
        _, self._slices, self._shapes = pywt.ravel_coeffs(template)
        n = int(np.prod(self.signal_shape))
        super().__init__((n, n))

    def _forward(self, X: np.ndarray) -> np.ndarray:
        out = np.empty_like(X)
        for j in range(X.shape[1]):
            coeffs = pywt.unravel_coeffs(X[:, j], self._slices, self._shapes, "wavedecn")
            out[:, j] = pywt.waverecn(coeffs, self.wavelet, mode="periodization").reshape(-1)
        return out

    def _adjoint(self, Y: np.ndarray) -> np.ndarray:
        out = np.empty_like(Y)
        for j in range(Y.shape[1]):
            coeffs = self._analysis(Y[:, j].reshape(self.signal_shape))
            out[:, j] = pywt.ravel_coeffs(coeffs)[0]
        return out

    def _analysis(self, signal: np.ndarray) -> list[Any]:
        with warnings.catch_warnings():
            # PyWavelets warns when every coefficient feels the boundary; with periodization the
            # transform stays exactly orthogonal, so the warning does not apply.
            warnings.simplefilter("ignore", UserWarning)
            return pywt.wavedecn(signal, self.wavelet, mode="periodization", level=self.level)

    def column_norms(self) -> np.ndarray:
        return np.ones(self.shape[1])


class Composition(Transform):
    r"""The product :math:`A = A_1 A_2 \cdots A_k` of operators, applied right to left.

    Parameters
    ----------
    operators : sequence of Transform or LinearOperator
        Factors, leftmost first; inner dimensions must agree.

    Notes
    -----
    :math:`A^\top = A_k^\top \cdots A_1^\top`. A product of operators with orthonormal rows has
    orthonormal rows (:math:`A_1 A_2 A_2^\top A_1^\top = I`), so then :math:`\|A\|_2 = 1`
    exactly. Column norms of a product have no cheap exact formula in general, so
    :meth:`column_norms` returns None (their mean square is known: :math:`\|A\|_F^2/N = m/N` for
    orthonormal rows).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseflow.transforms import PartialDCT, WaveletSynthesis, random_rows
    >>> A = PartialDCT((16, 16), random_rows(256, 64, seed=0)) @ WaveletSynthesis((16, 16), level=2)
    >>> A.shape, A.orthonormal_rows, A.norm()
    ((64, 256), True, 1.0)
    """

    def __init__(self, operators: Sequence[Any]) -> None:
        ops = list(operators)
        if not ops:
            raise ValueError("operators must contain at least one operator")
        for i, op in enumerate(ops):
            if not isinstance(op, LinearOperator):
                raise TypeError(
                    f"operators[{i}] must be a LinearOperator or Transform, got {type(op).__name__}"
                )
            if np.dtype(op.dtype).kind == "c":
                raise TypeError(f"operators[{i}] must be real-valued, got dtype {op.dtype}")
        for i in range(len(ops) - 1):
            if ops[i].shape[1] != ops[i + 1].shape[0]:
                raise ValueError(
                    f"operators[{i}] has {ops[i].shape[1]} columns but operators[{i + 1}] has "
                    f"{ops[i + 1].shape[0]} rows"
                )
        self.operators = ops
        self.orthonormal_rows = all(getattr(op, "orthonormal_rows", False) for op in ops)
        super().__init__((ops[0].shape[0], ops[-1].shape[1]))

    def _forward(self, X: np.ndarray) -> np.ndarray:
        for op in reversed(self.operators):
            X = np.asarray(op.matmat(X), dtype=np.float64)
        return X

    def _adjoint(self, Y: np.ndarray) -> np.ndarray:
        for op in self.operators:
            Y = np.asarray(op.rmatmat(Y), dtype=np.float64)
        return Y

    def column_norms(self) -> np.ndarray | None:
        if len(self.operators) == 1 and isinstance(self.operators[0], Transform):
            return self.operators[0].column_norms()
        return None


def compose(*operators: Any) -> Composition:
    """The product ``operators[0] @ operators[1] @ ...`` as one :class:`Composition`.

    Nested compositions are flattened.

    Parameters
    ----------
    *operators : Transform or LinearOperator
        Factors, leftmost first.

    Returns
    -------
    Composition

    Notes
    -----
    For a signal sparse in a basis W measured by Φ, the operator seen by the solver is
    :math:`A = \\Phi W`, with :math:`A^\\top = W^\\top \\Phi^\\top`.

    Examples
    --------
    >>> from sparseflow.transforms import PartialDCT, WaveletSynthesis, compose
    >>> A = compose(PartialDCT(32, [0, 3, 5]), WaveletSynthesis(32, "haar", level=3))
    >>> A.shape
    (3, 32)
    """
    flat: list[Any] = []
    for op in operators:
        flat.extend(op.operators if isinstance(op, Composition) else [op])
    return Composition(flat)


class _Wrapped(Transform):
    """A foreign operator with matvec/rmatvec (and maybe matmat/rmatmat), validated."""

    def __init__(self, op: Any, name: str) -> None:
        shape = tuple(int(s) for s in op.shape)
        if len(shape) != 2:
            raise ValueError(f"{name} must be 2-D, got shape {shape}")
        dtype = np.dtype(getattr(op, "dtype", None) or np.float64)
        if dtype.kind == "c":
            raise TypeError(f"{name} must be real-valued, got dtype {dtype}")
        self._op = op
        super().__init__((shape[0], shape[1]))

    def _forward(self, X: np.ndarray) -> np.ndarray:
        if X.shape[1] > 1 and hasattr(self._op, "matmat"):
            return np.asarray(self._op.matmat(X), dtype=np.float64).reshape(self.shape[0], -1)
        cols = [np.asarray(self._op.matvec(X[:, j]), dtype=np.float64) for j in range(X.shape[1])]
        return np.column_stack([c.reshape(-1) for c in cols])

    def _adjoint(self, Y: np.ndarray) -> np.ndarray:
        if Y.shape[1] > 1 and hasattr(self._op, "rmatmat"):
            return np.asarray(self._op.rmatmat(Y), dtype=np.float64).reshape(self.shape[1], -1)
        cols = [np.asarray(self._op.rmatvec(Y[:, j]), dtype=np.float64) for j in range(Y.shape[1])]
        return np.column_stack([c.reshape(-1) for c in cols])


def from_scipy(op: Any) -> Transform:
    """Wrap a real :class:`scipy.sparse.linalg.LinearOperator` as a :class:`Transform`.

    Parameters
    ----------
    op : LinearOperator
        A real operator with a working ``rmatvec``.

    Returns
    -------
    Transform
        Products delegate to ``op``; :meth:`Transform.norm` uses Lanczos iteration.

    Notes
    -----
    Any operator passes through :func:`sparseflow.as_operator` directly; wrapping adds the
    :class:`Transform` conveniences (composition with ``@``, batched products, a cached norm).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import aslinearoperator
    >>> from sparseflow.transforms import from_scipy
    >>> A = from_scipy(aslinearoperator(np.array([[3.0, 0.0], [0.0, 4.0]])))
    >>> round(A.norm(), 6)
    4.0
    """
    if not isinstance(op, LinearOperator):
        raise TypeError(f"op must be a scipy.sparse.linalg.LinearOperator, got {type(op).__name__}")
    return _Wrapped(op, "op")


def _import_pylops() -> Any:
    try:
        import pylops
    except ImportError as exc:
        raise ImportError(
            "PyLops is needed for this adapter; install it with `pip install sparseflow[pylops]`"
        ) from exc
    return pylops


def from_pylops(op: Any) -> Transform:
    """Wrap a real PyLops operator as a :class:`Transform` (needs the ``[pylops]`` extra).

    Parameters
    ----------
    op : pylops.LinearOperator
        A real PyLops operator; vectors are its flattened model and data.

    Returns
    -------
    Transform

    Notes
    -----
    PyLops' ``matvec``/``rmatvec`` map flattened model vectors to flattened data, exactly the
    protocol sparseflow's solvers use; the adapter checks the type and dtype and batches products
    through PyLops' ``matmat``.

    Examples
    --------
    >>> import numpy as np
    >>> import pylops  # doctest: +SKIP
    >>> from sparseflow.transforms import from_pylops
    >>> A = from_pylops(pylops.Diagonal(np.arange(1.0, 4.0)))  # doctest: +SKIP
    >>> A.matvec(np.ones(3))  # doctest: +SKIP
    array([1., 2., 3.])
    """
    pylops = _import_pylops()
    if not isinstance(op, pylops.LinearOperator):
        raise TypeError(f"op must be a pylops.LinearOperator, got {type(op).__name__}")
    return _Wrapped(op, "op")


def to_pylops(op: Any) -> Any:
    """Expose an operator (Transform, LinearOperator, matrix) as a PyLops operator.

    Parameters
    ----------
    op : Transform, LinearOperator or array_like
        The operator.

    Returns
    -------
    pylops.LinearOperator

    Notes
    -----
    Uses :func:`pylops.aslinearoperator`, so PyLops' solvers and ``dottest`` see the same
    forward :math:`Ax` and adjoint :math:`A^\\top y`.

    Examples
    --------
    >>> from sparseflow.transforms import PartialDCT, to_pylops
    >>> P = to_pylops(PartialDCT(8, [0, 1, 2]))  # doctest: +SKIP
    >>> P.shape  # doctest: +SKIP
    (3, 8)
    """
    pylops = _import_pylops()
    if isinstance(op, Transform):
        op = LinearOperator(
            dtype=op.dtype, shape=op.shape, matvec=op.matvec, rmatvec=op.rmatvec, matmat=op.matmat
        )
    return pylops.aslinearoperator(op)
