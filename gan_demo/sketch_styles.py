"""Ways of drawing a garment: the mix the sketch model trains on, and the ways it is tested on.

People do not draw like one edge detector. Some draw only the outline, some press a thick marker,
some leave gaps or wobble. ``training_drawings`` turns training images into a different mix of
such drawings each epoch (edge strength, outline only, thick strokes, broken lines, a slightly
warped garment), at 28 x 28, fast enough to redraw all 60,000 images every epoch.

``HELD_OUT`` are ways the model never trains on, drawn at 4x the resolution (112 x 112, as a
person draws on a canvas) with other algorithms (Canny's detector, a thick marker, dashes, a shaky
hand, a smoothed outline), and then read exactly as a person's drawing is: ``sketch.strokes``,
which frames and thins it. ``benchmarks/sketch_styles.py`` measures the model on each.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F

from .sketch import SIZE, frame_ink, thin

_SOBEL = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def _sobel(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[N, H, W] -> (gx, gy), zero padding (the black ground of Fashion-MNIST)."""
    g = F.conv2d(x.unsqueeze(1), torch.stack([_SOBEL, _SOBEL.T]).unsqueeze(1), padding=1)
    return g[:, 0], g[:, 1]


def _outline(solid: torch.Tensor) -> torch.Tensor:
    """The boundary of a bool mask [N, H, W]: the mask minus its erosion."""
    s = solid.float().unsqueeze(1)
    return (s - (-F.max_pool2d(-s, 3, 1, 1))).squeeze(1) > 0


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = max(1, int(math.ceil(2.5 * sigma)))
    g = torch.exp(-(torch.arange(-r, r + 1, dtype=torch.float32) ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    x = x.unsqueeze(1)
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), g.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), g.view(1, 1, -1, 1)).squeeze(1)


def _smooth_noise(n: int, size: int, cells: int, gen: torch.Generator) -> torch.Tensor:
    """[n, size, size] noise in [0, 1] that varies over ``size / cells`` pixels (bilinear)."""
    coarse = torch.rand(n, 1, cells, cells, generator=gen)
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False).squeeze(1)


def _warp(x: torch.Tensor, gen: torch.Generator, rotate_deg: float, scale: tuple[float, float],
          shift: float) -> torch.Tensor:
    """A random small affine warp of images [N, H, W] in [0, 1] (black ground outside)."""
    n = len(x)
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(rotate_deg)
    s = scale[0] + torch.rand(n, generator=gen) * (scale[1] - scale[0])
    sx = s * (1 + (torch.rand(n, generator=gen) * 2 - 1) * 0.08)  # a little wider or narrower
    t = (torch.rand(n, 2, generator=gen) * 2 - 1) * shift
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos / sx, -sin / sx, t[:, 0]], 1),
                         torch.stack([sin / s, cos / s, t[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, (n, 1, *x.shape[1:]), align_corners=False)
    return F.grid_sample(x.unsqueeze(1), grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False).squeeze(1)


# ---- the training mix ------------------------------------------------------------------------

# Shares of the training drawings drawn each way (independently). About a third stay plain edge
# drawings: a mix with a fifth outline-only and half warped (the first mixed model) read the edge
# maps it trained on 2.7 points worse (79.0 % against 81.3 %) while outlines rose from 48 to 72 %.
MIX = {"warped": 0.35, "outline_only": 0.15, "thick": 0.25, "gaps": 0.3}

def training_drawings(images: np.ndarray | torch.Tensor, gen: torch.Generator, batch: int = 4096) -> torch.Tensor:
    """uint8 images [N, 28, 28] -> bool one-pixel line drawings [N, 28, 28], each drawn a random
    way: Sobel edges above 12-50 % of the image's strongest (more or fewer inner lines) with the
    silhouette's outline, or the outline alone; some thickened before thinning (a thick brush
    merges close lines), some with gaps, some garments slightly rotated, scaled and squeezed first
    (nobody draws a garment's exact proportions); the shares are ``MIX``."""
    x_all = torch.as_tensor(np.array(images)).float().div(255.0)
    out = []
    for i in range(0, len(x_all), batch):
        x = x_all[i:i + batch]
        n = len(x)
        warped = _warp(x, gen, rotate_deg=8.0, scale=(0.88, 1.04), shift=0.06)
        pick = (torch.rand(n, generator=gen) < MIX["warped"])[:, None, None]
        x = torch.where(pick, warped, x)
        gx, gy = _sobel(x)
        mag = (gx ** 2 + gy ** 2).sqrt()
        peak = mag.flatten(1).amax(1).clamp_min(1e-6)[:, None, None]
        threshold = (0.12 + torch.rand(n, generator=gen) * 0.38)[:, None, None]
        silhouette = (0.03 + torch.rand(n, generator=gen) * 0.12)[:, None, None]
        outline = _outline(x > silhouette)
        only_outline = (torch.rand(n, generator=gen) < MIX["outline_only"])[:, None, None]
        ink = outline | ((mag > threshold * peak) & ~only_outline)
        thick = (torch.rand(n, generator=gen) < MIX["thick"])[:, None, None]
        ink = torch.where(thick, F.max_pool2d(ink.float().unsqueeze(1), 3, 1, 1).squeeze(1) > 0, ink)
        gaps = (torch.rand(n, generator=gen) < MIX["gaps"])[:, None, None]
        holes = _smooth_noise(n, SIZE, 9, gen) < (0.1 + torch.rand(n, 1, 1, generator=gen) * 0.2)
        out.append(thin(ink & ~(gaps & holes)))
    return torch.cat(out) if out else torch.zeros(0, SIZE, SIZE, dtype=torch.bool)


# ---- ways of drawing the model never trains on ------------------------------------------------

UP = 4  # held-out drawings are made at 112 x 112, as on a canvas, and read like a person's


def _upsampled(images: np.ndarray) -> torch.Tensor:
    x = torch.as_tensor(np.array(images)).float().div(255.0).unsqueeze(1)
    return F.interpolate(x, scale_factor=UP, mode="bicubic", align_corners=False).clamp(0, 1).squeeze(1)


def _disk(ink: torch.Tensor, radius: int) -> torch.Tensor:
    """Dilate bool [N, H, W] by a disk: a brush of that radius drawn along the lines."""
    r = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = ((r[:, None] ** 2 + r[None, :] ** 2) <= radius ** 2 + 0.5).float()[None, None]
    return F.conv2d(ink.float().unsqueeze(1), kernel, padding=radius).squeeze(1) > 0


def canny(images: np.ndarray, sigma: float = 2.0, low: float = 0.1, high: float = 0.25) -> torch.Tensor:
    """Canny's detector (1986) at 4x: Gaussian blur, Sobel, non-maximum suppression along the
    gradient, hysteresis between ``low`` and ``high`` of each image's strongest gradient."""
    x = _blur(_upsampled(images), sigma)
    gx, gy = _sobel(x)
    mag = (gx ** 2 + gy ** 2).sqrt()
    angle = (torch.rad2deg(torch.atan2(gy, gx)) + 180.0) % 180.0
    sector = ((angle + 22.5) // 45).long() % 4  # 0: horizontal gradient, 1: 45, 2: vertical, 3: 135
    p = F.pad(mag.unsqueeze(1), (1, 1, 1, 1)).squeeze(1)
    h, w = mag.shape[1:]
    at = {(dy, dx): p[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
    pairs = [((0, 1), (0, -1)), ((1, 1), (-1, -1)), ((1, 0), (-1, 0)), ((1, -1), (-1, 1))]
    keep = torch.zeros_like(mag, dtype=torch.bool)
    for s, (a, b) in enumerate(pairs):
        keep |= (sector == s) & (mag >= at[a]) & (mag >= at[b])
    peak = mag.flatten(1).amax(1).clamp_min(1e-6)[:, None, None]
    strong, weak = keep & (mag > high * peak), keep & (mag > low * peak)
    edges = strong
    for _ in range(64):  # hysteresis: weak edges joined to strong ones
        grown = (F.max_pool2d(edges.float().unsqueeze(1), 3, 1, 1).squeeze(1) > 0) & weak
        if torch.equal(grown, edges):
            break
        edges = grown
    return edges.float()


def marker(images: np.ndarray) -> torch.Tensor:
    """A thick felt-tip: the outline and the strongest folds (Sobel above 40 % at 4x, after a blur)
    drawn with a brush 9 px across on the 112-px canvas."""
    x = _blur(_upsampled(images), 1.5)
    gx, gy = _sobel(x)
    mag = (gx ** 2 + gy ** 2).sqrt()
    peak = mag.flatten(1).amax(1).clamp_min(1e-6)[:, None, None]
    lines = _outline(x > 0.08) | (mag > 0.4 * peak)
    return _disk(thin(lines), 4).float()


def dashed(images: np.ndarray) -> torch.Tensor:
    """Broken lines: the outline and inner edges at 4x, every line cut into dashes about 10 px
    long with 5-px gaps (by position along the page's diagonals), drawn 3 px wide."""
    x = _blur(_upsampled(images), 1.0)
    gx, gy = _sobel(x)
    mag = (gx ** 2 + gy ** 2).sqrt()
    peak = mag.flatten(1).amax(1).clamp_min(1e-6)[:, None, None]
    lines = thin(_outline(x > 0.08) | (mag > 0.3 * peak))
    yy, xx = torch.meshgrid(torch.arange(lines.shape[1]), torch.arange(lines.shape[2]), indexing="ij")
    on = ((xx + yy) % 15 < 10) & ((xx - yy) % 15 < 10)
    return _disk(lines & on, 1).float()


def shaky(images: np.ndarray, seed: int = 0) -> torch.Tensor:
    """A shaky hand: the outline and main folds at 4x, displaced by a smooth random field of up to
    4 px (of 112), drawn 3 px wide."""
    gen = torch.Generator().manual_seed(seed)
    x = _blur(_upsampled(images), 1.0)
    gx, gy = _sobel(x)
    mag = (gx ** 2 + gy ** 2).sqrt()
    peak = mag.flatten(1).amax(1).clamp_min(1e-6)[:, None, None]
    ink = _disk(thin(_outline(x > 0.08) | (mag > 0.35 * peak)), 1).float()
    n, h, w = ink.shape
    field = (torch.stack([_smooth_noise(n, h, 6, gen), _smooth_noise(n, h, 6, gen)], -1) * 2 - 1) * (8.0 / h)
    base = F.affine_grid(torch.eye(2, 3).expand(n, 2, 3), (n, 1, h, w), align_corners=False)
    return F.grid_sample(ink.unsqueeze(1), base + field, mode="bilinear", padding_mode="zeros",
                         align_corners=False).squeeze(1)


def smooth_outline(images: np.ndarray) -> torch.Tensor:
    """The outline only, as one careful line round a smoothed silhouette (no inner lines), 3 px wide."""
    x = _blur(_upsampled(images), 2.0)
    return _disk(_outline(x > 0.1), 1).float()


HELD_OUT: dict[str, Callable[[np.ndarray], torch.Tensor]] = {
    "canny": canny, "thick marker": marker, "dashed lines": dashed, "shaky hand": shaky,
    "outline only": smooth_outline,
}


def as_drawn(ink: torch.Tensor) -> torch.Tensor:
    """Held-out drawings (float ink [N, 112, 112]) read as a person's drawing is: framed to span
    the 28-px frame and thinned (``sketch.frame_ink`` + ``sketch.thin``, what ``sketch.strokes`` does)."""
    return thin(torch.from_numpy(np.stack([frame_ink(a) for a in ink.numpy()])))

