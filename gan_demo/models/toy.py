"""MLP generator and discriminator for the 1D/2D toy distributions of the Train tab.

The discriminator can end in a minibatch-discrimination layer (Salimans et al. 2016, section 3.2):
each sample's features are projected to ``num_kernels`` rows of size ``kernel_dim``, and
``o(x_i)_b = mean_j exp(-||M_i,b - M_j,b||_1)`` tells D how close a sample is to the rest of its
batch, so a collapsed generator (all samples alike) is easy to spot and punished.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..losses import MinibatchDiscrimination, minibatch_std

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "elu": nn.ELU}


@dataclass
class ToyConfig:
    data_dim: int = 2
    noise_dim: int = 2
    hidden_layers: int = 3
    width: int = 128
    activation: str = "relu"
    minibatch_disc: bool = False
    mbd_kernels: int = 8  # B in the paper (100 there, for images)
    mbd_kernel_dim: int = 4  # C in the paper (5 there)
    # The data's spread: G's output is scaled up by it and D's input down, so both nets work on
    # unit-sized numbers whatever the data set's extent (the grid spans +-4, the 1D Gaussian sits at 4).
    data_scale: float = 1.0
    # PacGAN (Lin et al. 2018): D judges `pack` samples at once, concatenated, so a generator whose
    # samples look alike is caught by the set as a whole. 1 = an ordinary discriminator.
    pack: int = 1
    # Minibatch standard deviation (Karras et al. 2018): one extra feature, the batch's mean
    # per-feature spread, lets D see a collapsed batch at O(N) cost (minibatch discrimination is O(N^2)).
    minibatch_std: bool = False


def mlp(sizes: list[int], activation: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class ToyGenerator(nn.Module):
    def __init__(self, config: ToyConfig = ToyConfig()):
        super().__init__()
        self.config = config
        self.net = mlp([config.noise_dim] + [config.width] * config.hidden_layers + [config.data_dim],
                       config.activation)

    @property
    def latent_dim(self) -> int:
        return self.config.noise_dim

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(z) * self.config.data_scale


class ToyDiscriminator(nn.Module):
    """Returns one raw output per sample (a logit or a critic score, depending on the loss)."""

    def __init__(self, config: ToyConfig = ToyConfig()):
        super().__init__()
        self.config = config
        w = config.width
        self.body = mlp([config.data_dim * config.pack] + [w] * config.hidden_layers, config.activation)
        self.body.append(ACTIVATIONS[config.activation]())
        self.mbd = (MinibatchDiscrimination(w, config.mbd_kernels, config.mbd_kernel_dim)
                    if config.minibatch_disc else None)
        extra = (config.mbd_kernels if config.minibatch_disc else 0) + int(config.minibatch_std)
        self.head = nn.Linear(w + extra, 1)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """One output per sample, or per pack of ``pack`` consecutive samples."""
        x = x.reshape(-1, self.config.data_dim * self.config.pack)
        h = self.body(x / self.config.data_scale)
        if self.mbd is not None:
            h = self.mbd(h)
        if self.config.minibatch_std:
            h = minibatch_std(h)
        return self.head(h).view(-1)


class DiscriminatorEnsemble(nn.Module):
    """K discriminators for GMAN (Durugkar et al. 2017): each trains on its own loss, and G answers
    to a weighted mean over them. Called as one D (the views' landscape) it gives their mean output."""

    def __init__(self, members: list[ToyDiscriminator]):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.config = members[0].config
        self.mbd = members[0].mbd

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return torch.stack([d(x) for d in self.members]).mean(0)
