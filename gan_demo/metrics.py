"""Numbers that say how well a generator matches its data.

Toy metrics follow the mode-coverage protocol of VEEGAN/PacGAN with our stricter rule: a sample is
high quality when it lies within 3 sigma of its nearest mode, and a mode is covered when it holds
at least a quarter of its fair share (n / K / 4) of the high-quality samples. KL and JS are
estimated on a histogram grid over the view, as GAN Lab does with its density estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ModeReport:
    modes_covered: int
    modes_total: int
    hq_pct: float

    def __str__(self) -> str:
        return f"modes {self.modes_covered}/{self.modes_total}, high quality {self.hq_pct:.1f} %"


def mode_coverage(samples: np.ndarray, modes: np.ndarray, sigma: float) -> ModeReport:
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    finite = np.isfinite(samples).all(1)
    d = np.linalg.norm(samples[:, None, :] - modes[None, :, :], axis=-1)  # [n, K]
    d[~finite] = np.inf
    nearest = d.argmin(1)
    hq = d[np.arange(len(samples)), nearest] <= 3 * sigma
    counts = np.bincount(nearest[hq], minlength=len(modes))
    fair = len(samples) / len(modes)
    return ModeReport(int((counts >= 0.25 * fair).sum()), len(modes), float(100 * hq.mean()))


def _histogram(x: np.ndarray, bounds: tuple[float, float], bins: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x).all(1)]
    rng = [bounds] * x.shape[1]
    h, _ = np.histogramdd(x, bins=[bins] * x.shape[1], range=rng)
    return h.ravel()


def kl_js(real: np.ndarray, fake: np.ndarray, bounds: tuple[float, float], bins: int = 40,
          eps: float = 1e-6) -> tuple[float, float]:
    """KL(real || fake) and JS(real, fake) in nats between grid histograms (eps avoids log 0)."""
    p = _histogram(real, bounds, bins) + eps
    q = _histogram(fake, bounds, bins) + eps
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)
    kl = float(np.sum(p * np.log(p / q)))
    js = float(0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m)))
    return kl, js


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (the formula of FID).

    trace(sqrt(S_a S_b)) is taken as the sum of square roots of the eigenvalues of
    sqrt(S_a) S_b sqrt(S_a), which is symmetric: no complex round-off, no scipy needed.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("need at least two feature vectors on each side")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ s_b @ root_a), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * cross)
