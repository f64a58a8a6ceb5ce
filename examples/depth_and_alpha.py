"""Depth and initial scale: the ℓ1 gap of the flow's limit to basis pursuit ("more is less").

For each depth L and scale α, prints (‖x_∞‖₁ − ‖x_BP‖₁) / ‖x_BP‖₁. The gap shrinks like a power
of α for L ≥ 3 and only slowly for L = 2.
"""

import numpy as np

import sparseflow

rng = np.random.default_rng(1)
n, m = 100, 40
A = rng.standard_normal((m, n)) / np.sqrt(m)
y = A @ (rng.standard_normal(n) * (rng.random(n) < 0.15))  # a sparse-ish signal
l1_bp = np.abs(sparseflow.basis_pursuit(A, y).x).sum()

alphas = [1e-1, 1e-2, 1e-3, 1e-4]
print("L \\ alpha " + "".join(f"{a:>10.0e}" for a in alphas))
for depth in (2, 3, 4):
    gaps = []
    for alpha in alphas:
        x = sparseflow.flow_limit(A, y, depth=depth, alpha=alpha).x
        gaps.append((np.abs(x).sum() - l1_bp) / l1_bp)
    print(f"{depth:<10}" + "".join(f"{g:>10.1e}" for g in gaps))
