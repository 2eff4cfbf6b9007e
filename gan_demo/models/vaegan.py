"""VAE-GAN (Larsen, Sonderby, Larochelle, Winther 2016) for 28x28 grey images.

A VAE whose decoder is also a GAN generator, and whose reconstruction error is measured in the
discriminator's feature space ("learned similarity") instead of pixel by pixel: pixel-wise errors
punish a shift of one pixel as much as a smudge, so plain VAEs come out blurry.

The zoo ships what the Explore tab needs: the decoder (a DCGAN generator, so sampling works as for
any model) and the encoder, which turns an uploaded image into a latent the sliders can then edit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .dcgan import DCGANConfig, DCGANGenerator, init_weights


@dataclass
class VAEGANConfig:
    latent_dim: int = 64
    width: int = 32
    channels: int = 1
    image_size: int = 28


class Encoder(nn.Module):
    """Image -> (mean, log-variance) of q(z | x); DCGAN's D trunk with two heads."""

    def __init__(self, cfg: VAEGANConfig):
        super().__init__()
        w = cfg.width
        self.net = nn.Sequential(
            nn.Conv2d(cfg.channels, w, 4, 2, 1), nn.LeakyReLU(0.2, True),  # 14
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2, True),  # 7
            nn.Flatten(),
            nn.Linear(2 * w * 49, 256), nn.BatchNorm1d(256), nn.LeakyReLU(0.2, True),
        )
        self.mean = nn.Linear(256, cfg.latent_dim)
        self.logvar = nn.Linear(256, cfg.latent_dim)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.net(x)
        return self.mean(h), self.logvar(h).clamp(-10, 10)


class VAEGANGenerator(nn.Module):
    """Decoder (= G) and encoder in one module, so one safetensors file holds both."""

    def __init__(self, config: VAEGANConfig = VAEGANConfig()):
        super().__init__()
        self.config = config
        self.decoder = DCGANGenerator(DCGANConfig(latent_dim=config.latent_dim, width=config.width,
                                                  channels=config.channels, image_size=config.image_size))
        self.encoder = Encoder(config)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(x)

    def reparameterise(self, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)


class VAEGANDiscriminator(nn.Module):
    """DCGAN's D, also returning the 7x7 feature map used as the similarity measure (Dis_l)."""

    def __init__(self, config: VAEGANConfig = VAEGANConfig()):
        super().__init__()
        w = config.width
        self.trunk = nn.Sequential(
            nn.Conv2d(config.channels, w, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2, True),
        )
        self.head = nn.Conv2d(2 * w, 1, 7, 1, 0)
        self.apply(init_weights)

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return h, self.head(h).view(-1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.features(x)[1]
