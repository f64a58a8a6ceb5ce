"""The measurement operator: one small protocol that every solver uses.

:func:`as_operator` accepts a dense ndarray, a scipy sparse matrix or array, a
:class:`scipy.sparse.linalg.LinearOperator`, or any object with ``shape``, ``matvec`` and
``rmatvec`` (PyLops operators qualify), and returns a :class:`MeasurementOperator`.

The matrix-free operators of :mod:`sparseflow.transforms` (partial DCT/Fourier, wavelet
synthesis, compositions, PyLops and scipy adapters) are re-exported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from ._validation import _describe, as_float_array
from .transforms import (
    Composition,
    PartialDCT,
    PartialFourier,
    Transform,
    WaveletSynthesis,
    compose,
    from_pylops,
    from_scipy,
    random_rows,
    to_pylops,
)

__all__ = [
    "Composition",
    "MeasurementOperator",
    "PartialDCT",
    "PartialFourier",
    "Transform",
    "WaveletSynthesis",
    "as_operator",
    "compose",
    "dottest",
    "from_pylops",
    "from_scipy",
    "random_rows",
    "to_pylops",
]


class MeasurementOperator:
    """A real m×N linear map with forward and adjoint products, batched when possible.

    Parameters
    ----------
    A : ndarray, sparse matrix, LinearOperator or operator-like
        The measurement matrix or operator.
    allow_overdetermined : bool, default False
        Compressed sensing has m ≤ N; by default a taller-than-wide ``A`` is refused because it is
        usually a transposed matrix.

    Attributes
    ----------
    shape : tuple of int
        ``(m, N)``.
    kind : {"dense", "sparse", "operator"}
        How products are computed.
    """

    def __init__(self, A: Any, *, allow_overdetermined: bool = False) -> None:
        if isinstance(A, MeasurementOperator):
            self.__dict__.update(A.__dict__)
            return
        self._dense: np.ndarray | None = None
        self._sparse: sp.csr_array | sp.csr_matrix | None = None
        self._op: Any = None
        if sp.issparse(A):
            if A.ndim != 2:
                raise ValueError(f"A must be 2-D, got shape {A.shape}")
            if A.dtype.kind not in "biuf":
                raise TypeError(f"A must be real-valued, got sparse dtype {A.dtype}")
            csr = A.tocsr().astype(np.float64)
            if not np.all(np.isfinite(csr.data)):
                raise ValueError("A contains NaN or infinite values")
            self._sparse = csr
            self.kind = "sparse"
            shape = csr.shape
        elif isinstance(A, LinearOperator) or (
            hasattr(A, "shape") and hasattr(A, "matvec") and hasattr(A, "rmatvec")
        ):
            shape = tuple(int(s) for s in A.shape)
            if len(shape) != 2:
                raise ValueError(f"A must be 2-D, got shape {shape}")
            dtype = np.dtype(getattr(A, "dtype", np.float64) or np.float64)
            if dtype.kind == "c":
                raise TypeError(f"A must be real-valued, got operator dtype {dtype}")
            self._op = A
            self.kind = "operator"
        else:
            if not isinstance(A, np.ndarray) and not isinstance(A, list | tuple):
                raise TypeError(
                    "A must be a 2-D array, a scipy sparse matrix or a LinearOperator, "
                    f"got {_describe(A)} of type {type(A).__name__}"
                )
            self._dense = as_float_array(A, "A", ndim=(2,))
            self.kind = "dense"
            shape = self._dense.shape
        m, n = shape
        if m == 0 or n == 0:
            raise ValueError(f"A must not be empty, got shape {shape}")
        if m > n and not allow_overdetermined:
            raise ValueError(
                f"A must have at most as many rows as columns (m <= N) for sparse recovery, got "
                f"shape {shape}; did you pass the transpose?"
            )
        self.shape: tuple[int, int] = (int(m), int(n))
        self._norm: float | None = None
        self._column_norms: np.ndarray | None = None

    # --- products -------------------------------------------------------------------------------
    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``A @ x`` for x of shape (N,) or (N, B)."""
        if self._dense is not None:
            return self._dense @ x
        if self._sparse is not None:
            return np.asarray(self._sparse @ x)
        if x.ndim == 1:
            return np.asarray(self._op.matvec(x), dtype=np.float64).reshape(-1)
        if hasattr(self._op, "matmat"):
            return np.asarray(self._op.matmat(x), dtype=np.float64).reshape(self.shape[0], -1)
        return np.column_stack([self.matvec(x[:, j]) for j in range(x.shape[1])])

    def rmatvec(self, r: np.ndarray) -> np.ndarray:
        """``Aᵀ @ r`` for r of shape (m,) or (m, B)."""
        if self._dense is not None:
            return self._dense.T @ r
        if self._sparse is not None:
            return np.asarray(self._sparse.T @ r)
        if r.ndim == 1:
            return np.asarray(self._op.rmatvec(r), dtype=np.float64).reshape(-1)
        if hasattr(self._op, "rmatmat"):
            return np.asarray(self._op.rmatmat(r), dtype=np.float64).reshape(self.shape[1], -1)
        return np.column_stack([self.rmatvec(r[:, j]) for j in range(r.shape[1])])

    @property
    def is_matrix(self) -> bool:
        """True when A is stored explicitly (dense or sparse)."""
        return self.kind != "operator"

    def toarray(self, max_size: int = 50_000_000) -> np.ndarray:
        """Return A as a dense array (materialized column by column for operators)."""
        if self._dense is not None:
            return self._dense
        m, n = self.shape
        if m * n > max_size:
            raise ValueError(f"A of shape {self.shape} is too large to materialize densely")
        if self._sparse is not None:
            return self._sparse.toarray()
        return self.matvec(np.eye(n))

    def norm(self, n_iter: int = 100, rtol: float = 1e-6, seed: int = 0) -> float:
        """Spectral norm ‖A‖₂ (cached): exact for small dense A and for operators that know it
        (a ``norm()`` method, e.g. :mod:`sparseflow.transforms`), else power iteration on AᵀA."""
        if self._norm is None:
            known = _known(self._op, "norm")
            if known is not None:
                self._norm = float(known)
            elif self._dense is not None and min(self.shape) <= 500:
                self._norm = float(np.linalg.norm(self._dense, 2))
            else:
                self._norm = _power_norm(self, n_iter, rtol, seed)
        return self._norm

    def column_norms(self) -> np.ndarray:
        """Euclidean norm of each column.

        Exact for matrices and for operators with a ``column_norms()`` method that returns an
        array (:mod:`sparseflow.transforms`); other operators are materialized (small N only).
        """
        if self._column_norms is None:
            self._column_norms = self._compute_column_norms()
            self._column_norms.flags.writeable = False  # cached: shared by every caller
        return self._column_norms

    def _compute_column_norms(self) -> np.ndarray:
        if self._dense is not None:  # einsum: no m×N temporary (norm(axis=0) would make one)
            return np.sqrt(np.einsum("ij,ij->j", self._dense, self._dense))
        if self._sparse is not None:
            return np.sqrt(np.asarray(self._sparse.multiply(self._sparse).sum(axis=0)).ravel())
        known = _known(self._op, "column_norms")
        if known is not None:
            return np.array(known, dtype=np.float64).reshape(self.shape[1])
        return np.linalg.norm(self.toarray(), axis=0)

    @property
    def has_cheap_column_norms(self) -> bool:
        """True when :meth:`column_norms` needs no materialization."""
        return self.is_matrix or _known(self._op, "column_norms") is not None

    def __repr__(self) -> str:
        return f"MeasurementOperator(shape={self.shape}, kind={self.kind!r})"


def _known(op: Any, name: str) -> Any:
    """``op.name()`` when the wrapped operator offers that cheap fact, else None."""
    method = getattr(op, name, None) if op is not None else None
    if not callable(method):
        return None
    try:
        return method()
    except (NotImplementedError, TypeError):
        return None


def _power_norm(op: MeasurementOperator, n_iter: int, rtol: float, seed: int) -> float:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(op.shape[1])
    v /= np.linalg.norm(v)
    est = 0.0
    for _ in range(n_iter):
        w = op.rmatvec(op.matvec(v))
        new = float(np.sqrt(np.linalg.norm(w)))
        if new == 0.0:
            return 0.0
        v = w / np.linalg.norm(w)
        if abs(new - est) <= rtol * new:
            est = new
            break
        est = new
    return est


def as_operator(A: Any, *, allow_overdetermined: bool = False) -> MeasurementOperator:
    """Wrap ``A`` as a :class:`MeasurementOperator` (returned unchanged if it already is one)."""
    if isinstance(A, MeasurementOperator):
        return A
    return MeasurementOperator(A, allow_overdetermined=allow_overdetermined)


def dottest(A: Any, *, seed: int = 0) -> float:
    """Relative error of the adjoint identity ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ for random x, y.

    Returns
    -------
    float
        ``|⟨Ax, y⟩ − ⟨x, Aᵀy⟩| / max(|⟨Ax, y⟩|, tiny)``; about 1e-15 for a correct adjoint.
    """
    op = as_operator(A, allow_overdetermined=True)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(op.shape[1])
    y = rng.standard_normal(op.shape[0])
    lhs = float(op.matvec(x) @ y)
    rhs = float(x @ op.rmatvec(y))
    return abs(lhs - rhs) / max(abs(lhs), abs(rhs), np.finfo(float).tiny)
