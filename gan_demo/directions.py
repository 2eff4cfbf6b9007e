"""Interpretable latent directions by PCA, as in GANSpace (Harkonen et al. 2020).

Noise z ~ N(0, I) is isotropic, so PCA on z itself finds nothing. GANSpace looks where the
generator has shaped the distribution instead:

* StyleGAN: PCA on w = mapping(z). The mapping network warps the sphere into a space whose few
  top components carry most of the variance; an edit moves w along a component, in units of its
  standard deviation.
* Every other model: PCA on the first hidden layer's activations for many z (the paper does this
  with BigGAN's early layers), then a linear regression from the PCA coordinates back to z turns
  each component into a direction in z. An edit moves z along that unit direction, so one unit is
  one standard deviation of z.

Directions depend only on the model, so they are computed once (from a fixed seed) and memoised
on the loaded model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .errors import UserError
from .latent import sample_z
from .sampling import default_labels, is_conditional, latents, render, render_w, truncates_in_w
from .zoo import LoadedModel

PCA_SAMPLES = 4096
PCA_SEED = 2020  # the directions are a property of the model, not of a user's seed
MAX_COMPONENTS = 16


@dataclass(frozen=True)
class Directions:
    space: str  # "w" (StyleGAN) or "z"
    vectors: torch.Tensor  # [K, dim]: unit directions in z, or principal axes of w
    scales: torch.Tensor  # [K]: how far one slider unit moves (sigma of w along the axis; 1 in z)
    variance_share: np.ndarray  # [K]: share of the analysed space's total variance per component
    analysed: str  # what PCA ran on, for the table's caption

    def __len__(self) -> int:
        return len(self.vectors)


class _Captured(Exception):
    pass


def _first_activation(G: nn.Module, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """The output of the first ReLU-like layer that runs in G's forward pass, flattened [N, F].

    Hooks act on every caller of a module, and the app's models serve other sessions' requests
    concurrently, so the hooks go on a private copy.
    """
    G = copy.deepcopy(G)
    captured: list[torch.Tensor] = []

    def hook(_module, _inputs, output):
        captured.append(output.detach().flatten(1))
        raise _Captured  # the rest of the forward pass would be wasted work

    handles = [m.register_forward_hook(hook) for m in G.modules()
               if isinstance(m, (nn.ReLU, nn.LeakyReLU, nn.SiLU, nn.GELU, nn.GLU))]  # GLU: FastGAN's
    try:
        G(z, labels)
    except _Captured:
        pass
    finally:
        for h in handles:
            h.remove()
    if not captured:
        raise UserError("This generator has no hidden activation layer for PCA to analyse.")
    return captured[0]


@torch.inference_mode()
def compute(model: LoadedModel, k: int = 10, n: int = PCA_SAMPLES) -> Directions:
    """The top ``k`` principal directions of ``model`` (see the module docstring)."""
    G = model.generator
    device = next(G.parameters()).device
    z = sample_z(n, model.latent_dim, PCA_SEED).to(device)
    if truncates_in_w(model):
        feats = G.w(z).float()
        space, analysed = "w", f"w = mapping(z), {feats.shape[1]} dims"
    else:
        labels = default_labels(model, n)
        feats = _first_activation(G, z, None if labels is None else labels.to(device)).float()
        space, analysed = "z", f"first hidden layer, {feats.shape[1]} activations, regressed onto z"
    k = max(1, min(k, MAX_COMPONENTS, feats.shape[1], model.latent_dim))
    centred = feats - feats.mean(0)
    if space == "z" and labels is not None:
        # A conditional G's first layer varies most with the class, which z cannot move: centred
        # on the mean of all classes, the top components described the class and regressed onto
        # z as faint directions (cgan-digits' first slider changed 7 % of a pixel's range).
        # Centring each class on its own mean leaves the variation z makes: stroke, slant, size.
        labels = labels.to(feats.device)
        means = torch.zeros(int(labels.max()) + 1, feats.shape[1], device=feats.device)
        means.index_add_(0, labels, feats)
        means /= torch.bincount(labels, minlength=len(means)).clamp_min(1)[:, None]
        centred = feats - means[labels]
        analysed = analysed.replace("activations,", "activations centred on each class's mean,")
    total = centred.pow(2).sum() / (n - 1)
    # Randomised PCA: the activation space is thousands wide and only the top few matter.
    _, s, v = torch.pca_lowrank(centred, q=min(k + 8, *centred.shape), center=False, niter=4)
    s, v = s[:k], v[:, :k]
    share = (s.pow(2) / (n - 1) / total).cpu().numpy()
    if space == "w":
        vectors = v.T.contiguous()
        scales = s / (n - 1) ** 0.5
    else:
        coords = centred @ v  # [n, k]
        # Which change of z moves the activations along each component: least squares z ~ coords @ U.
        U = torch.linalg.lstsq(coords.cpu(), z.cpu().float()).solution  # [k, latent_dim]
        vectors = U / U.norm(dim=1, keepdim=True).clamp_min(1e-8)
        scales = torch.ones(k)
    return Directions(space, vectors.cpu(), scales.cpu(), share, analysed)


def get(model: LoadedModel, k: int = 10) -> Directions:
    """``compute`` once per model (it costs a second or two), then from the model's memo."""
    return model.memo(("directions", k), lambda: compute(model, k))


def _labels(model: LoadedModel, label: int | None, n: int) -> torch.Tensor | None:
    if not is_conditional(model):
        return None
    return torch.full((n,), 0 if label is None else int(label))


def _offset(dirs: Directions, amounts: Sequence[float]) -> torch.Tensor:
    amounts = torch.as_tensor([float(a) for a in list(amounts)[:len(dirs)]], dtype=torch.float32)
    k = len(amounts)
    return (amounts * dirs.scales[:k]) @ dirs.vectors[:k] if k else torch.zeros(dirs.vectors.shape[1])


@torch.inference_mode()
def render_edits(model: LoadedModel, z: torch.Tensor, offsets: torch.Tensor, psi: float = 1.0,
                 labels: torch.Tensor | None = None) -> np.ndarray:
    """Images of latents ``z`` [N, d] each moved by ``offsets`` [N, dim] in the directions' space."""
    G = model.generator
    device = next(G.parameters()).device
    if truncates_in_w(model):
        # Edit after truncation, as GANSpace does.
        return render_w(model, G.w(z.to(device), psi).cpu() + offsets)
    return render(model, z + offsets, labels, psi=psi)


def edit(model: LoadedModel, seed: int, amounts: Sequence[float], psi: float = 1.0,
         label: int | None = None, k: int = 10) -> np.ndarray:
    """One seeded sample moved ``amounts[i]`` units along component i: uint8 [H, W, C]."""
    dirs = get(model, k)
    z = latents(model, 1, seed, psi)
    return render_edits(model, z, _offset(dirs, amounts)[None], psi, _labels(model, label, 1))[0]


def sweep(model: LoadedModel, seed: int, components: int, span: float = 2.0, steps: int = 5,
          psi: float = 1.0, label: int | None = None, base: Sequence[float] = (), k: int = 10) -> np.ndarray:
    """GANSpace's figure: row i walks component i from -span to +span around the (edited) sample.

    Returns uint8 [components * steps, H, W, C], row-major.
    """
    dirs = get(model, k)
    components = max(1, min(components, len(dirs)))
    z = latents(model, 1, seed, psi)
    start = _offset(dirs, base)
    ts = torch.linspace(-span, span, steps)
    offsets = torch.stack([start + t * dirs.scales[i] * dirs.vectors[i]
                           for i in range(components) for t in ts])
    n = len(offsets)
    return render_edits(model, z.repeat(n, 1), offsets, psi, _labels(model, label, n))
