"""Sparse recovery in ten lines: the overparameterized flow limit against basis pursuit."""

import numpy as np

import sparseflow

rng = np.random.default_rng(0)
n, m, s = 200, 80, 8
A = rng.standard_normal((m, n)) / np.sqrt(m)
x_true = np.zeros(n)
x_true[rng.choice(n, s, replace=False)] = rng.standard_normal(s)
y = A @ x_true

limit = sparseflow.flow_limit(A, y, depth=3, alpha=1e-3)
bp = sparseflow.basis_pursuit(A, y)
for result in (limit, bp):
    error = np.linalg.norm(result.x - x_true) / np.linalg.norm(x_true)
    print(f"{result.method:<14} relative error {error:.1e}  ({result.message})")
