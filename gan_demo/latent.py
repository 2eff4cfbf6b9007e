"""Latent-space tools: seeded sampling, truncation and interpolation.

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



def lerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Straight line from ``a`` to ``b``; ``t`` [K] in [0, 1] gives K points per row of ``a``."""
    t = t.view(-1, *([1] * a.dim()))
    return (1 - t) * a + t * b


def slerp(a: Tensor, b: Tensor, t: Tensor, eps: float = 1e-7) -> Tensor:
    """Great-circle interpolation (White 2016, "Sampling generative networks").

    A straight line between two Gaussian latents passes near the origin, where latents are
    atypically short and samples look washed out; the arc keeps the norm typical all the way.
    Falls back to lerp when a and b are (anti)parallel.
    """
    t = t.view(-1, *([1] * a.dim()))
    a_n = a / a.norm(dim=-1, keepdim=True).clamp_min(eps)
    b_n = b / b.norm(dim=-1, keepdim=True).clamp_min(eps)
    omega = torch.acos((a_n * b_n).sum(-1, keepdim=True).clamp(-1 + eps, 1 - eps))
    so = torch.sin(omega)
    out = (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b
    return torch.where(so.abs() < 1e-4, lerp(a, b, t.view(-1)), out)


INTERPOLATIONS = {"lerp": lerp, "slerp": slerp}
