"""DCGAN (Radford, Metz, Chintala 2016) sized for 28x28 grey images.

The paper's rules, kept: strided (transposed) convolutions instead of pooling, batch norm in both
nets except G's output and D's input layers, ReLU in G with a tanh output, LeakyReLU(0.2) in D,
and N(0, 0.02) weight init. The 64x64 stack of the paper becomes 7 -> 14 -> 28 here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class DCGANConfig:
    latent_dim: int = 64
    width: int = 64  # channels of the widest hidden layer is 4 * width in G, 2 * width in D
    channels: int = 1
    image_size: int = 28
    # D's normalisation. Batch norm couples the samples of a batch, which breaks the per-sample
    # gradient penalty of WGAN-GP; Gulrajani et al. use layer norm in the critic instead.
    d_norm: str = "batch"  # "batch" | "layer" | "none"


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)  # one group = layer norm over (C, H, W)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown normalisation {kind!r}; use batch, layer or none")


def init_weights(module: nn.Module) -> None:
    """The paper's init: conv weights ~ N(0, 0.02), batch-norm scale ~ N(1, 0.02), bias 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    def __init__(self, config: DCGANConfig = DCGANConfig()):
        super().__init__()
        self.config = config
        w = config.width
        self.net = nn.Sequential(
            nn.ConvTranspose2d(config.latent_dim, 4 * w, 7, 1, 0, bias=False),  # 1 -> 7
            nn.BatchNorm2d(4 * w),
            nn.ReLU(True),
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False),  # 7 -> 14
            nn.BatchNorm2d(2 * w),
            nn.ReLU(True),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False),  # 14 -> 28
            nn.BatchNorm2d(w),
            nn.ReLU(True),
            nn.Conv2d(w, config.channels, 3, 1, 1),
            nn.Tanh(),
        )
        self.apply(init_weights)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    """Returns one logit per image (the sigmoid lives in the loss)."""

    def __init__(self, config: DCGANConfig = DCGANConfig()):
        super().__init__()
        self.config = config
        w = config.width
        self.net = nn.Sequential(
            nn.Conv2d(config.channels, w, 4, 2, 1),  # 28 -> 14, no batch norm on the input layer
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=config.d_norm == "none"),  # 14 -> 7
            norm_layer(config.d_norm, 2 * w),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * w, 1, 7, 1, 0),  # 7 -> 1
        )
        self.apply(init_weights)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).view(-1)
