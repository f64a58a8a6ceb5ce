"""The reliability grid of issue 4: depth L = 1…10 × α = 1, 1e-2, …, 1e-8 on one Gaussian instance.

For every cell the flow limit (and, with --descent, gradient descent with a bounded budget) is
judged against an independent reference (tests/references.py) and counted as: a finite answer
meeting the tolerance / an honest failure (not converged, finite) / NaN / wrong (converged but
failing the check). Run from the repository root:

    python benchmarks/edge_grid.py            # flow_limit only (about a minute)
    python benchmarks/edge_grid.py --descent  # also gradient descent (a few minutes)
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.references import gaussian_instance, judge_limit

import sparseflow

DEPTHS = range(1, 11)
ALPHAS = (1.0, 1e-2, 1e-4, 1e-6, 1e-8)


def run(descent: bool) -> int:
    A, _, y = gaussian_instance()
    counts: Counter[str] = Counter()
    print(f"{'L':>2} {'alpha':>6}  {'verdict':<7} {'status':<10} {'iter':>5} {'time':>7}  check")
    for depth in DEPTHS:
        for alpha in ALPHAS:
            start = time.perf_counter()
            res = sparseflow.flow_limit(A, y, depth=depth, alpha=alpha)
            elapsed = time.perf_counter() - start
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")  # the naive reference may warn; it is judged
                verdict, note = judge_limit(A, y, depth, alpha, res.x, res.converged)
            counts[verdict] += 1
            print(
                f"{depth:>2} {alpha:>6.0e}  {verdict:<7} {res.status.name:<10} {res.n_iter:>5} "
                f"{elapsed:>6.2f}s  {note}"
            )
    print(
        f"flow_limit: {counts['ok']} ok / {counts['honest']} honest failure / {counts['nan']} NaN"
        f" / {counts['wrong']} wrong, of {sum(counts.values())} cells"
    )
    bad = counts["nan"] + counts["wrong"]
    if descent:
        d_counts: Counter[str] = Counter()
        for depth in DEPTHS:
            for alpha in ALPHAS:
                res = sparseflow.gradient_descent(A, y, depth=depth, alpha=alpha, max_iter=5000)
                finite = bool(np.all(np.isfinite(res.x)))
                rel = float(np.linalg.norm(A @ res.x - y) / np.linalg.norm(y))
                if not finite:
                    d_counts["nan"] += 1
                elif res.converged and rel <= 1e-6 * 1.0001:
                    d_counts["ok"] += 1
                elif res.converged:
                    d_counts["wrong"] += 1
                else:
                    d_counts[res.status.name] += 1
        print(f"gradient_descent (max_iter=5000, tol=1e-6): {dict(sorted(d_counts.items()))}")
        bad += d_counts["nan"] + d_counts["wrong"]
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--descent", action="store_true", help="also run gradient descent")
    sys.exit(run(parser.parse_args().descent))
