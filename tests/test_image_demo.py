"""The image demo: metrics against independent formulas, and a small, fast end-to-end run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sparseflow import basis_pursuit, basis_pursuit_admm
from sparseflow import image_demo as demo
from sparseflow.cli import main


def _naive_ssim(x, y, data_range=1.0, sigma=1.5):
    """SSIM with an explicit 2-D Gaussian window at every interior pixel (slow, independent)."""
    r = int(3.5 * sigma + 0.5)
    u = np.arange(-r, r + 1)
    g = np.exp(-(u[:, None] ** 2 + u[None, :] ** 2) / (2 * sigma**2))
    g /= g.sum()
    n = g.size
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for i in range(r, x.shape[0] - r):
        for j in range(r, x.shape[1] - r):
            a = x[i - r : i + r + 1, j - r : j + r + 1]
            b = y[i - r : i + r + 1, j - r : j + r + 1]
            ma, mb = np.sum(g * a), np.sum(g * b)
            va = n / (n - 1) * np.sum(g * (a - ma) ** 2)
            vb = n / (n - 1) * np.sum(g * (b - mb) ** 2)
            cab = n / (n - 1) * np.sum(g * (a - ma) * (b - mb))
            values.append(
                (2 * ma * mb + c1) * (2 * cab + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
            )
    return float(np.mean(values))


def test_ssim_matches_an_explicit_window_computation():
    rng = np.random.default_rng(0)
    x = rng.random((24, 20))
    y = np.clip(x + 0.1 * rng.standard_normal(x.shape), 0, 1)
    assert demo.ssim(x, y) == pytest.approx(_naive_ssim(x, y), rel=1e-10)
    assert demo.ssim(x, x) == pytest.approx(1.0)


def test_ssim_matches_scikit_image_when_installed():
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(1)
    x = rng.random((40, 40))
    y = np.clip(x + 0.05 * rng.standard_normal(x.shape), 0, 1)
    expected = metrics.structural_similarity(
        x, y, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=True
    )
    assert demo.ssim(x, y) == pytest.approx(expected, rel=1e-6)


def test_psnr_closed_forms():
    ref = np.zeros((8, 8))
    assert demo.psnr(ref, ref + 0.01) == pytest.approx(40.0)
    assert demo.psnr(ref, ref + 2.0, data_range=4.0) == pytest.approx(10 * np.log10(4.0))
    assert demo.psnr(ref, ref) == np.inf
    with pytest.raises(ValueError, match="shape"):
        demo.psnr(ref, np.zeros((4, 4)))
    with pytest.raises(ValueError, match="finite"):
        demo.psnr(ref, np.full((8, 8), np.nan))


def test_sampling_keeps_low_frequencies_and_is_seeded():
    rows = demo.sampling_rows(64, 0.27, seed=3)
    assert rows.size == round(0.27 * 64 * 64) and np.unique(rows).size == rows.size
    low = [i * 64 + j for i in range(64) for j in range(64) if np.hypot(i, j) / 64 < 0.05]
    assert set(low) <= set(rows.tolist())
    assert np.array_equal(rows, demo.sampling_rows(64, 0.27, seed=3))
    assert not np.array_equal(rows, demo.sampling_rows(64, 0.27, seed=4))
    with pytest.raises(ValueError, match="ratio"):
        demo.sampling_rows(64, 1.5)


def test_load_image():
    img = demo.load_image("ascent", 64)
    assert img.shape == (64, 64) and 0 <= img.min() and img.max() <= 1
    with pytest.raises(ValueError, match="name"):
        demo.load_image("lena", 64)
    with pytest.raises(ValueError, match="size"):
        demo.load_image("camera", 100)


@pytest.mark.slow
def test_admm_reaches_the_lp_optimum_on_the_demo_operator():
    # 16×16 is small enough for the LP (an independent solver) on the same kind of image problem;
    # ADMM needs ~10^4 iterations here (a compressible, not sparse, signal), hence slow.
    A = demo.image_operator(16, demo.sampling_rows(16, 0.27), "haar", 2)
    image = demo.load_image("camera", 16)
    y = A.matvec(A.operators[-1].rmatvec(image.ravel()))
    lp = basis_pursuit(A.toarray(), y)
    admm = basis_pursuit_admm(A, y, tol=1e-6, max_iter=50_000)
    assert admm.converged
    assert np.abs(admm.x).sum() == pytest.approx(np.abs(lp.x).sum(), rel=1e-5)


@pytest.mark.parametrize(("size", "level"), [(32, 3), pytest.param(64, 4, marks=pytest.mark.slow)])
def test_matrix_free_depth3_limit_matches_the_materialized_solve(size, level):
    """L = 3 on a compressible image, matrix-free (Newton with CG preconditioned by columns of A)
    against the same operator materialized (direct Newton and refinement in mixed variables).
    At 64×64 the plain Newton used to stop as PRECISION in its damped phase."""
    from sparseflow import flow_limit
    from sparseflow.operators import as_operator

    A = demo.image_operator(size, demo.sampling_rows(size, 0.27), "haar", level)
    y = A.matvec(A.operators[-1].rmatvec(demo.load_image("camera", size).ravel()))
    free = flow_limit(A, y, depth=3, alpha=1e-3, tol=1e-8)
    dense = flow_limit(as_operator(A).toarray(), y, depth=3, alpha=1e-3, tol=1e-8)
    assert free.converged and dense.converged
    assert np.linalg.norm(free.x - dense.x) <= 1e-6 * np.linalg.norm(dense.x)


def test_small_run_writes_figure_and_metrics(tmp_path):
    pytest.importorskip("matplotlib")
    settings = demo.ImageDemoSettings(size=16, level=2, admm_tol=1e-4)
    metrics = demo.run_image_demo(tmp_path, settings, verbose=False)
    assert (tmp_path / "image.png").stat().st_size > 1000
    stored = json.loads((tmp_path / "metrics.json").read_text())
    assert stored["_problem"]["m"] == round(0.27 * 256)
    methods = [k for k in metrics if k != "_problem"]
    assert len(methods) == 2
    for name in methods:
        row = metrics[name]
        assert row["converged"], row["message"]
        assert row["residual"] <= 1e-4
        assert np.isfinite(row["psnr"]) and -1 <= row["ssim"] <= 1


def test_cli_demo_image_flag(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")

    original = demo.ImageDemoSettings

    def small() -> demo.ImageDemoSettings:
        return original(size=16, level=2, admm_tol=1e-3)

    monkeypatch.setattr(demo, "ImageDemoSettings", small)
    assert main(["demo", "--image", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "image.png").exists()
    assert "PSNR" in capsys.readouterr().out
