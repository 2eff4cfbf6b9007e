"""CycleGAN's networks (Zhu, Park, Isola, Efros 2017), laid out as in junyanz/pytorch-CycleGAN-and-pix2pix.

The generator is the reference ``ResnetGenerator`` (c7s1-64, two stride-2 downsamplings, residual
blocks, two transposed-convolution upsamplings, c7s1-3, tanh) with instance norm without affine
parameters or running statistics, reflection padding and conv biases. Its ``nn.Sequential`` is
built in the same order, so its state-dict keys (``model.1.weight``, ``model.10.conv_block.1.weight``,
..., ``model.26.bias``) are those of the released ``latest_net_G.pth`` / ``horse2zebra.pth`` files
and those files load as they are (see ``load_reference_state_dict``).

``ResidualGenerator`` is ours, for photos on a CPU: the same encoder and residual blocks, but it
upsamples by nearest-neighbour resize + convolution instead of transposed convolutions (whose 3x3
kernel at stride 2 paints a checkerboard: Odena, Dumoulin, Olah 2016, "Deconvolution and
Checkerboard Artifacts"). It paints a whole picture, as the reference does, but a translation uses
it as a change, ``G(x) - x``: computed at a small working scale and laid onto the photo at the
photo's own size (``compose``), so where G repaints the scene as it was (the identity and cycle
losses teach it to leave sky and grass alone) the photo keeps its own pixels and sharpness.
(Predicting the change itself, ``x + change``, or a mask over a paint layer as attention-guided
CycleGANs do, made "change nothing" the easiest answer: both shut themselves within a few hundred
steps here, a perfect cycle with no zebra.)

The discriminator is the reference 70x70 PatchGAN (``NLayerDiscriminator``, three stride-2 layers):
one real/fake score per overlapping 70x70 patch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class CycleGANConfig:
    ngf: int = 64  # generator channels after the first layer
    n_blocks: int = 9  # "resnet_9blocks" (6 for the reference's 128x128 setting)
    ndf: int = 64  # discriminator channels of its first layer
    n_layers_d: int = 3  # 3 gives the 70x70 receptive field
    channels: int = 3
    generator: str = "resnet"  # "resnet": the reference ResnetGenerator; "residual": ResidualGenerator;
    # "attention": AttentionGenerator
    # how ours upsample: "resize" (nearest + 3x3 convolution) or "subpixel" (a 3x3 convolution to
    # 4x the channels + PixelShuffle, ICNR-initialised); the reference always uses transposed ones
    decoder: str = "resize"


# The reference repository's 256x256 generator, and ours for a 100 ms CPU translation.
REFERENCE = CycleGANConfig()
SMALL = CycleGANConfig(ngf=16, n_blocks=6, ndf=32)
RESIDUAL = CycleGANConfig(ngf=16, n_blocks=6, ndf=32, generator="residual")
ATTENTION = CycleGANConfig(ngf=16, n_blocks=6, ndf=32, generator="attention")


def _norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), _norm(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), _norm(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, config: CycleGANConfig = REFERENCE):
        super().__init__()
        self.config = config
        ngf, c = config.ngf, config.channels
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(c, ngf, 7, bias=True), _norm(ngf), nn.ReLU(True)]
        for mult in (1, 2):
            layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=True),
                       _norm(ngf * mult * 2), nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4) for _ in range(config.n_blocks)]
        for mult in (4, 2):
            layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2, padding=1,
                                          output_padding=1, bias=True),
                       _norm(ngf * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, c, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [-1, 1], height and width multiples of 4 -> the translated image, same size."""
        return self.model(x)


def _resize_conv_layers(config: CycleGANConfig, out_channels: int) -> list[nn.Module]:
    """The encoder and residual blocks of ``ResnetGenerator``, then a resize-convolution decoder
    ending in a 7x7 convolution to ``out_channels`` (no output activation)."""
    ngf, c = config.ngf, config.channels
    layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(c, ngf, 7), _norm(ngf), nn.ReLU(True)]
    for mult in (1, 2):
        layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1),
                   _norm(ngf * mult * 2), nn.ReLU(True)]
    layers += [ResnetBlock(ngf * 4) for _ in range(config.n_blocks)]
    if config.decoder not in ("resize", "subpixel"):
        raise ValueError(f"unknown CycleGAN decoder {config.decoder!r} (resize or subpixel)")
    for mult in (4, 2):
        if config.decoder == "subpixel":
            layers += [nn.ReflectionPad2d(1), SubpixelConv(ngf * mult, ngf * mult // 2),
                       nn.PixelShuffle(2), _norm(ngf * mult // 2), nn.ReLU(True)]
        else:
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1),
                       nn.Conv2d(ngf * mult, ngf * mult // 2, 3), _norm(ngf * mult // 2), nn.ReLU(True)]
    return layers + [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7)]


class SubpixelConv(nn.Conv2d):
    """A 3x3 convolution to 4x ``out_channels`` for ``PixelShuffle(2)`` (Shi et al. 2016), initialised
    by ICNR (Aitken et al. 2017, "Checkerboard artifact free sub-pixel convolution"): the four
    sub-pixel kernels of each channel start equal, so at initialisation it is exactly a nearest
    resize + convolution, with no checkerboard, yet unlike a resize it can learn detail finer than
    its input's pixels (zebra stripes a few pixels apart) without the uneven overlap that makes a
    3x3 transposed convolution at stride 2 paint a grid."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(in_channels, out_channels * 4, 3)

    def reset_icnr(self) -> None:
        with torch.no_grad():
            kernel = torch.empty(self.out_channels // 4, *self.weight.shape[1:]).normal_(0.0, 0.02)
            self.weight.copy_(kernel.repeat_interleave(4, dim=0))  # PixelShuffle reads channel c*4 + i
            self.bias.zero_()


def _resize(x: torch.Tensor, size) -> torch.Tensor:
    return x if x.shape[-2:] == tuple(size) else F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ResidualGenerator(nn.Module):
    """Encoder and residual blocks as ``ResnetGenerator``, a resize-convolution decoder, a tanh
    picture as its output, read as a change to the input by ``change``. See the module docstring."""

    def __init__(self, config: CycleGANConfig = RESIDUAL):
        super().__init__()
        self.config = config
        self.model = nn.Sequential(*_resize_conv_layers(config, config.channels), nn.Tanh())
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def change(self, x: torch.Tensor) -> torch.Tensor:
        """What G does to ``x`` (at the working scale): ``G(x) - x``, in [-2, 2]."""
        return self.model(x) - x

    @staticmethod
    def compose(photo: torch.Tensor, change: torch.Tensor) -> torch.Tensor:
        """Lay a change computed at the working scale onto the photo at its own size (bilinear)."""
        return (photo + _resize(change, photo.shape[-2:])).clamp(-1, 1)

    def lay_onto(self, photo: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """G run on ``x`` (the photo at the working scale), laid onto ``photo`` at its own size."""
        return self.compose(photo, self.change(x))


class AttentionGenerator(nn.Module):
    """The attention-guided CycleGAN's generator (Mejjati et al. 2018; Tang et al. 2019,
    "AttentionGAN"): the same network paints a picture (tanh) and a mask (sigmoid) of where to use
    it; the output is ``mask * paint + (1 - mask) * x``. Where the mask is 0 the photo is the
    photo, pixel for pixel and at its own size (``lay_onto``): sky, sea and grass cannot be
    repainted by accident, and G's capacity goes to the horse. The mask also shows a student
    what G decided is the horse."""

    def __init__(self, config: CycleGANConfig = ATTENTION):
        super().__init__()
        self.config = config
        self.model = nn.Sequential(*_resize_conv_layers(config, config.channels + 1))
        self.apply(init_weights)

    def parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(paint in [-1, 1], mask in [0, 1]) at the working scale."""
        out = self.model(x)
        return torch.tanh(out[:, :-1]), torch.sigmoid(out[:, -1:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        paint, mask = self.parts(x)
        return mask * paint + (1 - mask) * x

    def lay_onto(self, photo: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Paint and mask from ``x`` (the photo at the working scale), upsampled and laid onto
        ``photo`` at its own size, so the unmasked photo keeps every pixel."""
        paint, mask = self.parts(x)
        paint, mask = _resize(paint, photo.shape[-2:]), _resize(mask, photo.shape[-2:])
        return (mask * paint + (1 - mask) * photo).clamp(-1, 1)


def define_G(config: CycleGANConfig) -> nn.Module:
    """The generator a config names (the reference's ``define_G``)."""
    if config.generator == "residual":
        return ResidualGenerator(config)
    if config.generator == "attention":
        return AttentionGenerator(config)
    if config.generator == "resnet":
        return ResnetGenerator(config)
    raise ValueError(f"unknown CycleGAN generator {config.generator!r} (resnet, residual or attention)")


class PatchDiscriminator(nn.Module):
    """The reference NLayerDiscriminator: a map of logits, one per 70x70 patch (n_layers 3)."""

    def __init__(self, config: CycleGANConfig = REFERENCE):
        super().__init__()
        ndf = config.ndf
        layers: list[nn.Module] = [nn.Conv2d(config.channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, config.n_layers_d):
            prev, mult = mult, min(2 ** n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1, bias=True), _norm(ndf * mult),
                       nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2 ** config.n_layers_d, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 1, 1, bias=True), _norm(ndf * mult),
                   nn.LeakyReLU(0.2, True), nn.Conv2d(ndf * mult, 1, 4, 1, 1)]
        self.model = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PatchNCEHeads(nn.Module):
    """CUT's ``PatchSampleF`` (Park, Efros, Zhang, Zhu 2020, "Contrastive Learning for Unpaired
    Image-to-Image Translation"; taesungp/contrastive-unpaired-translation): for each of G's encoder
    layers that ``nce_layers`` names, a two-layer MLP (to 256, ReLU, 256) that maps a feature vector at one
    spatial position to a unit vector. A patch of the translated picture and the patch of the input
    at the same place should map close together, and far from the input's other patches: that keeps
    the photo's content without asking G to undo its own change, as a cycle loss does."""

    def __init__(self, config: CycleGANConfig, dim: int = 256):
        super().__init__()
        self.layers = nce_layers(config)
        channels = {i: c for i, c in zip(self.layers, encoder_channels(config, self.layers))}
        self.mlps = nn.ModuleList(nn.Sequential(nn.Linear(channels[i], dim), nn.ReLU(), nn.Linear(dim, dim))
                                  for i in self.layers)
        for mlp in self.mlps:  # the reference's init_net(init_type='normal', init_gain=0.02)
            for m in mlp:
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, 0.02)
                    nn.init.zeros_(m.bias)

    def forward(self, feats: list[torch.Tensor], ids: list[torch.Tensor]) -> list[torch.Tensor]:
        """Features [B, C, H, W] per layer, positions (indices into H * W) per layer -> [B * P, dim]
        unit vectors per layer, the same positions in every picture of the batch."""
        out = []
        for mlp, f, idx in zip(self.mlps, feats, ids):
            picked = f.flatten(2).transpose(1, 2)[:, idx].flatten(0, 1)  # [B * P, C]
            out.append(F.normalize(mlp(picked), dim=1))
        return out


def nce_layers(config: CycleGANConfig) -> tuple[int, ...]:
    """CUT's ``--nce_layers 0,4,8,12,16`` for resnet_9blocks: the padded input, the two downsampling
    convolutions, the third residual block and the seventh (here the last, with fewer blocks)."""
    last_block = 9 + config.n_blocks
    return (0, 4, 8, min(12, last_block), min(16, last_block))


def encoder_channels(config: CycleGANConfig, layers) -> list[int]:
    """Channels of ``model[i]``'s output in the encoder of a resnet / residual generator."""
    ngf = config.ngf
    return [config.channels if i < 1 else ngf if i < 4 else ngf * 2 if i < 7 else ngf * 4 for i in layers]


def run_with_features(G: nn.Module, x: torch.Tensor, layers, full: bool = True
                      ) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
    """``G.model(x)`` and the outputs of its layers in ``layers``; with ``full=False`` it stops after
    the last of them (CUT's ``encode_only``) and returns None for the picture."""
    feats, h, last = [], x, max(layers)
    for i, layer in enumerate(G.model):
        h = layer(h)
        if i in layers:
            feats.append(h)
        if i == last and not full:
            return None, feats
    return h, feats


def patch_nce_loss(q: torch.Tensor, k: torch.Tensor, batch: int, temperature: float = 0.07) -> torch.Tensor:
    """CUT's ``PatchNCELoss`` for one layer: each query patch [B * P, D] against the key patch at
    the same place (positive) and the other P - 1 key patches of its own picture (negatives),
    cross-entropy at temperature 0.07. The keys carry no gradient."""
    k = k.detach()
    d = q.shape[1]
    positive = (q * k).sum(1, keepdim=True)
    q_, k_ = q.view(batch, -1, d), k.view(batch, -1, d)
    n = q_.shape[1]
    negative = torch.bmm(q_, k_.transpose(1, 2))
    negative = negative.masked_fill(torch.eye(n, dtype=torch.bool, device=q.device)[None], -10.0).view(-1, n)
    logits = torch.cat([positive, negative], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=q.device))


def init_weights(module: nn.Module) -> None:
    """The reference's ``init_type='normal'``: N(0, 0.02) weights, zero biases (ICNR for ours)."""
    if isinstance(module, SubpixelConv):
        module.reset_icnr()
    elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


# What old PyTorch versions saved for InstanceNorm layers; the released horse2zebra file has them.
_STALE_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


def config_from_state_dict(state: dict[str, torch.Tensor]) -> CycleGANConfig:
    """Read ngf and the number of residual blocks off a reference-layout state dict."""
    first = state.get("model.1.weight")
    if first is None or first.dim() != 4 or first.shape[2:] != (7, 7):
        raise ValueError("this is not a CycleGAN ResnetGenerator state dict (no 7x7 'model.1.weight'); "
                         "only --netG resnet_9blocks / resnet_6blocks files load here")
    blocks = {int(k.split(".")[1]) for k in state if ".conv_block." in k}
    return CycleGANConfig(ngf=int(first.shape[0]), n_blocks=len(blocks), channels=int(first.shape[1]))


def load_reference_state_dict(state: dict[str, torch.Tensor]) -> ResnetGenerator:
    """A ResnetGenerator from a released ``*_net_G*.pth`` state dict, with one clear sentence on
    a mismatch (a U-Net generator, a model trained with dropout, a truncated file)."""
    state = {k.removeprefix("module."): v for k, v in state.items()
             if not k.endswith(_STALE_SUFFIXES)}
    if any(".conv_block.6." in k for k in state):
        raise ValueError("this generator was trained with dropout (--no_dropout was not set); "
                         "its residual blocks have another layout than the released CycleGAN models")
    G = ResnetGenerator(config_from_state_dict(state))
    missing, unexpected = G.load_state_dict(state, strict=False)
    if missing or unexpected:
        detail = "missing " + ", ".join(missing[:3]) if missing else "unexpected " + ", ".join(unexpected[:3])
        raise ValueError(f"the state dict does not match a CycleGAN ResnetGenerator ({detail})")
    return G.eval()


class CycleGANPair(nn.Module):
    """Both generators in one module, so one safetensors file holds a translation model:
    ``G_AB`` (domain A to B, e.g. horse to zebra) and ``G_BA`` (back)."""

    def __init__(self, config: CycleGANConfig = REFERENCE):
        super().__init__()
        self.config = config
        self.G_AB = define_G(config)
        self.G_BA = define_G(config)

    def forward(self, x: torch.Tensor, direction: str = "AtoB") -> torch.Tensor:
        return (self.G_AB if direction == "AtoB" else self.G_BA)(x)
