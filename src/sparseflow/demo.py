"""The main job: compressed sensing of a real ECG recording in a wavelet basis.

The 1024-sample ECG shipped with PyWavelets is measured by m = 384 Gaussian projections and
its db4 wavelet coefficients are recovered by the overparameterized flow limit (L = 3), by plain
gradient descent (L = 2, bounded budget), by basis pursuit and by the minimum-ℓ2 solution.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .result import RecoveryResult
from .signals import ecg, gaussian_matrix, snr_db, wavelet_synthesis_matrix
from .solvers import basis_pursuit, flow_limit, gradient_descent, min_norm

__all__ = ["DemoSettings", "run_demo"]


class DemoSettings:
    """Parameters of the ECG demo (the defaults are the documented main job)."""

    n_measurements = 384
    seed = 0
    wavelet = "db4"
    level = 5
    limit_depth = 3
    limit_alpha = 1e-3
    descent_depth = 2
    descent_alpha = 1e-3
    descent_max_iter = 60_000
    # trials per point of the headline recovery-rate figure (0: skip it)
    headline_trials = 10


def _methods(settings: type[DemoSettings]) -> dict[str, Callable[[np.ndarray, np.ndarray], Any]]:
    s = settings
    return {
        f"flow limit (L={s.limit_depth}, α={s.limit_alpha:g})": lambda A, y: flow_limit(
            A, y, depth=s.limit_depth, alpha=s.limit_alpha
        ),
        f"gradient descent (L={s.descent_depth}, α={s.descent_alpha:g})": lambda A, y: (
            gradient_descent(
                A, y, depth=s.descent_depth, alpha=s.descent_alpha, max_iter=s.descent_max_iter
            )
        ),
        "basis pursuit (LP)": basis_pursuit,
        "minimum ℓ2 norm": min_norm,
    }


def run_demo(
    out_dir: str | Path = "results/demo",
    settings: type[DemoSettings] = DemoSettings,
    verbose: bool = True,
) -> dict[str, dict[str, Any]]:
    """Run the ECG demo; write ``figure.png``, ``metrics.json`` and ``summary.md`` to ``out_dir``.

    The signal is divided by its peak amplitude before it is measured (so that α is relative to
    a unit-scale signal) and multiplied back for every reported quantity.

    Returns
    -------
    dict
        Metrics per method: ``snr_db``, ``rel_error``, ``l1_norm``, ``residual``, ``time``,
        ``n_iter``, ``converged``, ``status``, ``message``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    raw = ecg()
    peak = float(np.abs(raw).max())
    signal = raw / peak
    n = signal.size
    W = wavelet_synthesis_matrix(n, settings.wavelet, settings.level)
    Phi = gaussian_matrix(settings.n_measurements, n, np.random.default_rng(settings.seed))
    A = Phi @ W
    y = Phi @ signal
    coeffs_true = W.T @ signal
    metrics: dict[str, dict[str, Any]] = {}
    recovered: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if verbose:
        print(
            f"ECG: N = {n} samples, m = {settings.n_measurements} Gaussian measurements "
            f"({settings.n_measurements / n:.0%}), {settings.wavelet} wavelets, "
            f"{settings.level} levels"
        )
    for name, solve in _methods(settings).items():
        start = time.perf_counter()
        result: RecoveryResult = solve(A, y)
        elapsed = time.perf_counter() - start
        estimate = W @ result.x
        recovered[name] = (estimate * peak, result.x * peak)
        metrics[name] = {
            "snr_db": snr_db(signal, estimate),
            "rel_error": float(np.linalg.norm(estimate - signal) / np.linalg.norm(signal)),
            "l1_norm": float(np.abs(result.x).sum() * peak),
            "residual": float(result.residual_norm) * peak,
            "time": elapsed,
            "n_iter": result.n_iter,
            "converged": result.converged,
            "status": result.status.name,
            "message": result.message,
        }
    metrics_path = out / "metrics.json"
    metrics_path.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    _write_summary(out / "summary.md", metrics, settings, n)
    _draw(out / "figure.png", raw, recovered, coeffs_true * peak, metrics)
    if verbose:
        print(_table(metrics))
        print(f"wrote {out / 'figure.png'}, {metrics_path}, {out / 'summary.md'}")
    if settings.headline_trials:
        from .experiments.headline import run as draw_headline

        head = draw_headline(out / "headline", trials=settings.headline_trials)
        if verbose:
            points = ", ".join(f"{k}: {v:.1f}" for k, v in head["fifty_percent"].items())
            print(f"recovery rate (N=100, s=5), 50% at m = {points}")
            print(f"predicted by the l1 phase transition: m* = {head['predicted']:.1f}")
            print(f"wrote {head['figure']}")
    return metrics


def _table(metrics: dict[str, dict[str, Any]]) -> str:
    width = max(len(k) for k in metrics)
    lines = [f"{'method':<{width}}  {'SNR dB':>7}  {'rel err':>8}  {'time s':>7}  stop reason"]
    for name, row in metrics.items():
        lines.append(
            f"{name:<{width}}  {row['snr_db']:7.2f}  {row['rel_error']:8.2e}  {row['time']:7.2f}  "
            f"{row['status']}"
        )
    return "\n".join(lines)


def _write_summary(
    path: Path, metrics: dict[str, dict[str, Any]], settings: type[DemoSettings], n: int
) -> None:
    lines = [
        "# sparseflow demo: compressed sensing of an ECG",
        "",
        f"Signal: `pywt.data.ecg()` ({n} samples), sparse in the `{settings.wavelet}` wavelet "
        f"basis (periodization, {settings.level} levels). Measurements: m = "
        f"{settings.n_measurements} Gaussian projections (seed {settings.seed}).",
        "",
        "| method | SNR (dB) | relative error | ℓ1 norm of coefficients | residual | time (s) "
        "| iterations | stop reason |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in metrics.items():
        lines.append(
            f"| {name} | {row['snr_db']:.2f} | {row['rel_error']:.3e} | {row['l1_norm']:.6g} | "
            f"{row['residual']:.2e} | {row['time']:.2f} | {row['n_iter']} | {row['status']} |"
        )
    lines += ["", "![signals and coefficients](figure.png)", ""]
    for name, row in metrics.items():
        lines.append(f"- **{name}**: {row['message']}")
    path.write_text("\n".join(lines) + "\n")


def _draw(
    path: Path,
    signal: np.ndarray,
    recovered: dict[str, tuple[np.ndarray, np.ndarray]],
    coeffs: np.ndarray,
    metrics: dict[str, dict[str, Any]],
) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is in the [plot] extra
        print("matplotlib is not installed (pip install 'sparseflow[plot]'): no figure drawn")
        return
    names = list(recovered)
    fig, axes = plt.subplots(len(names) + 1, 1, figsize=(10, 2.2 * (len(names) + 1)))
    t = np.arange(signal.size)
    for ax, name in zip(axes[:-1], names, strict=True):
        ax.plot(t, signal, color="0.6", lw=1.2, label="original")
        ax.plot(t, recovered[name][0], color="C0", lw=0.8, label="recovered")
        ax.set_title(f"{name}: SNR {metrics[name]['snr_db']:.1f} dB", fontsize=10)
        ax.set_xlim(0, signal.size - 1)
        ax.set_ylabel("amplitude")
    axes[0].legend(loc="upper right", fontsize=8)
    ax = axes[-1]
    ax.semilogy(np.sort(np.abs(coeffs))[::-1], color="k", lw=1.5, label="true coefficients")
    for i, name in enumerate(names):
        ax.semilogy(np.sort(np.abs(recovered[name][1]))[::-1], color=f"C{i}", lw=0.9, label=name)
    ax.set_ylim(max(1e-8 * np.abs(coeffs).max(), 1e-300), 2 * np.abs(coeffs).max())
    ax.legend(loc="upper right", fontsize=7)
    ax.set_xlabel("index (sorted)")
    ax.set_ylabel("|wavelet coefficient|")
    ax.set_title("sorted coefficient magnitudes", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
