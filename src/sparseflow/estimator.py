r"""A scikit-learn estimator for the overparameterized flow (needs the ``[sklearn]`` extra)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._validation import check_choice, check_depth, check_positive, check_positive_int
from .result import RecoveryResult

__all__ = ["OverparamRegressor", "reduce_system"]


def _import_sklearn() -> Any:
    try:
        import sklearn.base
        import sklearn.exceptions
        import sklearn.utils.validation
    except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
        raise ImportError(
            "OverparamRegressor needs scikit-learn; install it with "
            "`pip install sparseflow[sklearn]`"
        ) from exc
    return sklearn


_sklearn = _import_sklearn()
_BaseEstimator = _sklearn.base.BaseEstimator
_RegressorMixin = _sklearn.base.RegressorMixin
_validate_data = _sklearn.utils.validation.validate_data
_check_is_fitted = _sklearn.utils.validation.check_is_fitted
_ConvergenceWarning = _sklearn.exceptions.ConvergenceWarning


def reduce_system(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""An r×N system with full row rank and the same least-squares gradient as (X, y).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)

    Returns
    -------
    B : ndarray of shape (r, n_features)
    c : ndarray of shape (r,)
        r is the numerical rank of X (singular values above max(X.shape)·eps·σ_max).

    Notes
    -----
    With the thin SVD :math:`X = U_r \Sigma_r V_r^\top` (r = rank X),
    :math:`B = \Sigma_r V_r^\top` and :math:`c = U_r^\top y` satisfy :math:`B^\top B = X^\top X`
    and :math:`B^\top c = X^\top y`, so gradient flow on :math:`\tfrac12\|Bx - c\|^2` follows the
    same path as on :math:`\tfrac12\|Xx - y\|^2` for every parametrization x = x(u, v).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseflow.estimator import reduce_system
    >>> X = np.vstack([np.eye(2), np.eye(2)])  # 4 samples, 2 features
    >>> B, c = reduce_system(X, np.array([1.0, 2.0, 3.0, 4.0]))
    >>> B.shape, bool(np.allclose(B.T @ c, X.T @ [1.0, 2.0, 3.0, 4.0]))
    ((2, 2), True)
    """
    U, sv, Vt = np.linalg.svd(X, full_matrices=False)
    cutoff = max(X.shape) * np.finfo(float).eps * (sv[0] if sv.size else 0.0)
    r = int(np.sum(sv > cutoff))
    return sv[:r, None] * Vt[:r], U[:, :r].T @ y


class OverparamRegressor(_RegressorMixin, _BaseEstimator):  # type: ignore[misc, valid-type]
    r"""Linear regression by gradient flow on an overparameterized factorization.

    Fits :math:`y \approx Xw + b` with :math:`w = u^{\odot L} - v^{\odot L}` trained by gradient
    flow from :math:`u = v = \alpha`: the implicit bias of the flow selects, among all
    least-squares solutions, an approximately ℓ1-minimal (sparse) one for small α.

    Parameters
    ----------
    depth : int, default 3
        Depth L ≥ 1 of the factorization.
    alpha : float, default 1e-3
        Initial scale α > 0 (smaller: closer to the ℓ1-minimal solution, harder numerically).
    solver : {"limit", "descent"}, default "limit"
        ``"limit"``: the flow's limit by Newton's method on the dual
        (:func:`sparseflow.flow_limit`); ``"descent"``: gradient descent
        (:func:`sparseflow.gradient_descent`), which may stop before the limit.
    fit_intercept : bool, default True
        Fit b by centering X and y first (as scikit-learn's linear models do); the intercept is
        not part of the factorization.
    nonnegative : bool, default False
        Constrain w ≥ 0 (the model w = u^L).
    tol : float, optional
        Solver tolerance (solver default when None).
    max_iter : int, optional
        Solver iteration bound (solver default when None).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The weights w.
    intercept_ : float
        b (0.0 when ``fit_intercept=False``).
    n_iter_ : int
        Iterations the solver used.
    result_ : RecoveryResult
        The solver's full result (status, message, residual).
    rank_ : int
        Rank of the (centered) design matrix.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Notes
    -----
    The flow on :math:`\tfrac12\|Xw - y\|^2` depends on the data only through :math:`X^\top X`
    and :math:`X^\top y`. With the thin SVD :math:`X = U_r\Sigma_r V_r^\top` the system
    :math:`B = \Sigma_r V_r^\top`, :math:`c = U_r^\top y` has the same two quantities and full row
    rank r ≤ min(n_samples, n_features), so the estimator solves

    .. math:: w = \arg\min_{Bz = c} \sum_i g_{\alpha,L}(z_i),

    the limit of the flow, for every shape of X. For wide X of full row rank this is the
    interpolating solution of Xw = y; for tall X (more samples than features) the constraint set
    is the set of least-squares solutions, a single point when X has full column rank (then the
    fit is ordinary least squares and α, L do not matter).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseflow import OverparamRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 100))
    >>> w = np.zeros(100); w[[3, 50]] = [2.0, -1.0]
    >>> model = OverparamRegressor(depth=3, alpha=1e-3).fit(X, X @ w + 0.5)
    >>> np.round(model.coef_[[3, 50]], 4).tolist(), round(model.intercept_, 4)
    ([2.0, -1.0], 0.5)
    """

    def __init__(
        self,
        depth: int = 3,
        alpha: float = 1e-3,
        solver: str = "limit",
        fit_intercept: bool = True,
        nonnegative: bool = False,
        tol: float | None = None,
        max_iter: int | None = None,
    ) -> None:
        self.depth = depth
        self.alpha = alpha
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.nonnegative = nonnegative
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any) -> OverparamRegressor:
        """Fit the weights (and intercept) to training data.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        y : array_like of shape (n_samples,)

        Returns
        -------
        self
        """
        options = self._solver_options()
        X, y = _validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        x_mean = X.mean(axis=0) if self.fit_intercept else np.zeros(X.shape[1])
        y_mean = float(y.mean()) if self.fit_intercept else 0.0
        B, c = reduce_system(X - x_mean, y - y_mean)
        self.rank_ = int(B.shape[0])
        if self.rank_ == 0 or not np.any(c):
            coef = np.zeros(X.shape[1])
            result = None
            self.n_iter_ = 0
        else:
            result = self._solve(B, c, options)
            coef = result.x
            self.n_iter_ = int(result.n_iter)
            if not result.converged:
                warnings.warn(
                    f"OverparamRegressor did not converge: {result.message}",
                    _ConvergenceWarning,
                    stacklevel=2,
                )
        self.coef_ = np.asarray(coef, dtype=np.float64)
        self.intercept_ = float(y_mean - x_mean @ self.coef_) if self.fit_intercept else 0.0
        self.result_ = result
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predict ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        _check_is_fitted(self)
        X = _validate_data(self, X, reset=False, dtype=np.float64)
        return np.asarray(X @ self.coef_ + self.intercept_)

    def _solver_options(self) -> dict[str, Any]:
        check_choice(self.solver, "solver", ("limit", "descent"))
        options: dict[str, Any] = {
            "depth": check_depth(self.depth),
            "alpha": check_positive(self.alpha, "alpha"),
            "nonnegative": bool(self.nonnegative),
        }
        if self.tol is not None:
            options["tol"] = check_positive(self.tol, "tol")
        if self.max_iter is not None:
            options["max_iter"] = check_positive_int(self.max_iter, "max_iter")
        return options

    def _solve(self, B: np.ndarray, c: np.ndarray, options: dict[str, Any]) -> RecoveryResult:
        from .solvers import flow_limit, gradient_descent

        solver = flow_limit if self.solver == "limit" else gradient_descent
        return solver(B, c, **options)
