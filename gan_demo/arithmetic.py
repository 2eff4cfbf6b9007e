"""Latent vector arithmetic (Radford, Metz, Chintala 2016, section 6.3).

Pick a few samples of each of three concepts A, B and C from a seeded grid; the generator then
draws mean(A) - mean(B) + mean(C). The paper's example: smiling woman - neutral woman + neutral
man = smiling man. Single samples are noisy, so the paper averages three per concept and shows the
result next to a few variants with small uniform noise added, which we do too.

The arithmetic runs where the generator reads its input: z for DCGAN-style models (with the class
embedding weights alongside for conditional ones, which G accepts as blended classes) and w for
StyleGAN, whose mapping network makes w the more linear space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from .errors import UserError
from .sampling import default_labels, latents, render, render_w, truncates_in_w
from .zoo import LoadedModel

NOISE = 0.25  # the paper's +-0.25 uniform noise on the result vector
MAX_GRID = 64


@dataclass(frozen=True)
class ArithmeticResult:
    means: np.ndarray  # uint8 [3, H, W, C]: mean(A), mean(B), mean(C)
    result: np.ndarray  # uint8 [1 + variants, H, W, C]: the result, then noisy variants


def parse_picks(value, n: int, name: str) -> list[int]:
    """Grid indices from "3, 7 12" or [3, 7, 12]: each in [0, n), duplicates dropped, order kept."""
    if value is None:
        value = ""
    if isinstance(value, str):
        tokens = [t for t in re.split(r"[\s,;]+", value.strip()) if t]
        if any(not t.isdigit() for t in tokens):
            raise UserError(f"{name} must list grid numbers like '3, 7, 12', got {value!r}.")
        picks = [int(t) for t in tokens]
    elif isinstance(value, (list, tuple)):
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in value):
            raise UserError(f"{name} must list whole grid numbers, got {value!r}.")
        picks = [int(v) for v in value]
    else:
        raise UserError(f"{name} must list grid numbers like '3, 7, 12', got {type(value).__name__}.")
    bad = [p for p in picks if not 0 <= p < n]
    if bad:
        raise UserError(f"{name}: grid numbers go from 0 to {n - 1}; {bad[0]} is not on the grid.")
    if not picks:
        raise UserError(f"Pick at least one sample for {name} (click it in the grid).")
    return list(dict.fromkeys(picks))


def add_pick(value: str | None, index: int) -> str:
    """The text of a pick list with ``index`` added, or removed when it was already there."""
    tokens = [t for t in re.split(r"[\s,;]+", (value or "").strip()) if t.isdigit()]
    picks = list(dict.fromkeys(int(t) for t in tokens))
    picks = [p for p in picks if p != index] if index in picks else picks + [index]
    return ", ".join(str(p) for p in picks)


def grid_inputs(model: LoadedModel, n: int, seed: int, psi: float = 1.0):
    """The latents and class weights behind the pick grid (pure functions of the seed)."""
    z = latents(model, n, seed, psi)
    labels = default_labels(model, n)
    weights = None
    if labels is not None:
        weights = torch.nn.functional.one_hot(labels, len(model.classes)).float()
    return z, weights


def pick_grid(model: LoadedModel, n: int, seed: int, psi: float = 1.0) -> np.ndarray:
    """The ``n`` seeded samples to pick from: uint8 [n, H, W, C]."""
    z, weights = grid_inputs(model, n, seed, psi)
    return render(model, z, weights, psi=psi)


@torch.inference_mode()
def combine(model: LoadedModel, n: int, seed: int, a, b, c, psi: float = 1.0,
            variants: int = 8) -> ArithmeticResult:
    """mean(A) - mean(B) + mean(C) over picks from ``pick_grid(model, n, seed, psi)``."""
    picks = [parse_picks(v, n, name) for v, name in ((a, "A"), (b, "B"), (c, "C"))]
    z, weights = grid_inputs(model, n, seed, psi)
    G = model.generator
    in_w = truncates_in_w(model)
    points = G.w(z.to(next(G.parameters()).device), psi).cpu() if in_w else z
    mean_points = torch.stack([points[p].mean(0) for p in picks])
    result = mean_points[0] - mean_points[1] + mean_points[2]
    # The paper's noise is +-0.25 in z, where a coordinate's spread is 1; in w, scale it by w's spread.
    spread = points.std(0) if in_w and n > 1 else torch.ones_like(result)
    gen = torch.Generator().manual_seed(seed)
    noise = (torch.rand(variants, len(result), generator=gen) * 2 - 1) * NOISE * spread
    out_points = torch.cat([result[None], result[None] + noise])
    mean_w = out_w = None
    if weights is not None:
        mean_w = torch.stack([weights[p].mean(0) for p in picks])
        out_w = (mean_w[0] - mean_w[1] + mean_w[2]).expand(len(out_points), -1)
    draw = (lambda pts, lab: render_w(model, pts)) if in_w else (lambda pts, lab: render(model, pts, lab))
    return ArithmeticResult(draw(mean_points, mean_w), draw(out_points, out_w))
