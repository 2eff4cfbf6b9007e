"""Numbers that say how well a generator matches its data: every measure the project reports.

This module holds the measures themselves (mode coverage, KL/JS, the Frechet distance, SSIM, PSNR
and the photo measures of the translation benchmark); beside it, ``classifier.py`` and
``photo_classifier.py`` are the independent judges whose features and votes they use, and
``evaluation.py`` puts a zoo model through them (``python -m gan_demo evaluate``).

Toy metrics follow the mode-coverage protocol of VEEGAN/PacGAN with our stricter rule: a sample is
high quality when it lies within 3 sigma of its nearest mode, and a mode is covered when it holds
at least a quarter of its fair share (n / K / 4) of the high-quality samples. KL and JS are
estimated on a histogram grid over the view, as GAN Lab does with its density estimate.
"""

from __future__ import annotations

import math
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


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> np.ndarray:
    """Structural similarity (Wang et al. 2004) per image of two batches [N, H, W]: the paper's
    11 x 11 Gaussian window (sigma 1.5) and constants K1 0.01, K2 0.03, over the valid region."""
    import torch
    from torch.nn import functional as F

    x = torch.as_tensor(np.asarray(a, dtype=np.float64))[:, None]
    y = torch.as_tensor(np.asarray(b, dtype=np.float64))[:, None]
    g = torch.exp(-((torch.arange(11, dtype=torch.float64) - 5) ** 2) / (2 * 1.5 ** 2))
    g = g / g.sum()
    w = (g[:, None] * g[None, :])[None, None]
    mx, my = F.conv2d(x, w), F.conv2d(y, w)
    vx = F.conv2d(x * x, w) - mx ** 2
    vy = F.conv2d(y * y, w) - my ** 2
    cxy = F.conv2d(x * y, w) - mx * my
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    return s.mean((1, 2, 3)).numpy()


# ---- photo translation: is the photo kept, sharp, in colour, free of a grid ---------------------

def grey(photos: np.ndarray) -> np.ndarray:
    """uint8 [N, H, W, 3] (or one [H, W, 3]) -> float64 luma (ITU-R 601) [N, H, W] in 0..255."""
    x = np.asarray(photos, dtype=np.float64)
    if x.ndim == 3:
        x = x[None]
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


def gaussian_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """[N, H, W] blurred with a Gaussian (kernel to 3 sigma, reflected borders)."""
    import torch
    from torch.nn import functional as F

    r = max(1, int(np.ceil(3 * sigma)))
    g = torch.exp(-((torch.arange(2 * r + 1, dtype=torch.float64) - r) ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    t = torch.as_tensor(np.asarray(x, dtype=np.float64))[:, None]
    t = F.conv2d(F.pad(t, (r, r, 0, 0), mode="reflect"), g[None, None, None, :])
    t = F.conv2d(F.pad(t, (0, 0, r, r), mode="reflect"), g[None, None, :, None])
    return t[:, 0].numpy()


def structure_kept(inputs: np.ndarray, outputs: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """SSIM per photo between input and output, both greyscale and blurred (sigma 2): the layout
    of the scene survives even where colour and texture changed."""
    return ssim(gaussian_blur(grey(inputs), sigma), gaussian_blur(grey(outputs), sigma))


def saturation(photos: np.ndarray) -> np.ndarray:
    """Mean HSV saturation ((max - min) / max of R, G, B) per photo, in 0..1."""
    x = np.asarray(photos, dtype=np.float64)
    if x.ndim == 3:
        x = x[None]
    hi, lo = x.max(-1), x.min(-1)
    return np.where(hi > 0, (hi - lo) / np.maximum(hi, 1e-9), 0.0).mean((1, 2))


def midband_detail(photos: np.ndarray) -> np.ndarray:
    """Per photo, the mean energy of blur(sigma 0.8) - blur(sigma 2.5) of the greyscale: the detail
    between pixel noise and shapes (fur, leaves, stripes' edges) that a blurry result loses."""
    g = grey(photos)
    band = gaussian_blur(g, 0.8) - gaussian_blur(g, 2.5)
    return (band ** 2).mean((1, 2))


GRID_SIZES = tuple(range(64, 257, 8))


def grid_share(photo: np.ndarray, sizes: tuple[int, ...] = GRID_SIZES) -> float:
    """The largest share of spectral power (DC left out) on the Nyquist row and column, over the
    photo resampled to s x s for each s: a period-2 pattern (a checkerboard or a grid painted at a
    working scale and resized) gathers its power there at the scale it was painted at."""
    from PIL import Image

    img = Image.fromarray(np.asarray(photo, dtype=np.uint8)).convert("L")
    best = 0.0
    for s in sizes:
        x = np.asarray(img.resize((s, s), Image.BILINEAR), dtype=np.float64)
        p = np.abs(np.fft.fft2(x - x.mean())) ** 2
        total = p.sum()
        if total <= 0:
            continue
        h = s // 2
        nyq = p[h, :].sum() + p[:, h].sum() - p[h, h]
        best = max(best, float(nyq / total))
    return best


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB (inf when they are equal)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)
