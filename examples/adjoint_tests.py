"""Adjoint ("dot") test of every matrix-free operator, at the sizes the examples use.

Prints max over 10 random pairs (x, y) of |⟨Ax, y⟩ − ⟨x, Aᵀy⟩| / |⟨Ax, y⟩|.
"""

import numpy as np
from scipy.sparse.linalg import aslinearoperator

from sparseflow import dottest
from sparseflow.image_demo import image_operator, sampling_rows
from sparseflow.transforms import (
    PartialDCT,
    PartialFourier,
    WaveletSynthesis,
    from_pylops,
    from_scipy,
    random_rows,
    to_pylops,
)

operators = {
    "PartialDCT 1-D (n=4096, m=1000)": PartialDCT(4096, random_rows(4096, 1000, seed=0)),
    "PartialDCT 2-D (128x128, m=4424)": PartialDCT((128, 128), sampling_rows(128, 0.27)),
    "PartialFourier (n=1024, m=400)": PartialFourier(1024, random_rows(1024, 400, seed=1)),
    "PartialFourier (n=1023, m=400)": PartialFourier(1023, random_rows(1023, 400, seed=2)),
    "WaveletSynthesis 1-D db4 (n=1024, level 5)": WaveletSynthesis(1024, "db4", 5),
    "WaveletSynthesis 2-D haar (128x128, level 4)": WaveletSynthesis((128, 128), "haar", 4),
    "WaveletSynthesis 2-D sym8 (64x64, level 3)": WaveletSynthesis((64, 64), "sym8", 3),
    "Composition S C W (image demo operator)": image_operator(128, sampling_rows(128, 0.27)),
    "Composition S R W (ECG example)": PartialFourier(1024, random_rows(1024, 400, seed=3))
    @ WaveletSynthesis(1024, "db4", 5),
    "from_scipy (dense 200x500)": from_scipy(
        aslinearoperator(np.random.default_rng(0).standard_normal((200, 500)))
    ),
}
try:
    import pylops

    operators["from_pylops (FirstDerivative @ Diagonal)"] = from_pylops(
        pylops.FirstDerivative(512, kind="forward") @ pylops.Diagonal(np.linspace(1, 2, 512))
    )
    operators["to_pylops (PartialDCT 2-D)"] = to_pylops(
        PartialDCT((64, 64), random_rows(4096, 1000, seed=4))
    )
except ImportError:
    print("(PyLops not installed: its adapters are skipped)")

for name, op in operators.items():
    worst = max(dottest(op, seed=seed) for seed in range(10))
    print(f"{name:<46} {worst:.1e}")
