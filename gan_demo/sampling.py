"""From a zoo model and a seed to pixels: generation, uint8 conversion and image grids."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from .latent import sample_z, truncate
from .zoo import LoadedModel

MAX_SAMPLES = 10_000  # per call; the app caps lower (its grid is 64)


def latents(model: LoadedModel, n: int, seed: int, psi: float = 1.0,
            shifts: Sequence[float] | None = None) -> torch.Tensor:
    """Seeded latents, truncated by ``psi``, with ``shifts[i]`` added to dimension i of every latent."""
    z = truncate(sample_z(n, model.latent_dim, seed), psi)
    if shifts is not None and len(shifts):
        k = min(len(shifts), model.latent_dim)
        z[:, :k] += torch.as_tensor(list(shifts)[:k], dtype=z.dtype)
    return z


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] -> uint8 [N, H, W, C]."""
    x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


@torch.inference_mode()
def render(model: LoadedModel, z: torch.Tensor, labels: torch.Tensor | None = None,
           batch: int = 512) -> np.ndarray:
    """Run G on ``z`` in chunks; returns uint8 [N, H, W, C]."""
    device = next(model.generator.parameters()).device
    parts = []
    for i in range(0, len(z), batch):
        zz = z[i:i + batch].to(device)
        ll = None if labels is None else labels[i:i + batch].to(device)
        parts.append(to_uint8(model.generator(zz, ll)))
    return np.concatenate(parts)


def generate(model: LoadedModel, n: int, seed: int, psi: float = 1.0,
             shifts: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    z = latents(model, n, seed, psi, shifts)
    return render(model, z), z.numpy()


def grid(images: np.ndarray, scale: int = 1, pad: int = 2, ncol: int | None = None) -> np.ndarray:
    """Tile uint8 [N, H, W, C] into one uint8 [H', W', C] image, near square, upscaled ``scale``x."""
    n, h, w, c = images.shape
    ncol = ncol or math.ceil(math.sqrt(n))
    nrow = math.ceil(n / ncol)
    out = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, c), 255, np.uint8)
    for i, img in enumerate(images):
        r, q = divmod(i, ncol)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + q * (w + pad): pad + q * (w + pad) + w] = img
    if scale > 1:
        out = out.repeat(scale, 0).repeat(scale, 1)  # nearest neighbour keeps the pixels honest
    return out


def explore_grid(model: LoadedModel, n: int, seed: int, psi: float,
                 shifts: Sequence[float] | None = None) -> np.ndarray:
    """The Explore tab's picture: ``n`` seeded samples, shifted along the first latent dims, as a grid.

    At native resolution (the page scales it up with crisp pixels): a 30 x 30 PNG encodes and
    travels far faster than a 420 x 420 one, which is most of a one-image request's time.
    """
    images, _ = generate(model, n, seed, psi, shifts)
    out = grid(images)
    return out[..., 0] if out.shape[-1] == 1 else out
