"""The fixed-z sample grid of a training run: the same noise vectors every time, so a watcher sees
each one sharpen. ``train --live-preview DIR`` writes it every few steps; a live view can read it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..sampling import grid_image, to_uint8

PREVIEW_SAMPLES = 64


class FixedGrid:
    def __init__(self, latent_dim: int, num_classes: int | None, device: torch.device, seed: int = 0,
                 n: int = PREVIEW_SAMPLES):
        gen = torch.Generator().manual_seed(seed)
        self.z = torch.randn(n, latent_dim, generator=gen).to(device)
        # Conditional models: class k in column k, so each column of the 8 x 8 grid is one class.
        self.labels = None if not num_classes else (torch.arange(n) % num_classes).to(device)

    @torch.no_grad()
    def render(self, G: nn.Module) -> np.ndarray:
        """G's images for the fixed noise, as one uint8 grid; G's train/eval mode is left as it was."""
        was_training = G.training
        G.eval()
        try:
            out = G(self.z, self.labels)
        finally:
            G.train(was_training)
        return grid_image(to_uint8(out.float()), ncol=int(np.sqrt(len(self.z))))

    def write(self, G: nn.Module, folder: str | Path, step: int) -> Path:
        """``FOLDER/step_000100.png`` and ``FOLDER/latest.png`` (replaced atomically)."""
        from PIL import Image

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        img = Image.fromarray(self.render(G))
        path = folder / f"step_{step:06d}.png"
        img.save(path)
        tmp = folder / "latest.tmp.png"
        img.save(tmp)
        tmp.replace(folder / "latest.png")
        return path
