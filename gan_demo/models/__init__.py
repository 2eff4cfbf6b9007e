"""Model families by name: each a config dataclass plus plain ``nn.Module`` generator and discriminator.

The zoo and the trainers look families up here, so adding one is one file plus one line below.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from torch import nn

from ..errors import UserError
from .cgan import CGANConfig, CGANDiscriminator, CGANGenerator
from .dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from .toy import ToyConfig, ToyDiscriminator, ToyGenerator


@dataclass(frozen=True)
class Family:
    name: str
    config: type
    generator: type[nn.Module]
    discriminator: type[nn.Module]
    conditional: bool = False
    kind: str = "image"  # "image" families train with `train`, "toy" ones with `train-toy`
    title: str = ""  # what a model card calls it


FAMILIES: dict[str, Family] = {
    "dcgan": Family("dcgan", DCGANConfig, DCGANGenerator, DCGANDiscriminator,
                    title="DCGAN (Radford et al. 2016)"),
    "cgan": Family("cgan", CGANConfig, CGANGenerator, CGANDiscriminator, conditional=True,
                   title="Conditional DCGAN (Mirza & Osindero 2014, projection D of Miyato & Koyama 2018)"),
    "toy": Family("toy", ToyConfig, ToyGenerator, ToyDiscriminator, kind="toy"),
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
