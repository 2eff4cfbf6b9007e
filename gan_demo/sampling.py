"""From a zoo model and a seed to pixels: generation, uint8 conversion and image grids."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from .errors import UserError
from .latent import INTERPOLATIONS, sample_z, truncate
from .zoo import LoadedModel

MAX_SAMPLES = 10_000  # per call; the app caps lower (its grid is 64)
MAX_FRAMES = 120  # interpolation steps


def is_conditional(model: LoadedModel) -> bool:
    return bool(model.card.get("conditional"))


def class_index(model: LoadedModel, value) -> int:
    """A class by name ("Sneaker", "sneaker", "7") or by index (7); one sentence when unknown."""
    classes = model.classes
    given = value
    if not is_conditional(model):
        raise UserError(f"{model.name} is not a conditional model; it takes no class.")
    if isinstance(value, str):
        folded = [c.lower() for c in classes]
        if value.strip().lower() in folded:
            return folded.index(value.strip().lower())
        if value.strip().isdigit():
            value = int(value.strip())
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= value < len(classes):
        return int(value)
    raise UserError(f"Unknown class {given!r} for {model.name}; choose one of: {', '.join(classes)} "
                    f"(or an index 0-{len(classes) - 1}).")


def default_labels(model: LoadedModel, n: int) -> torch.Tensor | None:
    """For conditional models, n / C samples of each class in turn (0, 1, ..., C-1, 0, 1, ...)."""
    return torch.arange(n) % len(model.classes) if is_conditional(model) else None


def latents(model: LoadedModel, n: int, seed: int, psi: float = 1.0,
            shifts: Sequence[float] | None = None) -> torch.Tensor:
    """Seeded latents, truncated by ``psi`` (unless G truncates in w; see ``render``), with
    ``shifts[i]`` added to dimension i of every latent."""
    z = sample_z(n, model.latent_dim, seed)
    if not truncates_inside(model):
        z = truncate(z, psi)
    if shifts is not None and len(shifts):
        k = min(len(shifts), model.latent_dim)
        z[:, :k] += torch.as_tensor(list(shifts)[:k], dtype=z.dtype)
    return z


def truncates_in_w(model: LoadedModel) -> bool:
    """StyleGAN truncates its intermediate latent w toward the mean w, not z toward 0."""
    return bool(getattr(model.generator, "truncates_in_w", False))


def truncates_inside(model: LoadedModel) -> bool:
    """G takes the truncation ``psi`` itself (StyleGAN in w; PGGAN, whose z is pixel-normalised,
    in its first features) instead of z being scaled toward 0."""
    return truncates_in_w(model) or bool(getattr(model.generator, "takes_psi", False))


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] -> uint8 [N, H, W, C]."""
    x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


@torch.inference_mode()
def render(model: LoadedModel, z: torch.Tensor, labels: torch.Tensor | None = None,
           batch: int = 512, psi: float = 1.0) -> np.ndarray:
    """Run G on ``z`` in chunks; returns uint8 [N, H, W, C]. ``psi`` matters only for generators
    that truncate in w (for the others ``latents`` has already truncated z)."""
    device = next(model.generator.parameters()).device
    extra = {"psi": psi} if truncates_inside(model) else {}
    parts = []
    for i in range(0, len(z), batch):
        zz = z[i:i + batch].to(device)
        ll = None if labels is None else labels[i:i + batch].to(device)
        parts.append(to_uint8(model.generator(zz, ll, **extra)))
    return np.concatenate(parts)


@torch.inference_mode()
def render_w(model: LoadedModel, w: torch.Tensor) -> np.ndarray:
    """StyleGAN only: draw from intermediate latents w [N, w_dim] (already truncated or edited)."""
    G = model.generator
    w = w.to(next(G.parameters()).device)
    return to_uint8(G.synthesis(G.broadcast(w), noise="const"))


def generate(model: LoadedModel, n: int, seed: int, psi: float = 1.0,
             shifts: Sequence[float] | None = None,
             labels: torch.Tensor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` seeded samples; conditional models get ``labels`` or, without them, every class in turn."""
    z = latents(model, n, seed, psi, shifts)
    if labels is None:
        labels = default_labels(model, n)
    return render(model, z, labels, psi=psi), z.numpy()


def class_samples(model: LoadedModel, k: int, n: int, seed: int, psi: float = 1.0) -> np.ndarray:
    """``n`` seeded samples of class ``k``: uint8 [n, H, W, C]."""
    return render(model, latents(model, n, seed, psi), torch.full((n,), k), psi=psi)


def class_grid(model: LoadedModel, seed: int, n_seeds: int, psi: float = 1.0) -> np.ndarray:
    """Rows of one latent each, columns of every class: uint8 [n_seeds * C, H, W, C'].

    The same z runs along a row, so what stays (stroke, pose, thickness) is the latent's part and
    what changes is the class's.
    """
    n_classes = len(model.classes)
    z = latents(model, n_seeds, seed, psi).repeat_interleave(n_classes, 0)
    return render(model, z, torch.arange(n_classes).repeat(n_seeds), psi=psi)


def interpolate(model: LoadedModel, seed_a: int, seed_b: int, steps: int, mode: str = "slerp",
                psi: float = 1.0, class_a: int | None = None, class_b: int | None = None) -> np.ndarray:
    """Frames from seed A to seed B (and, for conditional models, from class A to class B):
    uint8 [steps, H, W, C]. Classes blend linearly through G's class embedding."""
    if mode not in INTERPOLATIONS:
        raise UserError(f"Unknown interpolation {mode!r}; choose one of: {', '.join(INTERPOLATIONS)}.")
    t = torch.linspace(0, 1, steps)
    za, zb = latents(model, 1, seed_a, psi)[0], latents(model, 1, seed_b, psi)[0]
    z = INTERPOLATIONS[mode](za, zb, t)
    labels = None
    if is_conditional(model):
        eye = torch.eye(len(model.classes))
        a = eye[0 if class_a is None else class_a]
        b = eye[(0 if class_a is None else class_a) if class_b is None else class_b]
        labels = (1 - t)[:, None] * a + t[:, None] * b
    return render(model, z, labels, psi=psi)


@torch.inference_mode()
def style_mix(model: LoadedModel, seeds_coarse: Sequence[int], seeds_fine: Sequence[int], crossover: int,
              psi: float = 1.0) -> np.ndarray:
    """StyleGAN's style-mixing figure: uint8 [(R+1) * (C+1), H, W, C'] laid out as a table.

    Row 0: a blank corner, then the "fine" sources; column 0: the "coarse" sources; cell (r, c):
    layers before ``crossover`` styled by coarse seed r, the rest by fine seed c.
    """
    G = model.generator
    if not hasattr(G, "mix"):
        raise UserError(f"{model.name} has no style layers; style mixing needs a StyleGAN model.")
    if not 0 <= crossover <= G.num_ws:
        raise UserError(f"Crossover must be between 0 and {G.num_ws}, got {crossover}.")
    zc = torch.cat([sample_z(1, model.latent_dim, s) for s in seeds_coarse])
    zf = torch.cat([sample_z(1, model.latent_dim, s) for s in seeds_fine])
    coarse = to_uint8(G(zc, psi=psi))
    fine = to_uint8(G(zf, psi=psi))
    mixed = to_uint8(G.mix(zc.repeat_interleave(len(zf), 0), zf.repeat(len(zc), 1), crossover, psi))
    blank = np.full_like(coarse[:1], 255)
    rows = [np.concatenate([blank, fine])]
    for r in range(len(zc)):
        rows.append(np.concatenate([coarse[r:r + 1], mixed[r * len(zf):(r + 1) * len(zf)]]))
    return np.concatenate(rows)


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
    return grid_image(images)


def grid_image(images: np.ndarray, ncol: int | None = None) -> np.ndarray:
    """A native-resolution grid, grey images as 2D (what the page and PNG writers expect)."""
    out = grid(images, ncol=ncol)
    return out[..., 0] if out.shape[-1] == 1 else out


def can_encode(model: LoadedModel) -> bool:
    return hasattr(model.generator, "encode")


@torch.inference_mode()
def encode(model: LoadedModel, image: np.ndarray) -> np.ndarray:
    """A uint8 [28, 28] image (light object on black, see images.to_mnist_style) -> the encoder's
    mean latent [latent_dim]."""
    if not can_encode(model):
        raise UserError(f"{model.name} has no encoder; pick a VAE-GAN model to encode images.")
    x = torch.as_tensor(np.asarray(image, np.float32) / 127.5 - 1.0)[None, None]
    mean, _ = model.generator.encode(x.to(next(model.generator.parameters()).device))
    return mean[0].cpu().numpy()


def decode(model: LoadedModel, z: np.ndarray, shifts: Sequence[float] | None = None) -> np.ndarray:
    """One latent, shifted along its first dimensions -> uint8 [H, W, C]."""
    z = torch.as_tensor(np.asarray(z, np.float32)).reshape(1, -1).clone()
    if z.shape[1] != model.latent_dim or not torch.isfinite(z).all():
        raise UserError(f"A latent of {model.name} must be {model.latent_dim} finite numbers.")
    if shifts is not None and len(shifts):
        k = min(len(shifts), model.latent_dim)
        z[0, :k] += torch.as_tensor(list(shifts)[:k], dtype=z.dtype)
    return render(model, z)[0]
