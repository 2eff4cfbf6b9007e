"""Famous GANs from the Hugging Face Hub: a small registry, pinned to the commit we checked, fetched
once into the cache and loaded strictly.

Each entry names the repo, the revision (a commit hash: the file we checked against the
architecture's source), the weights file, its licence, its architecture (``models/huggan.py``) and
its size. ``load`` downloads the file once into ``$GAN_DEMO_CACHE/hub`` (``huggingface_hub``,
after a 3-second look at the Hub so an offline server answers at once), reads it with
``torch.load(weights_only=True)`` (tensors only, no code from a pickle) and loads it with
``strict=True``: a file whose keys or shapes do not match the architecture is refused with one
sentence and deleted from the cache. Offline, a model not yet in the cache is one sentence too.

``$GAN_DEMO_HUB_MIRROR`` (or ``mirror=``) names a folder laid out like the Hub (``OWNER/REPO/FILE``)
to fetch from instead: the tests' stand-ins, or a copy made on a machine with a network.
"""

from __future__ import annotations

import os
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from .errors import Unavailable, UserError
from .models.huggan import FastGANGenerator, GeneratorUNet, HugGANDCGAN, PGGANGenerator

CACHE_ENV = "GAN_DEMO_CACHE"
MIRROR_ENV = "GAN_DEMO_HUB_MIRROR"


@dataclass(frozen=True)
class HubModel:
    """One pinned Hub checkpoint; ``config`` is what the samplers read (latent size, image size)."""

    name: str  # how the model lists show it
    repo: str
    revision: str  # the commit whose file was checked against ``source``
    filename: str
    licence: str
    architecture: str  # a key of ARCHITECTURES
    kind: str  # "sample" (noise -> image: Explore, Interpolate) or "sketch" (a drawing -> an image)
    size_mb: float
    source: str  # where the architecture's code is: repo, path, commit
    description: str
    dataset: str
    config: tuple[tuple[str, int], ...] = ()  # latent_dim, image_size, channels (a tuple: frozen)
    request_ms: int = 0  # one picture through the app on our 2-core CPU (benchmarks/hub_latency.py, p50)
    max_grid: int = 64  # the most pictures one Explore request draws (a slow model's grid stays quick)


ARCHITECTURES: dict[str, Callable[[], nn.Module]] = {
    "huggan-dcgan": HugGANDCGAN,
    "pix2pix-unet": GeneratorUNet,
    # Made at its full 1024 x 1024 (see PGGANGenerator) and shown at 256.
    "pggan-1024": lambda: PGGANGenerator(1024, display_res=256),
    "fastgan-1024": lambda: FastGANGenerator(256, 3, display_res=256),
}

FASTGAN_SOURCE = ("silentz/Towards-Faster-And-Stabilized-GAN-Training-For-High-Fidelity-Few-Shot-Image-Synthesis "
                  "src/models.py @ 083431f8, src/layers.py @ b645a15c (the Hub repos ship a renamed copy)")
FASTGAN_LICENCE = "MIT (the model card); the generator code's repository declares none"

REGISTRY: dict[str, HubModel] = {m.name: m for m in (
    HubModel(
        name="hub-dcgan-mnist", repo="huggan/dcgan-mnist", revision="4912c6248be801333246b779f5c8e8a8ad343841",
        filename="pytorch_model.bin", licence="none declared by the model repo (code: Apache-2.0)",
        architecture="huggan-dcgan", kind="sample", size_mb=14.3,
        source="huggingface/community-events huggan/pytorch/dcgan/modeling_dcgan.py @ 6dafdff2",
        description="DCGAN on MNIST from the HugGAN community event: noise of 100 numbers -> a 64 x 64 digit "
                    "(trained as RGB).", dataset="mnist (64 x 64, RGB)",
        config=(("latent_dim", 100), ("image_size", 64), ("channels", 3)), request_ms=5),
    HubModel(
        name="hub-pix2pix-edges2shoes", repo="huggan/pix2pix-edge2shoes",
        revision="64c0964925eddf9e83f45481fb2f8a99638523ad", filename="pytorch_model.bin", licence="MIT",
        architecture="pix2pix-unet", kind="sketch", size_mb=218.0,
        source="huggingface/community-events huggan/pytorch/pix2pix/modeling_pix2pix.py @ 33a0ed27",
        description="pix2pix from the HugGAN community event, trained 100 epochs on edges2shoes (50,025 pairs): "
                    "a line drawing of a shoe -> a 256 x 256 photo of one.", dataset="edges2shoes (256 x 256)",
        config=(("image_size", 256), ("channels", 3)), request_ms=400),
    HubModel(
        name="hub-pggan-celebahq", repo="huggan/pggan-celebahq-1024",
        revision="278449f8416d38a0233c980774528d32c4eee99c", filename="pytorch_model.bin",
        licence="CC BY-NC 4.0 (NVIDIA's PGGAN CelebA-HQ snapshot, ported by genforce/sefa; the Hub repo "
                "says apache-2.0); generator code MIT", architecture="pggan-1024", kind="sample", size_mb=92.3,
        source="genforce/sefa models/pggan_generator.py @ 69467f2f",
        description="Progressive GAN (Karras et al. 2018) on CelebA-HQ: 512 noise numbers -> a face, made at "
                    "1024 x 1024 and shown at 256. No mapping network: truncation pulls its first 4 x 4 "
                    "features toward their mean.", dataset="celebahq (1024 x 1024)",
        config=(("latent_dim", 512), ("image_size", 256), ("channels", 3)), request_ms=1100, max_grid=4),
    *(HubModel(
        name=f"hub-fastgan-{subject}", repo=f"huggan/fastgan-few-shot-{subject}", revision=revision,
        filename="pytorch_model.bin", licence=FASTGAN_LICENCE, architecture="fastgan-1024", kind="sample",
        size_mb=117.0, source=FASTGAN_SOURCE,
        description=f"FastGAN (Liu et al. 2021), trained from few images (huggan/few-shot-{subject}): 256 noise "
                    f"numbers -> {what}, made at 1024 x 1024 and shown at 256. Its per-pixel noise is drawn once "
                    "and kept, so a seed always gives the same picture.",
        dataset=f"huggan/few-shot-{subject} (1024 x 1024)",
        config=(("latent_dim", 256), ("image_size", 256), ("channels", 3)), request_ms=600, max_grid=4)
      for subject, revision, what in (("anime-face", "1215d6bb570f1e96962f24cb50f1398a62e12ff7", "an anime face"),
                                      ("shells", "698843e8a0c88fb7384898ca5f09f82b55b26a93", "a sea shell"))),
)}


def names(kind: str = "sample") -> list[str]:
    return [m.name for m in REGISTRY.values() if m.kind == kind]


def card(name: str) -> dict:
    """A zoo-style card for the model lists and summaries: what it is, where from, under which
    licence, and whether this server has it yet."""
    model = get(name)
    return {"name": model.name, "family": f"hub:{model.architecture}", "hub": True, "dataset": model.dataset,
            "config": dict(model.config), "description": model.description,
            "licence": model.licence, "repo": model.repo, "revision": model.revision, "source": model.source,
            "size_mb": model.size_mb, "request_ms": model.request_ms, "max_grid": model.max_grid,
            "cached": is_cached(name)}


def label(name: str) -> str:
    """How a model list shows a Hub model: marked, and whether it still needs a network."""
    return f"{name} (Hub{'' if is_cached(name) else ', needs a network'})"


def load(name: str, device: str = "cpu", mirror: Path | None = None):
    """The model as a ``zoo.LoadedModel`` the samplers and tabs use like one of ours."""
    from .zoo import LoadedModel

    return LoadedModel(name, load_weights(name, mirror).to(device), card(name))


def get(name: str) -> HubModel:
    if name not in REGISTRY:
        raise UserError(f"Unknown Hub model {name!r}; choose one of: {', '.join(REGISTRY)}.")
    return REGISTRY[name]


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "gan_playground") / "hub"


def cached_path(model: HubModel) -> Path:
    return cache_dir() / model.repo.replace("/", "--") / model.revision / model.filename


def is_cached(name: str) -> bool:
    return cached_path(get(name)).is_file()


def fetch(name: str, mirror: Path | None = None) -> Path:
    """The model's weights file in the cache, downloaded there once (from ``mirror`` when given)."""
    model = get(name)
    path = cached_path(model)
    if path.is_file():
        return path
    mirror = mirror or (Path(os.environ[MIRROR_ENV]) if os.environ.get(MIRROR_ENV) else None)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    try:
        if mirror is not None:
            shutil.copyfile(mirror / model.repo / model.filename, partial)
        else:
            _download(model, partial)
        partial.replace(path)
    except UserError:
        partial.unlink(missing_ok=True)
        raise
    except Exception as exc:  # no network, a repo gone, a disk full: one sentence either way
        partial.unlink(missing_ok=True)
        raise Unavailable(f"Could not download {model.name} ({model.repo}, {model.size_mb:g} MB) from the "
                        f"Hugging Face Hub ({type(exc).__name__}); it needs a network once.") from None
    return path


def _download(model: HubModel, target: Path) -> None:
    from huggingface_hub import hf_hub_download

    from .zoo import hub_reachable

    if not hub_reachable():  # huggingface_hub would retry for ~25 s first
        raise Unavailable(f"{model.name} needs a network: this server cannot reach the Hugging Face Hub, "
                        "and the model is not in its cache yet.")
    got = hf_hub_download(model.repo, model.filename, revision=model.revision,
                          cache_dir=str(cache_dir() / "downloads"))
    shutil.copyfile(got, target)


def layout_mismatch(net: nn.Module, state: dict) -> str | None:
    """What keeps ``state`` from loading into ``net`` strictly, in a few words, or None."""
    ours = net.state_dict()
    missing = [k for k in ours if k not in state]
    unexpected = [k for k in state if k not in ours]
    if missing or unexpected:
        return "; ".join(part for part in (
            f"missing {', '.join(missing[:3])}" if missing else "",
            f"unexpected {', '.join(unexpected[:3])}" if unexpected else "") if part)
    for k, v in state.items():
        if not isinstance(v, torch.Tensor) or v.shape != ours[k].shape:
            shape = list(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
            return f"{k} is {shape}, the architecture's is {list(ours[k].shape)} (size mismatch)"
    return None


def load_weights(name: str, mirror: Path | None = None) -> nn.Module:
    """The model's generator with its released weights, in eval mode; a file that is not a state
    dict of this architecture is refused with one sentence and removed from the cache."""
    model = get(name)
    path = fetch(name, mirror)
    net = ARCHITECTURES[model.architecture]()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            raise ValueError("not a state dict")
        state = {k.removeprefix("module."): v for k, v in state.items()}
        mismatch = layout_mismatch(net, state)
        if mismatch:
            raise ValueError(mismatch)
        net.load_state_dict(state, strict=True)
    except (ValueError, RuntimeError, OSError, EOFError, pickle.UnpicklingError, AttributeError) as exc:
        path.unlink(missing_ok=True)
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise UserError(f"The file of {model.name} does not load as its architecture ({first}); it was "
                        "removed from the cache, so the next try downloads it again.") from None
    return net.eval()


# ---- a drawing through the Hub's pix2pix (edges2shoes) ----------------------------------------

def edge_image(source, side: int = 256, margin: float = 0.08) -> torch.Tensor:
    """A person's drawing -> the kind of input edges2shoes trained on: dark one-to-three-pixel lines
    on white, the drawing centred on a ``side`` x ``side`` square with a small margin, RGB in
    [-1, 1], [1, 3, side, side]. Strokes are thinned first, so a thick brush reads as a pen line."""
    from torch.nn import functional as F

    from .sketch import drawn_ink, frame_ink, thin

    frame = frame_ink(drawn_ink(source, "a shoe"), side, round(side * (1 - 2 * margin)))
    lines = thin(torch.from_numpy(frame)[None]).float()
    lines = F.max_pool2d(lines[:, None], 3, 1, 1)[:, 0]  # a 3-pixel pen, as the data set's edges
    return (1 - 2 * lines)[:, None].expand(1, 3, side, side).contiguous()


@torch.inference_mode()
def draw_shoe(model, source) -> tuple[np.ndarray, np.ndarray]:
    """(the 256 x 256 edge image the model read, the photo it made), both uint8 RGB."""
    x = edge_image(source)
    G = model.generator
    out = G(x.to(next(G.parameters()).device))

    def rgb(t):
        return ((t[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()

    return rgb(x), rgb(out)
