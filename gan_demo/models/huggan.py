"""Generators of public GAN checkpoints on the Hugging Face Hub, rebuilt with their exact state-dict keys.

Each class is the original's layers in the original's order, so the released ``pytorch_model.bin``
loads with ``load_state_dict(strict=True)`` (the 2022 ``PyTorchModelHubMixin.from_pretrained``
loaded with ``strict=False``, which would hide a wrong key; we never do). Sources:

* ``GeneratorUNet``: huggingface/community-events, ``huggan/pytorch/pix2pix/modeling_pix2pix.py``
  @ 33a0ed27fda03e0984bce4baf2e7adca399f6406 (Apache-2.0; from eriklindernoren/PyTorch-GAN, MIT).
  The pix2pix U-Net of ``huggan/pix2pix-edge2shoes``: 256 x 256 RGB in [-1, 1] -> RGB in [-1, 1].
* ``HugGANDCGAN``: huggingface/community-events, ``huggan/pytorch/dcgan/modeling_dcgan.py``
  @ 6dafdff2a422141903e93c0ec30f6c491387c380 (Apache-2.0), the ``Generator`` of ``huggan/dcgan-mnist``:
  noise [B, 100, 1, 1] -> 64 x 64 RGB in [-1, 1].

The mixins the originals inherit add no parameters; here they are plain ``nn.Module``s.
"""

from __future__ import annotations

import torch
from torch import nn


class UNetDown(nn.Module):
    def __init__(self, in_size: int, out_size: int, normalize: bool = True, dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_size, out_size, 4, 2, 1, bias=False)]
        if normalize:
            layers.append(nn.InstanceNorm2d(out_size))
        layers.append(nn.LeakyReLU(0.2))
        if dropout:
            layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class UNetUp(nn.Module):
    def __init__(self, in_size: int, out_size: int, dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = [nn.ConvTranspose2d(in_size, out_size, 4, 2, 1, bias=False),
                                   nn.InstanceNorm2d(out_size), nn.ReLU(inplace=True)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.model(x), skip), 1)


class GeneratorUNet(nn.Module):
    """pix2pix's 8-level U-Net as huggan trained it (eval mode: dropout off, as its Space runs it).
    Eight stride-2 levels: the side must be a multiple of 256."""

    SIDE = 256

    def __init__(self, in_channels: int = 3, out_channels: int = 3):
        super().__init__()
        self.down1 = UNetDown(in_channels, 64, normalize=False)
        self.down2 = UNetDown(64, 128)
        self.down3 = UNetDown(128, 256)
        self.down4 = UNetDown(256, 512, dropout=0.5)
        self.down5 = UNetDown(512, 512, dropout=0.5)
        self.down6 = UNetDown(512, 512, dropout=0.5)
        self.down7 = UNetDown(512, 512, dropout=0.5)
        self.down8 = UNetDown(512, 512, normalize=False, dropout=0.5)
        self.up1 = UNetUp(512, 512, dropout=0.5)
        self.up2 = UNetUp(1024, 512, dropout=0.5)
        self.up3 = UNetUp(1024, 512, dropout=0.5)
        self.up4 = UNetUp(1024, 512, dropout=0.5)
        self.up5 = UNetUp(1024, 256)
        self.up6 = UNetUp(512, 128)
        self.up7 = UNetUp(256, 64)
        self.final = nn.Sequential(nn.Upsample(scale_factor=2), nn.ZeroPad2d((1, 0, 1, 0)),
                                   nn.Conv2d(128, out_channels, 4, padding=1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d1 = self.down1(x)
        d2 = self.down2(d1)
        d3 = self.down3(d2)
        d4 = self.down4(d3)
        d5 = self.down5(d4)
        d6 = self.down6(d5)
        d7 = self.down7(d6)
        d8 = self.down8(d7)
        u = self.up1(d8, d7)
        u = self.up2(u, d6)
        u = self.up3(u, d5)
        u = self.up4(u, d4)
        u = self.up5(u, d3)
        u = self.up6(u, d2)
        u = self.up7(u, d1)
        return self.final(u)


class HugGANDCGAN(nn.Module):
    """The DCGAN generator of huggan's community event (Radford et al. 2016's 64 x 64 layout)."""

    def __init__(self, num_channels: int = 3, latent_dim: int = 100, hidden_size: int = 64):
        super().__init__()
        self.latent_dim = latent_dim
        h = hidden_size
        self.model = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, h * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(h * 8), nn.ReLU(True),
            nn.ConvTranspose2d(h * 8, h * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(h * 4), nn.ReLU(True),
            nn.ConvTranspose2d(h * 4, h * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(h * 2), nn.ReLU(True),
            nn.ConvTranspose2d(h * 2, h, 4, 2, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU(True),
            nn.ConvTranspose2d(h, num_channels, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Noise [B, latent_dim] or [B, latent_dim, 1, 1] -> images [B, C, 64, 64] in [-1, 1]
        (``labels`` is ignored: the zoo's samplers pass one to every generator)."""
        if noise.dim() == 2:
            noise = noise[:, :, None, None]
        return self.model(noise)
