"""The scikit-learn estimator in a pipeline, with cross-validation over α (needs [sklearn])."""

import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sparseflow import OverparamRegressor

rng = np.random.default_rng(0)
n_samples, n_features = 80, 300
X = rng.standard_normal((n_samples, n_features))
w = np.zeros(n_features)
w[[3, 30, 150, 299]] = [3.0, -2.0, 1.5, 1.0]
y = X @ w + 2.0 + 0.01 * rng.standard_normal(n_samples)

pipeline = make_pipeline(StandardScaler(), OverparamRegressor(depth=3))
search = GridSearchCV(pipeline, {"overparamregressor__alpha": [1e-1, 1e-2, 1e-3]}, cv=4)
search.fit(X, y)
model = search.best_estimator_[-1]
print("best alpha:", search.best_params_["overparamregressor__alpha"])
print(f"cross-validated R²: {search.best_score_:.3f}")
print("largest weights at", np.sort(np.argsort(-np.abs(model.coef_))[:4]))
