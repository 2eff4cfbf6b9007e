"""Model families by name: each a config dataclass plus plain ``nn.Module`` generator and discriminator.

The zoo and the trainers look families up here, so adding one is one file plus one line below.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from torch import nn

from ..errors import UserError
from .cgan import CGANConfig, CGANDiscriminator, CGANGenerator
from .cyclegan import CycleGANConfig, CycleGANPair, PatchDiscriminator
from . import pix2pix
from .dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from .vaegan import VAEGANConfig, VAEGANDiscriminator, VAEGANGenerator
from .stylegan import StyleGANConfig, StyleGANDiscriminator, StyleGANGenerator
from .toy import ToyConfig, ToyDiscriminator, ToyGenerator


@dataclass(frozen=True)
class Family:
    name: str
    config: type
    generator: type[nn.Module]
    discriminator: type[nn.Module]
    conditional: bool = False
    # "image" families sample from noise and train with `train`; "toy" ones with `train-toy`;
    # "translation" ones map photos to photos (the Translate tab, `train cyclegan`); "sketch" ones
    # map line drawings to images (the Sketch tab, `train pix2pix`).
    kind: str = "image"
    title: str = ""  # what a model card calls it
    train_defaults: dict[str, Any] = field(default_factory=dict)  # the trainer's flags that suit it


FAMILIES: dict[str, Family] = {
    "dcgan": Family("dcgan", DCGANConfig, DCGANGenerator, DCGANDiscriminator,
                    title="DCGAN (Radford et al. 2016)"),
    "cgan": Family("cgan", CGANConfig, CGANGenerator, CGANDiscriminator, conditional=True,
                   title="Conditional DCGAN (Mirza & Osindero 2014, projection D of Miyato & Koyama 2018)",
                   # Without mode seeking G ignored z and drew one image per class (see steps.py).
                   train_defaults={"loss": "hinge", "mode_seeking": 1.0}),
    "vaegan": Family("vaegan", VAEGANConfig, VAEGANGenerator, VAEGANDiscriminator,
                     title="VAE-GAN (Larsen et al. 2016): a VAE whose decoder is a GAN generator"),
    "stylegan": Family("stylegan", StyleGANConfig, StyleGANGenerator, StyleGANDiscriminator,
                       title="StyleGAN (Karras et al. 2019; modulated convolutions of StyleGAN2)",
                       train_defaults={"loss": "ns", "r1": 0.1, "beta1": 0.0, "beta2": 0.99}),
    "toy": Family("toy", ToyConfig, ToyGenerator, ToyDiscriminator, kind="toy"),
    "cyclegan": Family("cyclegan", CycleGANConfig, CycleGANPair, PatchDiscriminator, kind="translation",
                       title="CycleGAN (Zhu et al. 2017), the reference ResnetGenerator and 70x70 PatchGAN"),
    "pix2pix": Family("pix2pix", pix2pix.Pix2PixConfig, pix2pix.Pix2PixGenerator, pix2pix.PatchDiscriminator,
                      kind="sketch", title="pix2pix (Isola et al. 2017): a U-Net G and a PatchGAN on pairs"),
}


def get_family(name: str) -> Family:
    if name not in FAMILIES:
        raise UserError(f"Unknown model family {name!r}; choose one of: {', '.join(FAMILIES)}.")
    return FAMILIES[name]


def config_from_dict(family: Family, values: dict[str, Any]):
    """Build a family's config from a card's dict, ignoring keys that the dataclass lacks."""
    known = {f.name for f in fields(family.config)}
    return family.config(**{k: v for k, v in values.items() if k in known})


def image_families() -> list[str]:
    return sorted(name for name, f in FAMILIES.items() if f.kind == "image")
