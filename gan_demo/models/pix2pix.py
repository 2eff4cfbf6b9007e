"""pix2pix (Isola, Zhu, Zhou, Efros 2017) at Fashion-MNIST scale: a line drawing in, a garment out.

The generator is the paper's U-Net: an encoder of stride-2 convolutions (LeakyReLU 0.2, batch norm
except on the first and innermost layers), a decoder of transposed convolutions (ReLU) with a skip
connection from each encoder layer to its mirror, dropout 0.5 on the three innermost decoder layers
as the only source of noise (the paper found a z input ignored) and kept on when drawing. 28 x 28
inputs are padded to 32 so five halvings reach a 1 x 1 bottleneck, where an optional class hint is
concatenated (index ``num_classes`` means "no hint").

The discriminator is the paper's PatchGAN on the (drawing, garment) pair stacked as channels, so it
judges whether the garment fits the drawing, not just whether it looks real.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class Pix2PixConfig:
    ngf: int = 16  # 1.3M parameters: 6 min an epoch of Fashion-MNIST on one CPU core
    ndf: int = 32
    num_classes: int = 10  # class hints; index num_classes is "no hint"
    dropout: float = 0.5
    image_size: int = 28  # padded to 32 inside the U-Net


def _pad(size: int) -> tuple[int, int]:
    total = 32 - size
    return total // 2, total - total // 2


class Pix2PixGenerator(nn.Module):
    def __init__(self, config: Pix2PixConfig = Pix2PixConfig()):
        super().__init__()
        if config.image_size > 32:
            raise ValueError("the U-Net here is built for images up to 32 x 32")
        self.config = config
        g = config.ngf
        chans = [g, 2 * g, 4 * g, 8 * g, 8 * g]  # 32 -> 16 -> 8 -> 4 -> 2 -> 1
        self.down = nn.ModuleList()
        prev = 1
        for i, c in enumerate(chans):
            norm = 0 < i < len(chans) - 1
            self.down.append(nn.Sequential(
                nn.Conv2d(prev, c, 4, 2, 1, bias=not norm),
                nn.BatchNorm2d(c) if norm else nn.Identity()))
            prev = c
        self.hint = nn.Embedding(config.num_classes + 1, chans[-1])
        self.up = nn.ModuleList()
        ins = [2 * chans[-1]] + [2 * c for c in reversed(chans[:-1])]  # bottleneck + hint, then skips
        outs = list(reversed(chans[:-1])) + [1]
        for i, (cin, cout) in enumerate(zip(ins, outs)):
            last = i == len(ins) - 1
            self.up.append(nn.Sequential(
                nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=last),
                nn.Identity() if last else nn.BatchNorm2d(cout)))
        self.apply(_init)

    def forward(self, lines: torch.Tensor, hint: torch.Tensor | None = None,
                noise: torch.Generator | None = None) -> torch.Tensor:
        """Drawings [N, 1, S, S] (ink +1, paper -1), class hints [N] (None: no hint) -> garments
        [N, 1, S, S] in [-1, 1]. ``noise`` seeds the dropout masks, so one seed gives one garment."""
        lo, hi = _pad(lines.shape[-1])
        h = F.pad(lines, (lo, hi, lo, hi), value=-1.0)
        skips = []
        for i, block in enumerate(self.down):
            h = block(h if i == 0 else F.leaky_relu(h, 0.2))
            skips.append(h)
        if hint is None:
            hint = torch.full((len(lines),), self.config.num_classes, dtype=torch.long, device=lines.device)
        h = torch.cat([h, self.hint(hint)[:, :, None, None]], 1)
        skips.pop()
        for i, block in enumerate(self.up):
            h = block(F.relu(h))
            if i < 3:
                h = _dropout(h, self.config.dropout, noise)
            if skips:
                h = torch.cat([h, skips.pop()], 1)
        h = torch.tanh(h)
        return h[..., lo: h.shape[-2] - hi, lo: h.shape[-1] - hi]


def _dropout(x: torch.Tensor, p: float, noise: torch.Generator | None) -> torch.Tensor:
    """Dropout that stays on at inference (pix2pix's noise) and can follow a seeded generator."""
    if p <= 0:
        return x
    u = torch.rand(x.shape, generator=noise, device="cpu" if noise is not None else x.device)
    return x * (u.to(x.device) >= p).to(x.dtype) / (1 - p)


class PatchDiscriminator(nn.Module):
    """The PatchGAN of pix2pix on a (drawing, garment) pair: a 6 x 6 map of logits, each judging
    an overlapping patch of about 22 x 22 pixels."""

    def __init__(self, config: Pix2PixConfig = Pix2PixConfig()):
        super().__init__()
        self.config = config
        d = config.ndf
        self.net = nn.Sequential(
            nn.Conv2d(2, d, 4, 2, 1), nn.LeakyReLU(0.2, True),  # 16
            nn.Conv2d(d, 2 * d, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * d), nn.LeakyReLU(0.2, True),  # 8
            nn.Conv2d(2 * d, 4 * d, 4, 1, 1, bias=False), nn.BatchNorm2d(4 * d), nn.LeakyReLU(0.2, True),  # 7
            nn.Conv2d(4 * d, 1, 4, 1, 1),  # 6
        )
        self.apply(_init)

    def forward(self, lines: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        lo, hi = _pad(lines.shape[-1])
        pair = F.pad(torch.cat([lines, images], 1), (lo, hi, lo, hi), value=-1.0)
        return self.net(pair)


def _init(module: nn.Module) -> None:
    """pix2pix's init: N(0, 0.02) convolutions, N(1, 0.02) batch-norm scales."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
