"""A small StyleGAN (Karras et al. 2019, with the modulated convolutions of StyleGAN2, 2020) for 28x28.

What the Explore tab shows of it, and why each part is here:
* a mapping network z -> w (an MLP after pixel norm): w need not follow z's Gaussian, so its
  directions can untangle (fewer "entangled latent dimensions" than a DCGAN's z);
* styles: every convolution's input channels are scaled by an affine map of w, then the weights are
  demodulated (StyleGAN2's replacement for AdaIN, which left blob artefacts);
* per-layer noise with a learned strength, for stochastic detail; fixed noise buffers at sampling
  time so a seed always gives the same image;
* truncation in w toward the running mean of w (``w_avg``), not in z;
* style mixing: early layers (7x7, coarse shape) from one w, later ones (28x28, fine detail)
  from another; also used as a regulariser while training (mixing probability 0.9, as the paper).

Scaled down for a CPU: a 7x7 constant input, two convolutions at each of 7, 14 and 28 pixels, one
grey output channel, no equalised learning rate (Adam copes at this size).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..losses import minibatch_std


@dataclass
class StyleGANConfig:
    latent_dim: int = 64
    w_dim: int = 64
    mapping_layers: int = 4
    width: int = 32  # channels at 28x28; 2 * width at 7x7 and 14x14
    channels: int = 1
    image_size: int = 28
    mixing_prob: float = 0.9  # style-mixing regularisation while training
    w_avg_beta: float = 0.995


class MappingNetwork(nn.Module):
    def __init__(self, cfg: StyleGANConfig):
        super().__init__()
        layers: list[nn.Module] = []
        dim = cfg.latent_dim
        for _ in range(cfg.mapping_layers):
            linear = nn.Linear(dim, cfg.w_dim)
            # Variance-preserving init (He for LeakyReLU 0.2), as StyleGAN's equalised layers have.
            # PyTorch's default shrinks the signal ~6x in variance per layer: after four layers w
            # was ~0.03 in size, every style was 1 +- 0.03, and all samples shared one silhouette.
            nn.init.kaiming_normal_(linear.weight, a=0.2, nonlinearity="leaky_relu")
            nn.init.zeros_(linear.bias)
            layers += [linear, nn.LeakyReLU(0.2)]
            dim = cfg.w_dim
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z * torch.rsqrt(z.pow(2).mean(1, keepdim=True) + 1e-8)  # pixel norm: only z's direction counts
        return self.net(z)


class ModulatedConv(nn.Module):
    """conv(x * style) with per-sample demodulation, computed on activations (StyleGAN2's
    non-fused path): the same result as modulating the weights, without a grouped convolution."""

    def __init__(self, c_in: int, c_out: int, kernel: int, w_dim: int, demodulate: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.affine = nn.Linear(w_dim, c_in)
        nn.init.normal_(self.affine.weight, 0.0, 1 / math.sqrt(w_dim))  # StyleGAN2's effective init
        nn.init.ones_(self.affine.bias)  # styles start near 1: close to the identity modulation
        self.scale = 1 / math.sqrt(c_in * kernel * kernel)
        self.demodulate = demodulate
        self.padding = kernel // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        style = self.affine(w)  # [N, c_in]
        weight = self.weight * self.scale
        out = F.conv2d(x * style[:, :, None, None], weight, padding=self.padding)
        if self.demodulate:
            # sum over (c_in, k, k) of (W * s)^2 for each sample and output channel
            coef = torch.rsqrt(style.pow(2) @ weight.pow(2).sum((2, 3)).t() + 1e-8)  # [N, c_out]
            out = out * coef[:, :, None, None]
        return out + self.bias[None, :, None, None]


class StyleLayer(nn.Module):
    def __init__(self, c_in: int, c_out: int, w_dim: int, size: int):
        super().__init__()
        self.conv = ModulatedConv(c_in, c_out, 3, w_dim)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(1, 1, size, size))
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: str) -> torch.Tensor:
        x = self.conv(x, w)
        if noise == "random":
            x = x + self.noise_strength * torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
        elif noise == "const":
            x = x + self.noise_strength * self.noise_const
        return self.act(x)


class SynthesisNetwork(nn.Module):
    """7x7 constant -> 2 style layers per resolution (7, 14, 28) -> a modulated 1x1 to grey."""

    def __init__(self, cfg: StyleGANConfig):
        super().__init__()
        wide, narrow = 2 * cfg.width, cfg.width
        self.const = nn.Parameter(torch.randn(1, wide, 7, 7))
        self.layers = nn.ModuleList([
            StyleLayer(wide, wide, cfg.w_dim, 7), StyleLayer(wide, wide, cfg.w_dim, 7),
            StyleLayer(wide, wide, cfg.w_dim, 14), StyleLayer(wide, wide, cfg.w_dim, 14),
            StyleLayer(wide, narrow, cfg.w_dim, 28), StyleLayer(narrow, narrow, cfg.w_dim, 28),
        ])
        self.upsample_before = {2, 4}
        self.to_image = ModulatedConv(narrow, cfg.channels, 1, cfg.w_dim, demodulate=False)

    @property
    def num_ws(self) -> int:
        return len(self.layers) + 1

    def forward(self, ws: torch.Tensor, noise: str = "const") -> torch.Tensor:
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        for i, layer in enumerate(self.layers):
            if i in self.upsample_before:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = layer(x, ws[:, i], noise)
        return self.to_image(x, ws[:, -1])


class StyleGANGenerator(nn.Module):
    truncates_in_w = True  # sampling passes psi here instead of shrinking z
    MAPPING_LR_MULT = 0.01
    EQUALISED_LR_MULT = 10.0

    # Layers by resolution, for the style-mixing slider's labels.
    LAYER_NAMES = ("7x7 a", "7x7 b", "14x14 a", "14x14 b", "28x28 a", "28x28 b", "to image")

    def __init__(self, config: StyleGANConfig = StyleGANConfig()):
        super().__init__()
        self.config = config
        self.mapping = MappingNetwork(config)
        self.synthesis = SynthesisNetwork(config)
        self.register_buffer("w_avg", torch.zeros(config.w_dim))

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def num_ws(self) -> int:
        return self.synthesis.num_ws

    def param_groups(self, lr: float) -> list[dict]:
        """Per-part learning rates that give every part StyleGAN2's relative pace under Adam.

        * The synthesis convolutions and the constant input store unit-variance weights scaled at run
          time (equalised learning rate), so an Adam step of ``lr`` moves them 100x less, relative to
          their size, than a DCGAN weight of std 0.02: they get ``lr * 10`` (StyleGAN2 trains at
          0.0025). At ``lr`` alone, 700 steps drew one silhouette in three brightnesses.
        * The mapping network learns 100x slower (StyleGAN's lr multiplier 0.01). At full speed its
          output collapsed onto one direction (99.8 % of w's variance in one principal component).
        """
        mapping = list(self.mapping.parameters())
        equalised = [m.weight for m in self.synthesis.modules() if isinstance(m, ModulatedConv)]
        equalised.append(self.synthesis.const)
        special = {id(p) for p in mapping + equalised}
        rest = [p for p in self.parameters() if id(p) not in special]
        return [{"params": rest, "lr": lr}, {"params": equalised, "lr": lr * self.EQUALISED_LR_MULT},
                {"params": mapping, "lr": lr * self.MAPPING_LR_MULT}]

    def w(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        w = self.mapping(z)
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(w.mean(0).to(self.w_avg.dtype), 1 - self.config.w_avg_beta)
        if psi != 1.0:
            w = self.w_avg + psi * (w - self.w_avg)
        return w

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        return w[:, None, :].expand(-1, self.num_ws, -1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None, psi: float = 1.0) -> torch.Tensor:
        ws = self.broadcast(self.w(z, psi))
        if self.training and self.config.mixing_prob > 0:
            ws = self._mix_for_training(z, ws)
        return self.synthesis(ws, noise="random" if self.training else "const")

    def _mix_for_training(self, z: torch.Tensor, ws: torch.Tensor) -> torch.Tensor:
        """Style-mixing regularisation: part of the batch switches to another w after a random layer,
        so neighbouring layers cannot rely on sharing one style."""
        n = z.shape[0]
        other = self.broadcast(self.mapping(torch.randn_like(z)))
        cut = torch.randint(1, self.num_ws, (n, 1), device=z.device)
        mixed = torch.rand(n, 1, device=z.device) < self.config.mixing_prob
        later = (torch.arange(self.num_ws, device=z.device)[None] >= cut) & mixed
        return torch.where(later[:, :, None], other, ws)

    def mix(self, z_coarse: torch.Tensor, z_fine: torch.Tensor, crossover: int, psi: float = 1.0) -> torch.Tensor:
        """Layers before ``crossover`` styled by ``z_coarse``, the rest by ``z_fine``."""
        ws = self.broadcast(self.w(z_coarse, psi)).clone()
        ws[:, crossover:] = self.broadcast(self.w(z_fine, psi))[:, crossover:]
        return self.synthesis(ws, noise="const")


class StyleGANDiscriminator(nn.Module):
    """A plain strided-conv D with the minibatch-standard-deviation feature (Karras et al. 2018) and
    no normalisation layers, as in StyleGAN; R1 (see training/steps.py) keeps it smooth."""

    def __init__(self, config: StyleGANConfig = StyleGANConfig()):
        super().__init__()
        w = config.width
        # DCGAN's D in size (the CPU budget goes to G, whose styles are the point here).
        self.features = nn.Sequential(
            nn.Conv2d(config.channels, w, 4, 2, 1), nn.LeakyReLU(0.2),  # 14
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2),  # 7
        )
        self.final = nn.Sequential(nn.Conv2d(2 * w + 1, 2 * w, 3, 1, 1), nn.LeakyReLU(0.2), nn.Flatten(),
                                   nn.Linear(2 * w * 49, 1))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.final(minibatch_std(self.features(x))).view(-1)
