"""A long signal through fast transforms: the ECG from partial Fourier samples, matrix-free.

The 1024-sample ECG of PyWavelets is sparse in db4 wavelets. A = S R W (partial real Fourier
transform of the wavelet synthesis) is never formed as a matrix: the flow limit uses Newton–CG
and basis pursuit uses ADMM, both with products by A and Aᵀ only.
"""

import numpy as np

import sparseflow
from sparseflow.signals import ecg, snr_db
from sparseflow.transforms import PartialFourier, WaveletSynthesis, random_rows

signal = ecg()
n = signal.size
W = WaveletSynthesis(n, "db4", level=5)
# Low frequencies carry most of the energy: keep the first 40 and draw the rest at random.
rest = 40 + random_rows(n - 40, 360, seed=0)
A = PartialFourier(n, np.concatenate([np.arange(40), rest])) @ W
print("adjoint test:", sparseflow.dottest(A), " ‖A‖₂ =", A.norm())

y = A.matvec(W.rmatvec(signal))
for result in (
    sparseflow.flow_limit(A, y, depth=2, alpha=1e-3),
    sparseflow.basis_pursuit_admm(A, y, tol=1e-4),
):
    quality = snr_db(signal, W.matvec(result.x))
    print(f"{result.method:<20} SNR {quality:5.1f} dB  {result.time:5.1f} s  {result.message}")
