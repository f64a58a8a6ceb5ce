r"""Compressed sensing of a real image: partial-DCT measurements, sparsity in a 2-D wavelet basis.

The camera-man image shipped with PyWavelets is block-averaged to ``size``×``size`` pixels in
[0, 1]; about 27 % of its 2-D DCT coefficients are measured (a variable-density random set), and
its wavelet coefficients c are recovered from :math:`y = S\,C\,W c` — all matrix-free — by the
overparameterized flow limit and by basis pursuit (ADMM). ``sparseflow demo --image`` runs it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pywt
from scipy.ndimage import gaussian_filter

from ._validation import check_positive, check_positive_int
from .result import RecoveryResult
from .solvers import basis_pursuit_admm, flow_limit
from .transforms import Composition, PartialDCT, WaveletSynthesis, random_rows

__all__ = [
    "ImageDemoSettings",
    "image_operator",
    "load_image",
    "psnr",
    "run_image_demo",
    "sampling_rows",
    "ssim",
]


@dataclass
class ImageDemoSettings:
    """Parameters of the image demo (the defaults are the documented job)."""

    image: str = "camera"
    size: int = 128
    ratio: float = 0.27
    wavelet: str = "haar"
    level: int = 4
    depth: int = 2
    alpha: float = 1e-3
    limit_tol: float = 1e-6
    admm_tol: float = 1e-5
    seed: int = 0


def load_image(name: str = "camera", size: int = 128) -> np.ndarray:
    """A test image shipped with PyWavelets, block-averaged to size×size, scaled to [0, 1].

    Parameters
    ----------
    name : {"camera", "ascent"}
        ``pywt.data.camera()`` (512×512) or ``pywt.data.ascent()`` (512×512).
    size : int, default 128
        Output side; must divide 512.

    Returns
    -------
    ndarray, shape (size, size)

    Notes
    -----
    Each output pixel is the mean of a :math:`(512/\text{size})^2` block, then the image is
    divided by 255.

    Examples
    --------
    >>> from sparseflow.image_demo import load_image
    >>> img = load_image("camera", 64)
    >>> img.shape, bool(0 <= img.min() and img.max() <= 1)
    ((64, 64), True)
    """
    loaders = {"camera": pywt.data.camera, "ascent": pywt.data.ascent}
    if name not in loaders:
        raise ValueError(f"name must be one of {sorted(loaders)}, got {name!r}")
    size = check_positive_int(size, "size")
    raw = np.asarray(loaders[name](), dtype=np.float64)
    side = raw.shape[0]
    if raw.shape != (side, side) or side % size:
        raise ValueError(f"size must divide the image side {side}, got {size}")
    f = side // size
    return raw.reshape(size, f, size, f).mean(axis=(1, 3)) / 255.0


def sampling_rows(size: int, ratio: float, *, seed: int = 0) -> np.ndarray:
    r"""Variable-density random DCT frequencies for a size×size image.

    Parameters
    ----------
    size : int
        Image side n.
    ratio : float
        Fraction m / n² of frequencies to measure, in (0, 1].
    seed : int, default 0

    Returns
    -------
    ndarray of int, shape (m,)
        Flattened (row-major) indices of the measured 2-D DCT coefficients.

    Notes
    -----
    Frequencies of normalized radius :math:`\rho = |k|/n < 0.05` are always measured; the rest
    are drawn without replacement with probability :math:`\propto (1 + 16\rho)^{-2}`, because
    natural images put most of their energy at low frequencies (uniform sampling misses it).

    Examples
    --------
    >>> from sparseflow.image_demo import sampling_rows
    >>> rows = sampling_rows(32, 0.25, seed=0)
    >>> rows.size, int(rows[0])  # 256 of 1024 frequencies, DC included
    (256, 0)
    """
    size = check_positive_int(size, "size")
    ratio = check_positive(ratio, "ratio")
    if ratio > 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    n = size * size
    m = max(1, round(ratio * n))
    k1, k2 = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    radius = np.hypot(k1, k2).ravel() / size
    density = (1.0 + 16.0 * radius) ** -2.0
    # A huge weight makes the sequential draw take every low frequency first.
    density[radius < 0.05] = 1e12
    return random_rows(n, m, seed=seed, density=density)


def image_operator(size: int, rows: Any, wavelet: str = "haar", level: int = 4) -> Composition:
    r"""The matrix-free operator :math:`A = S\,C\,W` from wavelet coefficients to measurements.

    Parameters
    ----------
    size : int
        Image side n (divisible by 2**level).
    rows : array_like of int
        Measured DCT frequencies (see :func:`sampling_rows`).
    wavelet : str, default "haar"
        Orthogonal wavelet.
    level : int, default 4

    Returns
    -------
    Composition
        ``PartialDCT((n, n), rows) @ WaveletSynthesis((n, n), wavelet, level)``; it has
        orthonormal rows.

    Notes
    -----
    W is orthogonal and :math:`SC` has orthonormal rows, so :math:`AA^\top = I`.

    Examples
    --------
    >>> from sparseflow.image_demo import image_operator, sampling_rows
    >>> A = image_operator(32, sampling_rows(32, 0.25), level=3)
    >>> A.shape, A.orthonormal_rows
    ((256, 1024), True)
    """
    size = check_positive_int(size, "size")
    return PartialDCT((size, size), rows) @ WaveletSynthesis((size, size), wavelet, level)


def psnr(reference: Any, image: Any, data_range: float = 1.0) -> float:
    r"""Peak signal-to-noise ratio in dB.

    Parameters
    ----------
    reference, image : array_like of the same shape
    data_range : float, default 1.0
        Peak value P of the intensity range.

    Returns
    -------
    float
        ``inf`` for identical images.

    Notes
    -----
    .. math:: \mathrm{PSNR} = 10 \log_{10} \frac{P^2}{\tfrac1n\|\,\text{image} -
              \text{reference}\|^2}.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseflow.image_demo import psnr
    >>> round(psnr(np.zeros((4, 4)), np.full((4, 4), 0.1)), 6)
    20.0
    """
    ref, img = _pair(reference, image)
    data_range = check_positive(data_range, "data_range")
    mse = float(np.mean((img - ref) ** 2))
    if mse == 0:
        return float("inf")
    return float(10.0 * np.log10(data_range**2 / mse))


def ssim(reference: Any, image: Any, data_range: float = 1.0, sigma: float = 1.5) -> float:
    r"""Mean structural similarity (Wang et al., 2004) with a Gaussian window.

    Parameters
    ----------
    reference, image : array_like, 2-D, same shape
    data_range : float, default 1.0
        Dynamic range L of the intensities.
    sigma : float, default 1.5
        Standard deviation of the Gaussian window (truncated at 3.5σ, as in scikit-image's
        ``gaussian_weights=True`` setting).

    Returns
    -------
    float
        In [−1, 1]; 1 for identical images.

    Notes
    -----
    With local Gaussian-weighted means :math:`\mu`, variances :math:`\sigma^2` and covariance
    :math:`\sigma_{xy}` (unbiased, as scikit-image),

    .. math:: \mathrm{SSIM} = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}
              {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)},\quad
              C_1 = (0.01L)^2,\; C_2 = (0.03L)^2,

    averaged over the pixels at least 3.5σ from the border.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseflow.image_demo import ssim
    >>> img = np.random.default_rng(0).random((32, 32))
    >>> ssim(img, img)
    1.0
    """
    ref, img = _pair(reference, image)
    if ref.ndim != 2:
        raise ValueError(f"reference must be a 2-D image, got shape {ref.shape}")
    data_range = check_positive(data_range, "data_range")
    sigma = check_positive(sigma, "sigma")
    radius = int(3.5 * sigma + 0.5)
    if min(ref.shape) < 2 * radius + 1:
        raise ValueError(f"images must be at least {2 * radius + 1} pixels on each side")
    n_win = (2 * radius + 1) ** 2
    correction = n_win / (n_win - 1)

    def blur(a: np.ndarray) -> np.ndarray:
        return gaussian_filter(a, sigma, truncate=3.5, mode="reflect")

    mx, my = blur(ref), blur(img)
    vx = correction * (blur(ref * ref) - mx * mx)
    vy = correction * (blur(img * img) - my * my)
    cxy = correction * (blur(ref * img) - mx * my)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    inner = s[radius:-radius, radius:-radius]
    return float(np.mean(inner))


def _pair(reference: Any, image: Any) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray(reference, dtype=np.float64)
    img = np.asarray(image, dtype=np.float64)
    if ref.shape != img.shape:
        raise ValueError(f"image must have the reference's shape {ref.shape}, got {img.shape}")
    if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(img))):
        raise ValueError("images must contain only finite values")
    return ref, img


def run_image_demo(
    out_dir: str | Path | None = "results/image",
    settings: ImageDemoSettings | None = None,
    verbose: bool = True,
) -> dict[str, dict[str, Any]]:
    r"""Recover an image from partial-DCT measurements; write ``image.png`` and ``metrics.json``.

    Parameters
    ----------
    out_dir : str, Path or None, default "results/image"
        Output folder (created); None writes nothing.
    settings : ImageDemoSettings, optional
        Image, size, measurement ratio, wavelet and solver parameters.
    verbose : bool, default True
        Print a summary table.

    Returns
    -------
    dict
        For each method: ``psnr`` and ``ssim`` of the clipped reconstruction, ``time`` (s),
        ``converged``, ``n_iter``, ``residual`` (relative), ``message``; plus an ``"_problem"``
        entry with the image, size, m, N and ratio.

    Notes
    -----
    With W the wavelet synthesis and :math:`y = S C W c^\star`, the flow limit returns
    :math:`\arg\min_{Az=y} \sum_i g_{\alpha,L}(z_i)` (matrix-free Newton–CG on the dual) and ADMM
    returns :math:`\arg\min_{Az=y}\|z\|_1`; the image is :math:`W\hat c` clipped to [0, 1].

    Examples
    --------
    >>> from sparseflow.image_demo import ImageDemoSettings, run_image_demo
    >>> small = ImageDemoSettings(size=16, level=2, admm_tol=1e-3)
    >>> metrics = run_image_demo(None, small, verbose=False)
    >>> all(metrics[k]["converged"] for k in metrics if k != "_problem")
    True
    """
    s = settings if settings is not None else ImageDemoSettings()
    image = load_image(s.image, s.size)
    rows = sampling_rows(s.size, s.ratio, seed=s.seed)
    A = image_operator(s.size, rows, s.wavelet, s.level)
    W = A.operators[-1]
    coefficients = W.rmatvec(image.ravel())
    y = A.matvec(coefficients)
    solvers = {
        f"flow limit (L={s.depth}, α={s.alpha:g})": lambda: flow_limit(
            A, y, depth=s.depth, alpha=s.alpha, tol=s.limit_tol
        ),
        "basis pursuit (ADMM)": lambda: basis_pursuit_admm(A, y, tol=s.admm_tol),
    }
    metrics: dict[str, dict[str, Any]] = {
        "_problem": {
            "image": s.image,
            "size": s.size,
            "m": int(A.shape[0]),
            "N": int(A.shape[1]),
            "ratio": A.shape[0] / A.shape[1],
            "wavelet": s.wavelet,
            "level": s.level,
        }
    }
    pictures = {"original": image}
    for name, solve in solvers.items():
        start = time.perf_counter()
        result: RecoveryResult = solve()
        elapsed = time.perf_counter() - start
        picture = np.clip(W.matvec(result.x).reshape(image.shape), 0.0, 1.0)
        pictures[name] = picture
        metrics[name] = {
            "psnr": psnr(image, picture),
            "ssim": ssim(image, picture),
            "time": elapsed,
            "converged": bool(result.converged),
            "n_iter": int(result.n_iter),
            "residual": float(result.residual_norm) / float(np.linalg.norm(y)),
            "message": result.message,
        }
    if verbose:
        print(_table(metrics))
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
        figure = _draw(pictures, metrics, out / "image.png")
        if verbose:
            print(f"wrote {out / 'metrics.json'}" + (f" and {figure}" if figure else ""))
    return metrics


def _table(metrics: dict[str, dict[str, Any]]) -> str:
    p = metrics["_problem"]
    lines = [
        f"{p['image']} {p['size']}×{p['size']}: m = {p['m']} of N = {p['N']} DCT coefficients "
        f"(ratio {p['ratio']:.3f}), {p['wavelet']} wavelets, level {p['level']}",
        f"{'method':<28} {'PSNR dB':>8} {'SSIM':>6} {'time s':>7} {'iters':>6}  stop",
    ]
    for name, row in metrics.items():
        if name == "_problem":
            continue
        lines.append(
            f"{name:<28} {row['psnr']:8.2f} {row['ssim']:6.3f} {row['time']:7.1f} "
            f"{row['n_iter']:6d}  {'converged' if row['converged'] else row['message']}"
        )
    return "\n".join(lines)


def _draw(
    pictures: dict[str, np.ndarray], metrics: dict[str, dict[str, Any]], path: Path
) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is in the [plot] extra
        print("matplotlib is not installed (pip install 'sparseflow[plot]'): no figure drawn")
        return None
    fig, axes = plt.subplots(1, len(pictures), figsize=(4 * len(pictures), 4.4))
    p = metrics["_problem"]
    for ax, (name, picture) in zip(axes, pictures.items(), strict=True):
        ax.imshow(picture, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_axis_off()
        if name == "original":
            ax.set_title(f"original {p['size']}×{p['size']}", fontsize=10)
        else:
            row = metrics[name]
            ax.set_title(f"{name}\nPSNR {row['psnr']:.2f} dB, SSIM {row['ssim']:.3f}", fontsize=10)
    fig.suptitle(
        f"{p['m']} partial-DCT measurements of {p['N']} pixels "
        f"({100 * p['ratio']:.1f} %), {p['wavelet']} wavelet basis",
        fontsize=11,
    )
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.93))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
