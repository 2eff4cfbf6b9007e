"""Latent-space tools: seeded sampling and truncation.

Every sample is a function of its seed alone (a private CPU ``torch.Generator``), so the same seed
gives the same images on any machine, in the app, the API and the CLI.
"""

from __future__ import annotations

import torch
from torch import Tensor


def sample_z(n: int, dim: int, seed: int) -> Tensor:
    """``n`` latents ~ N(0, I) of size ``dim``, reproducible from ``seed``."""
    gen = torch.Generator().manual_seed(int(seed))
    return torch.randn(n, dim, generator=gen)


def truncate(z: Tensor, psi: float, mean: Tensor | float = 0.0) -> Tensor:
    """The truncation trick in its general form (Karras et al. 2019): pull latents toward the mean.

    ``psi`` = 1 leaves them as drawn; smaller trades variety for typical-looking samples; 0 gives
    the average latent; above 1 exaggerates. For z ~ N(0, I) the mean is 0.
    """
    return mean + psi * (z - mean)

