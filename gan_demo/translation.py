"""Photo-to-photo translation with a CycleGAN pair: horse -> zebra, the cycle back, and its error.

Any upload goes through ``images.open_image`` (safe decoding, EXIF, odd modes, size caps), then is
processed at about ``WORK_SIZE``^2 pixels with its aspect ratio kept and each side a multiple of 4
(the generator downsamples twice), and the result is brought back to the input's size: users of the
reference repository ask for exactly this instead of a 256 x 256 square crop. A residual generator
(``models.cyclegan.ResidualGenerator``) computes its change at the working size and lays it onto
the photo at the photo's own size, so what it leaves alone keeps every pixel; a reference
generator's whole output is resized back (bicubic).
"""

from __future__ import annotations

import math
import os
import pickle
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import images
from .errors import UserError
from .metrics import psnr
from .models.cyclegan import CycleGANPair, load_reference_state_dict
from .zoo import LoadedModel

WORK_SIZE = 256
MIN_SIDE = 16  # below this the 7x7 reflection padding has nothing to reflect
DIRECTIONS = {"AtoB": "horse -> zebra", "BtoA": "zebra -> horse"}

# The released generators of the reference repository (scripts/download_cyclegan_model.sh).
OFFICIAL_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/{name}.pth"
OFFICIAL_FILES = {"AtoB": "horse2zebra", "BtoA": "zebra2horse"}
OFFICIAL_NAME = "official-horse2zebra"
CACHE_ENV = "GAN_DEMO_CACHE"


@dataclass(frozen=True)
class Translation:
    input: np.ndarray  # uint8 [H, W, 3]: the upload as decoded (upright, RGB, within the pixel budget)
    output: np.ndarray  # uint8 [H, W, 3], the input's size
    reconstruction: np.ndarray  # uint8 [H, W, 3]: the other generator applied to the output
    error: np.ndarray  # uint8 [H, W, 3]: |input - reconstruction| as a heat map
    cycle_l1: float  # mean |input - reconstruction| in [0, 1] units
    cycle_psnr: float  # dB
    work_size: tuple[int, int]  # (width, height) the generators ran at


def working_size(width: int, height: int, target: int = WORK_SIZE) -> tuple[int, int]:
    """About ``target``^2 pixels with the aspect ratio kept, each side a multiple of 4."""
    if width < 1 or height < 1:
        raise UserError("The image has no pixels.")
    aspect = width / height
    # A 1 x 10,000 strip would become one pixel wide; cap the ratio at 8:1 instead.
    aspect = min(max(aspect, 1 / 8), 8)
    w = math.sqrt(target * target * aspect)
    h = w / aspect

    def snap(v: float) -> int:
        return max(MIN_SIDE, int(round(v / 4)) * 4)

    return snap(w), snap(h)


def to_rgb(source) -> "images.Image.Image":
    """Any accepted upload as an RGB PIL image (transparency on white, grey as three channels)."""
    return images.flatten_alpha(images.open_image(source), 255).convert("RGB")


def _tensor(img, size: tuple[int, int], device) -> torch.Tensor:
    from PIL import Image

    arr = np.asarray(img.resize(size, Image.BICUBIC), dtype=np.float32)
    return torch.from_numpy(arr).permute(2, 0, 1)[None].to(device) / 127.5 - 1.0


def _image(x: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    arr = ((x[0].float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    img = Image.fromarray(arr, "RGB")
    return np.asarray(img if img.size == size else img.resize(size, Image.BICUBIC))


def error_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| averaged over colour, scaled so that 25 % difference is full scale, as a heat map."""
    diff = np.abs(a.astype(np.float32) - b.astype(np.float32)).mean(-1) / 255.0
    t = np.clip(diff / 0.25, 0, 1)
    # black -> red -> yellow -> white: small errors stay dark, the eye goes to large ones
    rgb = np.stack([np.clip(3 * t, 0, 1), np.clip(3 * t - 1, 0, 1), np.clip(3 * t - 2, 0, 1)], -1)
    return (rgb * 255).round().astype(np.uint8)


def _check_direction(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise UserError(f"Unknown direction {direction!r}; choose AtoB (horse -> zebra) or BtoA (zebra -> horse).")
    return direction


def load_size(crop: int) -> int:
    """The size the trainer loads photos at before cropping ``crop`` (the reference's 286 for 256),
    as a multiple of 4: a whole photo at this size looks to G like a training crop."""
    return max(MIN_SIDE, int(round(crop * 1.12 / 4)) * 4)


def model_work_size(model: LoadedModel) -> int:
    """The scale a model translates best at: the one it was trained at. Our trainer loads photos
    at 1.12x the crop size and crops (``training.size``), so a whole photo at that load size looks
    to the generator like its training crops; a small model run at 256 after training at 128
    paints stripes at the wrong scale (18 % of test horses read as zebras, against 82 % at 144).
    The official generators trained on 256 crops of 286 photos and are tested at 256."""
    if model.card.get("work_size"):
        return int(model.card["work_size"])
    size = (model.card.get("training") or {}).get("size")
    return load_size(size) if size else WORK_SIZE


def _prepare(model: LoadedModel, source, direction: str, work: int | None):
    _check_direction(direction)
    work = work or model_work_size(model)
    img = to_rgb(source)
    if min(img.size) < MIN_SIDE:  # upscaled to the working size it would be a few flat blocks
        raise UserError(f"The photo is {img.width} x {img.height} pixels; give one at least {MIN_SIDE} "
                        "pixels on each side.")
    pair = model.generator
    device = next(pair.parameters()).device
    size = working_size(img.width, img.height, work)
    forward, back = (pair.G_AB, pair.G_BA) if direction == "AtoB" else (pair.G_BA, pair.G_AB)
    return img, _tensor(img, img.size, device), size, forward, back


def _apply(G, photo: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """G on ``photo`` [1, 3, H, W] run at ``size`` (width, height); the result at the photo's size."""
    from torch.nn import functional as F

    full = photo.shape[-2:]
    x = photo if full == (size[1], size[0]) else \
        F.interpolate(photo, size=(size[1], size[0]), mode="bicubic", antialias=True, align_corners=False)
    if hasattr(G, "lay_onto"):  # ours: what G leaves alone keeps the photo's own pixels
        return G.lay_onto(photo, x.clamp(-1, 1))
    out = G(x.clamp(-1, 1))
    return out if out.shape[-2:] == full else \
        F.interpolate(out, size=full, mode="bicubic", align_corners=False)


@torch.inference_mode()
def translate(model: LoadedModel, source, direction: str = "AtoB", work: int | None = None) -> Translation:
    """Translate one picture and run the cycle back (see the module docstring), at about ``work``^2
    pixels (default: the model's own scale, ``model_work_size``)."""
    img, photo, size, forward, back = _prepare(model, source, direction, work)
    fake = _apply(forward, photo, size).clamp(-1, 1)
    rec = _apply(back, fake, size)
    original = np.asarray(img)
    out, rec_img = _image(fake, img.size), _image(rec, img.size)
    return Translation(original, out, rec_img, error_map(original, rec_img),
                       float(np.abs(original.astype(np.float32) - rec_img).mean() / 255.0),
                       psnr(original, rec_img), size)


@torch.inference_mode()
def translate_only(model: LoadedModel, source, direction: str = "AtoB", work: int | None = None) -> np.ndarray:
    """Just the translation (the CLI and batch mode): uint8 [H, W, 3] at the input's size."""
    img, photo, size, forward, _ = _prepare(model, source, direction, work)
    return _image(_apply(forward, photo, size), img.size)


def translate_files(model: LoadedModel, paths: list[str], direction: str = "AtoB"
                    ) -> tuple[list[tuple[str, np.ndarray | None, str | None]], bytes]:
    """Batch mode: (name, translation or None, why it failed or None) per file, and a .zip of the
    translations as PNGs named after their inputs. One unreadable file does not stop the batch."""
    import io
    import zipfile

    from PIL import Image

    results, buffer = [], io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for p in paths:
            stem = Path(p).stem
            try:
                out = translate_only(model, p, direction)
            except UserError as exc:
                results.append((stem, None, str(exc)))
                continue
            png = io.BytesIO()
            Image.fromarray(out).save(png, format="PNG")
            zf.writestr(f"{stem}.png", png.getvalue())
            results.append((stem, out, None))
    return results, buffer.getvalue()


# ---- the official generators ---------------------------------------------------------------

def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "gan_playground") / "cyclegan"


def official_paths(folder: Path | None = None) -> dict[str, Path]:
    folder = folder or cache_dir()
    return {d: folder / f"{name}.pth" for d, name in OFFICIAL_FILES.items()}


def official_available(folder: Path | None = None) -> bool:
    return all(p.is_file() for p in official_paths(folder).values())


def download_official(folder: Path | None = None, fetch=None) -> dict[str, Path]:
    """Fetch the released horse2zebra.pth and zebra2horse.pth (45 MB each) into the cache.

    ``fetch(url, path)`` is the downloader (tests pass a local one); without a network the answer
    is one sentence that says where to put the files by hand.
    """
    fetch = fetch or _urlretrieve
    paths = official_paths(folder)
    for direction, path in paths.items():
        if path.is_file():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        url = OFFICIAL_URL.format(name=OFFICIAL_FILES[direction])
        partial = path.with_suffix(".part")
        try:
            fetch(url, partial)
            partial.replace(path)
        except Exception as exc:
            partial.unlink(missing_ok=True)
            raise UserError(f"Could not download the official CycleGAN weights ({type(exc).__name__}): "
                            f"no network? Put {path.name} from {url} into the cyclegan/ folder of the cache "
                            f"(${CACHE_ENV}, by default ~/.cache/gan_playground) by hand.") from None
    return paths


def _urlretrieve(url: str, path: Path) -> None:
    with urllib.request.urlopen(url, timeout=30) as response, open(path, "wb") as out:
        while chunk := response.read(1 << 20):
            out.write(chunk)


def load_official(folder: Path | None = None, device: str = "cpu") -> LoadedModel:
    """The released generators as a pair; ``torch.load(weights_only=True)``: tensors only, no pickles
    of code."""
    paths = official_paths(folder)
    if not official_available(folder):
        raise UserError("The official CycleGAN weights are not downloaded yet: press Download (or run "
                        "`python -m gan_demo pull official-horse2zebra`).")
    gens = {}
    for direction, path in paths.items():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            gens[direction] = load_reference_state_dict(state)
        except (ValueError, RuntimeError, OSError, EOFError, pickle.UnpicklingError) as exc:
            raise UserError(f"{path.name} does not load as a CycleGAN generator: "
                            f"{str(exc).splitlines()[0][:160]}.") from None
    pair = CycleGANPair(gens["AtoB"].config)
    pair.G_AB, pair.G_BA = gens["AtoB"], gens["BtoA"]
    card = {"family": "cyclegan", "config": {}, "description": "The released CycleGAN horse2zebra and "
            "zebra2horse generators (Zhu et al. 2017), resnet_9blocks, trained 200 epochs at 256x256."}
    return LoadedModel(OFFICIAL_NAME, pair.to(device).eval(), card)
