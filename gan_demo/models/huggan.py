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
* ``PGGANGenerator``: genforce/sefa, ``models/pggan_generator.py`` @ 69467f2f4406a42f960f15d12cac548036416f50
  (MIT), the generator of ``huggan/pggan-celebahq-1024`` (the Space ``huggan/sefa`` pushed its
  ``state_dict()`` with ``PyTorchModelHubMixin``): 55 tensors, ``lod`` and ``layer0..17`` /
  ``output0..8``, 23,079,116 numbers (the file's 92.3 MB). Pixel norm before every convolution (the
  toRGB ones too), weights scaled at run time (equalised learning rate), no tanh at the end.
* ``FastGANGenerator``: silentz/Towards-Faster-And-Stabilized-GAN-Training-For-High-Fidelity-Few-Shot-Image-Synthesis,
  ``src/models.py`` @ 083431f891b71774a0ec74ce2e1dd92b346fa979 and ``src/layers.py`` @
  b645a15c3f5293d74d04713be3565ca9611a5c23; the ``huggan/fastgan-few-shot-*`` repos ship a copy with
  ``Conv2d`` renamed ``SpectralConv2d`` and an ``InitLayer`` (spectral transposed convolution, batch
  norm, GLU: the GLU is every FastGAN's, though the stored page of the Hub's file broke off before
  it). 142 tensors, 29,176,512 weights, 117.02 MB: the files' 117 MB. Which of the original's two
  outputs comes first differs between its versions; we compute the 1024 x 1024 one by name.

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


# ---- PGGAN (Karras et al. 2018) as genforce/sefa ports it ----------------------------------------

class PixelNorm(nn.Module):
    """Each pixel's feature vector scaled to unit root-mean-square (PGGAN section 4.2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / torch.sqrt(torch.mean(x ** 2, dim=1, keepdim=True) + 1e-8)


class PGGANConvBlock(nn.Module):
    """sefa's ``ConvBlock`` without its unused options (bias always, no fused up-convolution):
    pixel norm, optional nearest 2x upsample, a convolution with the equalised learning rate (weights
    stored unscaled, scaled by gain / sqrt(fan-in) at run time), leaky ReLU or linear."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, padding: int = 1,
                 upsample: bool = False, gain: float = 2 ** 0.5, linear: bool = False):
        super().__init__()
        self.pixel_norm = PixelNorm()
        self.upsample = upsample
        self.padding = padding
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.wscale = gain / (kernel_size * kernel_size * in_channels) ** 0.5
        # A module, not a function: GANSpace's PCA (directions.py) finds the first activation by it.
        self.activate = nn.Identity() if linear else nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from torch.nn import functional as F

        x = self.pixel_norm(x)
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.activate(F.conv2d(x, self.weight * self.wscale, self.bias, padding=self.padding))


class PGGANGenerator(nn.Module):
    """PGGAN's generator with sefa's state-dict keys (``lod``, ``layer{0..2L-1}``, ``output{0..L-1}``):
    z [B, 512] (pixel-normalised inside) -> RGB in about [-1, 1], two convolutions per resolution
    from 4 x 4 up, channels min(16384 / res, 512).

    It always runs to full resolution (sefa's ``lod`` 0): the lower levels' toRGB layers were left
    behind as growing moved on. ``psi`` < 1 pulls the 4 x 4 features toward their mean over many z: the truncation trick
    (Karras et al. 2019) in the first layer's space, since a pixel-normalised z has no length to
    shrink (PGGAN itself has none).
    """

    takes_psi = True  # sampling.render passes the truncation to G instead of scaling z

    def __init__(self, resolution: int = 1024, z_dim: int = 512, display_res: int | None = None,
                 fmaps_base: int = 16 << 10, fmaps_max: int = 512):
        super().__init__()
        self.latent_dim = z_dim
        self.display_res = display_res  # area-downsampled to this for the screen (None: as made)
        self.resolution = resolution
        self.levels = resolution.bit_length() - 2  # 4, 8, ..., resolution
        self.register_buffer("lod", torch.zeros(()))

        def nf(res: int) -> int:
            return min(fmaps_base // res, fmaps_max)

        for i in range(self.levels):
            res = 4 << i
            if i == 0:  # the "Dense" layer: a 4 x 4 convolution with padding 3 on the 1 x 1 code
                first = PGGANConvBlock(z_dim, nf(res), kernel_size=4, padding=3)
            else:
                first = PGGANConvBlock(nf(res // 2), nf(res), upsample=True)
            self.add_module(f"layer{2 * i}", first)
            self.add_module(f"layer{2 * i + 1}", PGGANConvBlock(nf(res), nf(res)))
            self.add_module(f"output{i}", PGGANConvBlock(nf(res), 3, kernel_size=1, padding=0, gain=1.0,
                                                         linear=True))
        self._mean4: torch.Tensor | None = None

    @torch.no_grad()
    def mean_features(self) -> torch.Tensor:
        """The 4 x 4 features' mean over 2,048 fixed z (computed once): the truncation's centre."""
        if self._mean4 is None or self._mean4.device != self.lod.device:
            z = torch.randn(2048, self.latent_dim, generator=torch.Generator().manual_seed(0)).to(self.lod.device)
            self._mean4 = self.layer0(z[:, :, None, None]).mean(0, keepdim=True)
        return self._mean4

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None, psi: float = 1.0) -> torch.Tensor:
        x = self.layer0(z.reshape(len(z), self.latent_dim, 1, 1))  # layer0 pixel-normalises z itself
        if psi != 1.0:
            mean = self.mean_features()
            x = mean + psi * (x - mean)
        x = self.layer1(x)
        for i in range(1, self.levels):
            x = getattr(self, f"layer{2 * i + 1}")(getattr(self, f"layer{2 * i}")(x))
        image = getattr(self, f"output{self.levels - 1}")(x)
        if self.display_res and self.display_res < self.resolution:
            from torch.nn import functional as F

            image = F.adaptive_avg_pool2d(image, self.display_res)
        return image


# ---- FastGAN (Liu et al. 2021) as the huggan fastgan-few-shot repos ship it ----------------------

class Spectral(nn.Module):
    """A convolution (or transposed one) under the legacy spectral norm, kept as ``_conv``: the
    released keys are ``..._conv.weight_orig``, ``weight_u`` and ``weight_v``."""

    def __init__(self, conv: nn.Module):
        super().__init__()
        self._conv = nn.utils.spectral_norm(conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv(x)


class FixedNoise(nn.Module):
    """FastGAN's per-pixel noise (``_weight`` x N(0, 1)), drawn once per size from a fixed seed
    and shared by every sample: the same z always gives the same picture (a slider moves it
    smoothly, where fresh noise on every call flickered), and no request touches the global RNG."""

    def __init__(self):
        super().__init__()
        self._weight = nn.Parameter(torch.zeros(1))
        self._maps: dict[tuple, torch.Tensor] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        key = (x.shape[2], x.shape[3], x.device, x.dtype)
        if key not in self._maps:
            gen = torch.Generator().manual_seed(x.shape[2])
            self._maps[key] = torch.randn(1, 1, x.shape[2], x.shape[3], generator=gen).to(x.device, x.dtype)
        return x + self._weight * self._maps[key]


def _up_t1(i: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                         Spectral(nn.Conv2d(i, o * 2, 3, 1, padding="same", bias=False)), nn.BatchNorm2d(o * 2),
                         nn.GLU(dim=1))


def _up_t2(i: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                         Spectral(nn.Conv2d(i, o * 2, 3, 1, padding="same", bias=False)), FixedNoise(),
                         nn.BatchNorm2d(o * 2), nn.GLU(dim=1),
                         Spectral(nn.Conv2d(o, o * 2, 3, 1, padding="same", bias=False)), FixedNoise(),
                         nn.BatchNorm2d(o * 2), nn.GLU(dim=1))


class _Layers(nn.Module):
    """A block whose layers sit under ``_layers`` (the released keys' prefix)."""

    def __init__(self, layers: nn.Sequential):
        super().__init__()
        self._layers = layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._layers(x)


class SLEBlock(nn.Module):
    """Skip-layer excitation: a low-resolution map gates a high-resolution one's channels."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self._layers = nn.Sequential(nn.AdaptiveAvgPool2d(4), Spectral(nn.Conv2d(in_channels, out_channels, 4, 1, 0, bias=False)),
                                     nn.SiLU(), Spectral(nn.Conv2d(out_channels, out_channels, 1, 1, 0, bias=False)),
                                     nn.Sigmoid())

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        return high * self._layers(low)


class FastGANGenerator(nn.Module):
    """FastGAN's generator with the keys of huggan's ``fastgan-few-shot-*`` files: noise [B, 256]
    -> a 1024 x 1024 RGB picture in [-1, 1] (the 128 x 128 side output, a training aid, is not
    computed), area-averaged to ``display_res`` for the screen. Eval mode: batch norm's running
    statistics, spectral norm's stored vectors."""

    CHANNELS = {4: 1024, 8: 512, 16: 256, 32: 128, 64: 128, 128: 64, 256: 32, 512: 16, 1024: 8}

    def __init__(self, in_channels: int = 256, out_channels: int = 3, display_res: int | None = None):
        super().__init__()
        c = self.CHANNELS
        self.latent_dim = in_channels
        self.display_res = display_res
        self._init = _Layers(nn.Sequential(Spectral(nn.ConvTranspose2d(in_channels, c[4] * 2, 4, 1, 0, bias=False)),
                                           nn.BatchNorm2d(c[4] * 2), nn.GLU(dim=1)))
        for res in (8, 16, 32, 64, 128, 256, 512, 1024):
            block = _up_t2 if res in (8, 32, 128, 512) else _up_t1
            self.add_module(f"_upsample_{res}", _Layers(block(c[res // 2], c[res])))
        for low, res in ((4, 64), (8, 128), (16, 256), (32, 512)):
            self.add_module(f"_sle_{res}", SLEBlock(c[low], c[res]))
        self._out_128 = nn.Sequential(Spectral(nn.Conv2d(c[128], out_channels, 1, 1, padding="same", bias=False)),
                                      nn.Tanh())
        self._out_1024 = nn.Sequential(Spectral(nn.Conv2d(c[1024], out_channels, 3, 1, padding="same", bias=False)),
                                       nn.Tanh())

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x4 = self._init(z.reshape(len(z), self.latent_dim, 1, 1))
        x8 = self._upsample_8(x4)
        x16 = self._upsample_16(x8)
        x32 = self._upsample_32(x16)
        x64 = self._sle_64(x4, self._upsample_64(x32))
        x128 = self._sle_128(x8, self._upsample_128(x64))
        x256 = self._sle_256(x16, self._upsample_256(x128))
        x512 = self._sle_512(x32, self._upsample_512(x256))
        image = self._out_1024(self._upsample_1024(x512))
        if self.display_res and self.display_res < image.shape[-1]:
            from torch.nn import functional as F

            image = F.adaptive_avg_pool2d(image, self.display_res)
        return image
