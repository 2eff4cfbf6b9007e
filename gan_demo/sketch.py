"""Line drawings as the sketch-to-garment model reads them: edge maps of real images for training,
and whatever a person draws or uploads, brought to the same form.

Both paths end in the same function, ``strokes``: binary ink, thinned to one-pixel lines, on a
28 x 28 frame. A Sobel edge band on a garment and a brush stroke on the canvas are both a few pixels
wide; thinned, they are the same kind of line, so the model never sees a difference in stroke width
or grey levels between what it trained on and what a person draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.nn import functional as F

from .errors import UserError

if TYPE_CHECKING:
    from .zoo import LoadedModel

SIZE = 28
EDGE_THRESHOLD = 0.3  # of each image's strongest gradient: keeps the outline and strong folds
SILHOUETTE = 0.05  # pixels brighter than this belong to the garment
FILL = 28  # a drawing's longer side spans the frame, as garments do (thinned: about 27 px, as edge maps)
MAX_INK = 0.6  # a canvas more than this share ink is a filled area, not a drawing
NO_HINT = "no hint"
MAX_VARIATIONS = 16


def thin(ink: torch.Tensor, max_iter: int = 30) -> torch.Tensor:
    """Zhang & Suen (1984) thinning of a batch of binary images [N, H, W] to one-pixel lines,
    vectorised over the batch (each pass tests all pixels at once)."""
    x = ink.to(torch.uint8).clone()
    for _ in range(max_iter):
        changed = False
        for first in (True, False):
            p = F.pad(x, (1, 1, 1, 1))
            # neighbours P2..P9 clockwise from north, as in the paper
            n = [p[:, :-2, 1:-1], p[:, :-2, 2:], p[:, 1:-1, 2:], p[:, 2:, 2:],
                 p[:, 2:, 1:-1], p[:, 2:, :-2], p[:, 1:-1, :-2], p[:, :-2, :-2]]
            b = sum(v.to(torch.int16) for v in n)
            a = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)).to(torch.int16) for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if first:
                c, d = p2 * p4 * p6, p4 * p6 * p8
            else:
                c, d = p2 * p4 * p8, p2 * p6 * p8
            remove = (x == 1) & (b >= 2) & (b <= 6) & (a == 1) & (c == 0) & (d == 0)
            if remove.any():
                x[remove] = 0
                changed = True
        if not changed:
            break
    return x.bool()


def edge_maps(images: np.ndarray | torch.Tensor, threshold: float = EDGE_THRESHOLD, batch: int = 4096) -> torch.Tensor:
    """uint8 images [N, 28, 28] (light garment on black) -> bool line drawings [N, 28, 28]: the
    silhouette's outline (a person always draws it, even round a dark coat whose outline is a weak
    edge) and the Sobel magnitude above ``threshold`` of the image's maximum, thinned to one-pixel lines."""
    x = torch.as_tensor(np.array(images)).float().div(255.0)
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    kernel = torch.stack([kx, kx.T]).unsqueeze(1)
    out = []
    for i in range(0, len(x), batch):
        g = F.conv2d(x[i:i + batch].unsqueeze(1), kernel, padding=1)  # zero padding: black ground
        mag = g.pow(2).sum(1).sqrt()
        peak = mag.flatten(1).amax(1).clamp_min(1e-6)[:, None, None]
        solid = (x[i:i + batch] > SILHOUETTE).float().unsqueeze(1)
        outline = (solid - (-F.max_pool2d(-solid, 3, 1, 1))).squeeze(1) > 0  # the mask minus its erosion
        out.append(thin((mag > threshold * peak) | outline))
    return torch.cat(out) if out else torch.zeros(0, SIZE, SIZE, dtype=torch.bool)


def to_model_input(lines: torch.Tensor) -> torch.Tensor:
    """bool [N, 28, 28] -> float [N, 1, 28, 28] with ink +1 and paper -1 (the range of tanh)."""
    return lines.float().mul(2).sub(1).unsqueeze(1)


def ink_of(source) -> np.ndarray:
    """Any drawing or upload -> float ink [H, W] in [0, 1]. The frame's edge is taken as the paper
    (dark lines on white, light lines on black, any colour); transparent pixels are white paper."""
    from .images import flatten_alpha, open_image

    img = flatten_alpha(open_image(source), 255)
    grey = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    paper = float(np.median(border))
    ink = np.abs(grey - paper)
    return ink / max(paper, 1.0 - paper)


def drawn_ink(source, what: str = "a garment") -> np.ndarray:
    """A person's drawing -> float ink [H, W], or one sentence when it is blank or a filled area."""
    ink = ink_of(source)
    mask = ink > 0.25
    if not mask.any():
        raise UserError(f"The canvas is empty: draw the outline of {what} first.")
    if mask.mean() > MAX_INK:
        raise UserError("The canvas is almost all ink: draw an outline with a thin brush, "
                        "not a filled shape.")
    return ink


def strokes(source) -> np.ndarray:
    """A drawing (a Sketchpad composite, a file, an array) -> bool [28, 28] one-pixel lines, centred
    and scaled like the training edge maps; a clear message when there is nothing to read."""
    return thin(torch.from_numpy(frame_ink(drawn_ink(source)))[None])[0].numpy()


def frame_ink(ink: np.ndarray, side: int = SIZE, fill: int = FILL) -> np.ndarray:
    """Float ink [H, W] -> bool [side, side]: the drawing's bounding box scaled so its longer side
    spans ``fill`` pixels, centred, binarised; not yet thinned. Blank ink gives a blank frame."""
    from PIL import Image

    mask = ink > 0.25
    if not mask.any():
        return np.zeros((side, side), bool)
    ys, xs = np.nonzero(mask)
    ink = ink[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    h, w = ink.shape
    scale = fill / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    # Area averaging keeps a thin stroke as a faint line instead of dropping it between samples.
    small = np.asarray(Image.fromarray((np.clip(ink, 0, 1) * 255).astype(np.uint8)).resize((nw, nh), Image.BOX),
                       dtype=np.float32) / 255.0
    frame = np.zeros((side, side), np.float32)
    oy, ox = (side - nh) // 2, (side - nw) // 2
    frame[oy: oy + nh, ox: ox + nw] = small
    return frame > 0.2 * max(frame.max(), 1e-6)


def render(lines: np.ndarray | torch.Tensor) -> np.ndarray:
    """bool [H, W] lines -> uint8 [H, W]: black lines on white paper, as a person sees a drawing."""
    return np.where(np.asarray(lines, dtype=bool), 0, 255).astype(np.uint8)


def stroke_stats(lines: np.ndarray | torch.Tensor) -> dict[str, float]:
    """Figures that say whether two sets of drawings look alike to the model: share of ink pixels,
    the bounding box's longer side, and the share of ink pixels with more than two ink neighbours
    (blobs and thick strokes score high, clean one-pixel lines low)."""
    x = torch.as_tensor(np.asarray(lines, dtype=bool))
    if x.dim() == 2:
        x = x[None]
    xf = x.float()
    neigh = F.conv2d(F.pad(xf[:, None], (1, 1, 1, 1)), torch.ones(1, 1, 3, 3)).squeeze(1) - xf
    ink = xf.sum((1, 2)).clamp_min(1)
    rows, cols = x.any(2), x.any(1)

    def extent(m: torch.Tensor) -> torch.Tensor:
        idx = torch.arange(m.shape[1]).expand_as(m)
        hi = torch.where(m, idx, -1).amax(1)
        lo = torch.where(m, idx, m.shape[1]).amin(1)
        return (hi - lo + 1).clamp_min(0).float()

    return {
        "ink_share": round(float(xf.mean((1, 2)).mean()), 4),
        "extent_px": round(float(torch.maximum(extent(rows), extent(cols)).mean()), 2),
        "crowded_share": round(float((((neigh > 2) & x).float().sum((1, 2)) / ink).mean()), 4),
    }


@dataclass(frozen=True)
class Drawing:
    lines: np.ndarray  # bool [28, 28]: what the model read
    garments: np.ndarray  # uint8 [K, 28, 28]: one per dropout seed, light garment on black
    hint: str | None


def draw(model: "LoadedModel", source, hint: str | None = None, seed: int = 0, variations: int = 1) -> Drawing:
    """A person's drawing -> ``variations`` garments (pix2pix's dropout noise, seeds ``seed``,
    ``seed + 1``, ...), with an optional class hint by name."""
    return draw_lines(model, strokes(source), hint, seed, variations)


@torch.inference_mode()
def draw_lines(model: "LoadedModel", lines: np.ndarray, hint: str | None = None, seed: int = 0,
               variations: int = 1) -> Drawing:
    classes = model.classes
    if hint not in (None, "", NO_HINT) and hint not in classes:
        raise UserError(f"Unknown class hint {hint!r}; choose one of: {', '.join(classes)}.")
    if not 1 <= variations <= MAX_VARIATIONS:
        raise UserError(f"Variations must be between 1 and {MAX_VARIATIONS}, got {variations}.")
    hint = None if hint in (None, "", NO_HINT) else hint
    G = model.generator
    device = next(G.parameters()).device
    x = to_model_input(torch.as_tensor(np.asarray(lines, dtype=bool))[None]).to(device)
    h = None if hint is None else torch.tensor([classes.index(hint)], device=device)
    outs = []
    for k in range(variations):
        y = G(x, h, noise=torch.Generator().manual_seed(int(seed) + k))
        outs.append(y[0, 0].clamp(-1, 1).add(1).mul(127.5).round().byte().cpu().numpy())
    return Drawing(np.asarray(lines, dtype=bool), np.stack(outs), hint)


def test_pair(model: "LoadedModel", index: int, seed: int = 0) -> tuple[np.ndarray, Drawing, np.ndarray, str]:
    """A real test image of the model's data set by index: (its edge map, what the model draws from
    it, the image, its class name), to show what the model was trained on."""
    from .data import load_images

    dataset = model.card.get("dataset", "fashion")
    test = model.memo(("test-set", dataset), lambda: load_images(dataset, train=False))
    if not 0 <= index < len(test.images):
        raise UserError(f"Test image must be between 0 and {len(test.images) - 1}, got {index}.")
    lines = edge_maps(test.images[index:index + 1])[0].numpy()
    return lines, draw_lines(model, lines, None, seed), test.images[index], test.classes[int(test.labels[index])]
