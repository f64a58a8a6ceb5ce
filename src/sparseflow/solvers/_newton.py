r"""Newton directions for the dual of the flow's limit: solve (A diag(d) Aᵀ) Δ = −r fast.

The Hessian weights :math:`d = h'(A^\top\mu)` of the dual span many orders of magnitude once
:math:`\mu` nears the optimum: huge on (and near) the support of the limit, tiny and within a
modest factor of each other elsewhere. Forming :math:`A\,\mathrm{diag}(d)A^\top` costs
:math:`m^2N` flops per Newton step, and its Cholesky factor degrades with that spread. Instead,
for matrices of more than a few tens of thousands of entries, each step

- splits the coordinates into a set T of large weights (above 100 × the smallest, at most 0.2 m
  of them, the largest first) and the rest R;
- runs conjugate gradients preconditioned with

  .. math:: P = \sigma G + A_T\,\mathrm{diag}(d_T - \sigma)A_T^\top
              = L\,(\sigma I + W E W^\top)\,L^\top,\quad W = L^{-1}A_T,\ E = d_T - \sigma,

  where :math:`G = LL^\top` is :math:`AA^\top` (factored once per solve) when A's rows are far
  from orthogonal, and :math:`(\|A\|_F^2/m)\,I` otherwise (Gaussian-like A: no m²N work at all).
  P is applied by the Woodbury identity with the |T| × |T| capacitance matrix
  :math:`K = \sigma E^{-1} + W^\top W`; columns of W are cached, since T changes little from step
  to step. With G = AAᵀ the preconditioned eigenvalues lie in
  :math:`[\min_R d/\sigma, \max_R d/\sigma] \cup \{1\}`, so CG needs a handful of iterations
  (each two products with A);
- stops CG at an inexact-Newton forcing tolerance that tightens as the residual falls: early
  steps are cheap, the last ones keep Newton's fast local convergence. The CG residual
  :math:`r + M\Delta` is exactly the linearized next data residual, so this is the right measure.

Small matrices use the direct Cholesky factorization of the m × m Hessian. Matrix-free operators
with up to a few thousand rows whose AAᵀ is close to a multiple of I (partial DCT/Fourier
measurements of a wavelet expansion: exactly I) use the same preconditioner, the columns of A_T
computed as products of A with unit vectors (in blocks) and cached like the others; other
operators use unpreconditioned CG.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.linalg import get_blas_funcs
from scipy.linalg.lapack import dpotrf as _potrf
from scipy.linalg.lapack import dpotrs as _potrs

from ..operators import MeasurementOperator

__all__ = ["NewtonSystem", "weighted_gram"]

_daxpy, _ddot, _dscal = get_blas_funcs(("axpy", "dot", "scal"), dtype=np.float64)
_dsyrk = get_blas_funcs("syrk", dtype=np.float64)
_EMPTY = np.empty(0)
_EMPTY_INDEX = np.empty(0, dtype=np.intp)
# A preconditioner application: v ↦ (P⁻¹v, A_Tᵀ P⁻¹v)
_Apply = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def weighted_gram(A: np.ndarray, d: np.ndarray) -> np.ndarray:
    """A diag(d) Aᵀ for d ≥ 0, as a symmetric rank-k update (half the flops of a product)."""
    if A.shape[1] == 0:  # BLAS rejects k = 0
        return np.zeros((A.shape[0], A.shape[0]))
    B = A * np.sqrt(d)
    # B.T is Fortran-ordered: with trans=1 BLAS reads B without a copy
    upper = _dsyrk(1.0, B.T, trans=1, lower=0)  # the strict lower triangle is left zero
    gram = upper + upper.T
    gram.flat[:: gram.shape[0] + 1] *= 0.5  # exact: the diagonal was doubled
    return gram


def _unpreconditioned(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return v, _EMPTY


_FORCING_MAX = 0.1
# Below this many entries of A the dense m×m Hessian is formed and factored at every step.
_DIRECT_MAX_ENTRIES = 40_000
# Weights within this factor of the smallest stay in the well-conditioned part R.
_SPLIT_RATIO = 100.0
# Largest T, as a fraction of m: forming the capacitance matrix costs m·|T|² per Newton step.
_MAX_SPLIT_FRACTION = 0.2
# Above this λ_max(AAᵀ) / mean eigenvalue, AAᵀ is factored and used in the preconditioner.
_GRAM_SPREAD = 6.0
# Largest number of cached columns of L⁻¹A_T, as a multiple of the largest T (bounds the memory).
_CACHE_FRACTION = 2.0
# Matrix-free operators with at most this many rows get the preconditioner (the column cache holds
# up to 0.4·m² numbers: 80 MB at m = 5000).
_OPERATOR_PCG_MAX_ROWS = 5000
# Columns of a matrix-free A are computed this many at a time (products with unit vectors).
_COLUMN_BLOCK = 256


def _mean_gram_eigenvalue(op: MeasurementOperator, probes: int = 8) -> float:
    """‖A‖_F² / m, the mean eigenvalue of AAᵀ: exact for matrices and for operators that know
    their column norms, else a Hutchinson estimate (Rademacher probes, seeded)."""
    m = op.shape[0]
    if op.has_cheap_column_norms:
        return float(np.sum(op.column_norms() ** 2)) / m
    z = np.random.default_rng(0).choice([-1.0, 1.0], size=(m, probes))
    return float(np.sum(op.rmatvec(z) ** 2)) / (probes * m)


def _gram_spread(op: MeasurementOperator, mean: float, steps: int = 5) -> float:
    """A lower estimate of λ_max(AAᵀ) / mean by a few power iterations (mean = ‖A‖_F² / m)."""
    m = op.shape[0]
    if mean == 0:
        return 1.0
    v = np.random.default_rng(0).standard_normal(m)
    top = 0.0
    for _ in range(steps):
        v /= np.linalg.norm(v)
        u = op.matvec(op.rmatvec(v))
        top = float(v @ u)
        v = u
    return top / mean


class NewtonSystem:
    """Solver for the Newton systems (A diag(d) Aᵀ) Δ = −r of one flow-limit solve.

    Parameters
    ----------
    op : MeasurementOperator
        The measurement operator; its factorization data is cached across calls.
    method : {"auto", "direct", "pcg", "cg"}
        ``"auto"`` picks ``"direct"`` for small matrices, ``"pcg"`` for other matrices and
        ``"cg"`` for matrix-free operators.
    """

    def __init__(self, op: MeasurementOperator, method: str = "auto") -> None:
        m, n = op.shape
        self.op = op
        explicit = method != "auto"
        if method == "auto":
            if not op.is_matrix:
                method = "pcg" if m <= _OPERATOR_PCG_MAX_ROWS else "cg"
            elif m * n <= _DIRECT_MAX_ENTRIES:
                method = "direct"
            else:
                method = "pcg"
        if method not in ("direct", "pcg", "cg"):
            raise ValueError(f"method must be 'auto', 'direct', 'pcg' or 'cg', got {method!r}")
        if method == "direct" and not op.is_matrix:
            raise ValueError("method 'direct' needs A as a matrix, not a LinearOperator")
        self.cg_iterations = 0
        self._chol: np.ndarray | None = None
        self._gram_scale = _mean_gram_eigenvalue(op) if method == "pcg" else 1.0
        # AAᵀ is factored only when it is far from a multiple of I (Gaussian-like A is not).
        self.factor_gram = method == "pcg" and _gram_spread(op, self._gram_scale) > _GRAM_SPREAD
        if self.factor_gram and not op.is_matrix:
            if explicit:
                raise ValueError(
                    "method 'pcg' on a LinearOperator needs AAᵀ close to a multiple of I"
                )
            method, self.factor_gram = "cg", False  # forming AAᵀ would take m products
        self.method = method
        self._columns: sp.csc_array | np.ndarray | None = None
        self._cache = np.empty((m, 0))
        self._gram = np.empty((0, 0))
        self._slot = np.full(n, -1)
        self._cached = 0

    # --- public ---------------------------------------------------------------------------------
    def direction(
        self, d: np.ndarray, r: np.ndarray, rel_residual: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return Δ with (A diag(d) Aᵀ) Δ ≈ −r, and AᵀΔ.

        ``rel_residual`` = ‖r‖/‖y‖ sets the accuracy. CG computes AᵀΔ on the way (a sum of the
        products Aᵀp it needs anyway), which saves the Newton step one product with Aᵀ.
        """
        if self.method == "direct":
            delta = self._direct(d, r)
            return delta, self.op.rmatvec(delta)
        # Inexact Newton: loose while far from the solution, tight near it.
        forcing = float(min(_FORCING_MAX, max(np.sqrt(rel_residual), 1e-12)))
        preconditioner = self._preconditioner(d) if self.method == "pcg" else None
        return self._cg(d, r, forcing, preconditioner)

    # --- direct ---------------------------------------------------------------------------------
    def _direct(self, d: np.ndarray, r: np.ndarray) -> np.ndarray:
        A = self.op.toarray()
        m = A.shape[0]
        M = weighted_gram(A, d)
        top = float(np.max(np.diag(M))) or 1.0
        ridge = 0.0
        for _ in range(8):
            try:
                factor = sla.cho_factor(M + ridge * np.eye(m), lower=True, check_finite=False)
                return -sla.cho_solve(factor, r, check_finite=False)
            except (np.linalg.LinAlgError, sla.LinAlgError):
                ridge = max(ridge * 100, top * 1e-15)
        return -np.linalg.lstsq(M, r, rcond=None)[0]

    # --- preconditioned CG ----------------------------------------------------------------------
    def _base(self) -> np.ndarray | None:
        """Lower Cholesky factor of AAᵀ (computed once); None: use a multiple of I instead."""
        if self._columns is None and not self.factor_gram:
            if self.op.kind == "dense":
                self._columns = self.op.toarray()
            elif self.op.kind == "sparse":
                csr = self.op._sparse
                assert csr is not None
                self._columns = csr.tocsc()
            return None
        if not self.factor_gram:
            return None
        if self._chol is None:
            if self.op.kind == "sparse":
                csr = self.op._sparse
                assert csr is not None
                gram = np.asarray((csr @ csr.T).toarray())
                self._columns = csr.tocsc()
            else:
                A = self.op.toarray()
                gram = A @ A.T  # numpy uses a symmetric rank-k update here, without copying A
                self._columns = A
            m = gram.shape[0]
            top = float(np.max(np.diag(gram))) or 1.0
            ridge = 0.0
            for _ in range(8):
                try:
                    gram_r = gram + ridge * np.eye(m) if ridge else gram
                    self._chol = sla.cholesky(gram_r, lower=True, check_finite=False)
                    break
                except (np.linalg.LinAlgError, sla.LinAlgError):
                    ridge = max(ridge * 100, top * 1e-13)
            else:  # A numerically rank deficient beyond repair: precondition by a multiple of I
                self._chol = np.sqrt(top) * np.eye(m)
        return self._chol

    def _whitened_columns(self, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """W = L⁻¹ A[:, T] and its Gram matrix WᵀW, from a cache kept between Newton steps.

        T changes little from step to step, so only the new columns are whitened and only their
        inner products with the cached ones are computed (m·|new|·|cache| flops, not m·|T|²).
        """
        chol = self._base()
        m = self.op.shape[0]
        capacity = max(64, int(_CACHE_FRACTION * _MAX_SPLIT_FRACTION * m))
        missing = T[self._slot[T] < 0]
        if missing.size:
            if self._cached + missing.size > capacity:
                self._slot[:] = -1
                self._cached = 0
                missing = T
            block = self._matrix_columns(missing)
            if chol is None:
                new = block / np.sqrt(self._gram_scale)
            else:
                new = sla.solve_triangular(chol, block, lower=True, check_finite=False)
            start, need = self._cached, self._cached + missing.size
            size = max(need, min(capacity, 2 * self._cache.shape[1]))
            if need > self._cache.shape[1]:
                grown = np.empty((m, size))
                grown[:, :start] = self._cache[:, :start]
                self._cache = grown
                gram = np.empty((size, size))
                gram[:start, :start] = self._gram[:start, :start]
                self._gram = gram
            self._cache[:, start:need] = new
            cross = new.T @ self._cache[:, :need]
            self._gram[start:need, :need] = cross
            self._gram[:start, start:need] = cross[:, :start].T
            self._slot[missing] = np.arange(start, need)
            self._cached = need
        slots = self._slot[T]
        return self._cache.take(slots, axis=1), self._gram[slots[:, None], slots]

    def _matrix_columns(self, index: np.ndarray) -> np.ndarray:
        """The columns A[:, index] as a dense m × |index| array."""
        if self.op.kind == "operator":
            n = self.op.shape[1]
            block = np.empty((self.op.shape[0], index.size))
            for start in range(0, index.size, _COLUMN_BLOCK):
                part = index[start : start + _COLUMN_BLOCK]
                unit = np.zeros((n, part.size))
                unit[part, np.arange(part.size)] = 1.0
                block[:, start : start + part.size] = self.op.matvec(unit)
            return block
        cols = self._columns
        assert cols is not None
        picked = cols[:, index]
        return picked if isinstance(picked, np.ndarray) else picked.toarray()

    def _preconditioner(self, d: np.ndarray) -> tuple[_Apply, np.ndarray]:
        """P⁻¹ as a function v ↦ (P⁻¹v, A_Tᵀ P⁻¹v), and the index set T of large weights.

        A_Tᵀ P⁻¹v is returned in closed form, E⁻¹K⁻¹Wᵀv (times 1/√c without the Gram factor), not
        computed as a product: P⁻¹ scales the directions of range(A_T) by about 1/d_T, and a
        product with A_Tᵀ would return that tiny component plus rounding error of the size of
        the whole vector, which the weights d_T (up to 1e20 times the others for small α)
        would then amplify beyond the rest of the Hessian product.
        """
        chol = self._base()
        m = self.op.shape[0]
        low = float(d.min())
        cap = max(1, int(_MAX_SPLIT_FRACTION * m))
        threshold = _SPLIT_RATIO * low
        big = np.flatnonzero(d > threshold)
        if big.size > cap:
            big = big[np.argpartition(d[big], big.size - cap)[big.size - cap :]]
            rest = np.ones(d.size, dtype=bool)
            rest[big] = False
            high = float(d[rest].max())
        else:  # R is everything up to the threshold (the smallest weight included)
            high = float(d.max(where=d <= threshold, initial=low))
        sigma = math.sqrt(low * high)
        # without the Gram factor: P⁻¹v = (v − W K⁻¹ Wᵀ v) / (σ c), c = ‖A‖_F²/m, W = A_T / √c
        root = 1.0 if chol is not None else math.sqrt(self._gram_scale)
        scale = 1.0 / (sigma * root * root)
        if big.size:
            W, K = self._whitened_columns(big)
            excess = d[big] - sigma
            K.flat[:: K.shape[0] + 1] += sigma / excess  # the diagonal
            # LAPACK directly: numpy's and scipy's wrappers cost more than the factorization
            K_factor, info = _potrf(K.T, lower=1, clean=0, overwrite_a=1)  # K.T: Fortran order
            if info != 0:
                raise np.linalg.LinAlgError("capacitance matrix of the preconditioner is singular")
            image_scale = 1.0 / (root * excess)

        def apply(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            z = v if chol is None else sla.solve_triangular(chol, v, lower=True, check_finite=False)
            image = _EMPTY
            if big.size:
                u = _potrs(K_factor, W.T @ z, lower=1)[0]
                z = z - W @ u
                image = u * image_scale
            z = z * scale  # a new array: z may still be v
            if chol is not None:
                z = sla.solve_triangular(chol, z, lower=True, trans="T", check_finite=False)
            return z, image

        return apply, big

    def _cg(
        self,
        d: np.ndarray,
        r: np.ndarray,
        forcing: float,
        preconditioner: tuple[_Apply, np.ndarray] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Conjugate gradients on (A diag(d) Aᵀ) Δ = −r; returns Δ and AᵀΔ.

        With a preconditioner, A_Tᵀp on its index set T of large weights is carried along the
        iteration from the preconditioner's closed form (p ← z + βp is linear) and used, instead
        of the product Aᵀp, where the Hessian product multiplies it by d_T: the product carries
        rounding error of the size of the whole of p, which weights up to 1e20 times the others
        would blow up into the dominant part of q. AᵀΔ itself is still accumulated from the
        products, so that w + t AᵀΔ stays the image of μ + tΔ to rounding.
        """
        op = self.op
        m = r.size
        b = -r
        b_norm = math.sqrt(_ddot(b, b))
        x = np.zeros(m)
        x_image = np.zeros(op.shape[1])  # Aᵀx, accumulated from the products Aᵀp
        if b_norm == 0:
            return x, x_image
        precondition, big = preconditioner or (_unpreconditioned, _EMPTY_INDEX)
        res = b
        z, z_big = precondition(res)
        p, p_big = z.copy(), z_big.copy()
        rz = _ddot(res, z)
        goal_sq = (forcing * b_norm) ** 2
        limit = 200 if preconditioner is not None else 10 * m
        weighted = np.empty(op.shape[1])
        d_big = d[big]
        # BLAS level-1 calls update in place: at m in the hundreds a numpy expression costs
        # several times the arithmetic (temporaries and dispatch).
        for _ in range(limit):
            p_image = op.rmatvec(p)
            np.multiply(d, p_image, out=weighted)
            weighted[big] = d_big * p_big
            q = op.matvec(weighted)
            # pᵀq, not Σ d (Aᵀp)²: the step must match the q that updates the residual, which
            # keeps the residual orthogonal to p whatever rounding q carries
            curvature = _ddot(p, q)
            if not math.isfinite(curvature) or curvature <= 0:
                break
            step = rz / curvature
            _daxpy(p, x, m, step)
            _daxpy(p_image, x_image, x_image.size, step)
            _daxpy(q, res, m, -step)
            self.cg_iterations += 1
            if _ddot(res, res) <= goal_sq:
                break
            z, z_big = precondition(res)
            rz_new = _ddot(res, z)
            beta = rz_new / rz
            # p ← z + β p, in place (z may be res itself, which must stay as it is)
            _dscal(beta, p)
            _daxpy(z, p, m, 1.0)
            p_big = z_big + beta * p_big
            rz = rz_new
        if not np.any(x):  # no usable curvature: fall back to the preconditioned residual
            return z, op.rmatvec(z)
        return x, x_image
