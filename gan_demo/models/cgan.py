"""Conditional DCGAN (Mirza & Osindero 2014) for 28x28 grey images: the class enters both nets.

G reads the class as a learned embedding concatenated to z, which is the paper's recipe and keeps
"same z, other class" meaningful: the Conditional tab's class x seed grid relies on it.
D sees the class twice: as ten one-hot planes stacked on the image (the paper's way in), and through
the projection of Miyato & Koyama (2018), logit = psi(phi(x)) + <embed(y), phi(x)>. With the
projection alone D learned the class too slowly and G drew well-formed digits of the wrong class;
with the input planes it cannot ignore it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .dcgan import DCGANConfig, DCGANGenerator, init_weights


@dataclass
class CGANConfig:
    latent_dim: int = 64
    width: int = 32
    channels: int = 1
    image_size: int = 28
    num_classes: int = 10
    embed_dim: int = 32  # size of G's class embedding (D's has one per feature channel)


class CGANGenerator(nn.Module):
    def __init__(self, config: CGANConfig = CGANConfig()):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.num_classes, config.embed_dim)
        nn.init.normal_(self.embed.weight, 0.0, 1.0)  # the scale of z, so neither input drowns the other
        self.body = DCGANGenerator(DCGANConfig(latent_dim=config.latent_dim + config.embed_dim,
                                               width=config.width, channels=config.channels,
                                               image_size=config.image_size))

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``labels``: class indices [N], or class weights [N, num_classes] to blend classes
        (the Interpolate tab walks from one class to another this way)."""
        if labels is None:
            raise ValueError("a conditional generator needs a class label per latent")
        if labels.is_floating_point():
            embedded = labels.to(self.embed.weight.dtype) @ self.embed.weight
        else:
            embedded = self.embed(labels)
        return self.body(torch.cat([z, embedded], 1))


class CGANDiscriminator(nn.Module):
    """DCGAN's D trunk, then an unconditional logit plus the class projection."""

    def __init__(self, config: CGANConfig = CGANConfig()):
        super().__init__()
        self.config = config
        w = config.width
        self.trunk = nn.Sequential(
            nn.Conv2d(config.channels + config.num_classes, w, 4, 2, 1),  # 28 -> 14
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),  # 14 -> 7
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2, True),
        )
        self.head = nn.Conv2d(2 * w, 1, 7, 1, 0)  # 7 -> 1, as in DCGAN
        self.embed = nn.Embedding(config.num_classes, 2 * w)
        self.apply(init_weights)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is None:
            raise ValueError("a conditional discriminator needs the class of each image")
        planes = F.one_hot(labels, self.config.num_classes).to(x.dtype)[:, :, None, None]
        h = self.trunk(torch.cat([x, planes.expand(-1, -1, *x.shape[2:])], 1))
        phi = h.mean((2, 3))
        return self.head(h).view(-1) + (self.embed(labels) * phi).sum(1)
