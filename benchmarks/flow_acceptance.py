"""Acceptance figures of gradient_flow: large-t value vs flow_limit, O(eta) gap to descent.

Run: python benchmarks/flow_acceptance.py (about 10 s).
"""

import numpy as np

import sparseflow as sf
from sparseflow.experiments.trials import make_instance

for L, a in [(2, 1e-3), (3, 1e-2), (4, 3e-2)]:
    worst = 0.0
    for seed in range(10):
        A, _, y = make_instance(100, 40, 5, seed)
        lim = sf.flow_limit(A, y, depth=L, alpha=a, tol=1e-12)
        fl = sf.gradient_flow(A, y, L, a, times=[1e15])
        assert fl.converged, fl.message
        worst = max(worst, np.linalg.norm(fl.x - lim.x) / np.linalg.norm(lim.x))
    print(f"L={L} alpha={a:g}: max relative difference over 10 instances = {worst:.1e}")
# descent -> flow convergence in eta
A, _, y = make_instance(30, 15, 3, 1)
for L in (2, 3):
    fl = sf.gradient_flow(A, y, L, 0.3, times=[2.0], rtol=1e-11, atol=1e-13)
    errs = []
    for eta in (4e-3, 2e-3, 1e-3, 5e-4):
        gd = sf.gradient_descent(A, y, L, 0.3, step=eta, max_iter=round(2.0 / eta), tol=1e-15)
        errs.append(np.linalg.norm(gd.x - fl.x) / np.linalg.norm(fl.x))
    print(
        f"L={L}: |GD(k steps of eta) - flow(t=k eta=2)| / |flow| for eta=4e-3,2e-3,1e-3,5e-4:",
        " ".join(f"{e:.2e}" for e in errs),
    )
