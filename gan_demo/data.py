"""Every data source: Fashion-MNIST, MNIST digits, and the toy 1D/2D distributions.

One setting says where image data lives: the ``--data-root`` flag or the ``GAN_DEMO_DATA``
environment variable (flag wins), defaulting to ``./data``. Under that root we read, in order:

* torchvision's layout (``FashionMNIST/raw/*-ubyte[.gz]``, ``MNIST/raw/...``), gzipped or not;
* for digits, the 5,000-image subset ``mnist-5k/mnist_5k.npz`` (keys ``images``, ``labels``);
* otherwise torchvision's ``download=True``, which works on a machine with internet.

We parse the IDX files ourselves rather than through torchvision's dataset class because that
class checks md5 sums and re-downloads when a re-compressed .gz differs, and because the shared
data folder is read-only (we never need to unpack into it).
"""

from __future__ import annotations

import gzip
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import UserError

DATA_ENV = "GAN_DEMO_DATA"

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
DIGIT_CLASSES = tuple(str(d) for d in range(10))

IMAGE_DATASETS = {"fashion": FASHION_CLASSES, "mnist": DIGIT_CLASSES}


def data_root(override: str | os.PathLike | None = None) -> Path:
    """The one data-root setting: explicit argument, then $GAN_DEMO_DATA, then ./data."""
    return Path(override or os.environ.get(DATA_ENV) or "data").expanduser()


class DataNotFoundError(UserError):
    pass


@dataclass
class ImageData:
    images: np.ndarray  # uint8 [N, 28, 28]
    labels: np.ndarray  # int64 [N]
    classes: tuple[str, ...]
    source: str  # where it came from, recorded in model cards

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Images scaled to [-1, 1] as [N, 1, 28, 28] float32 (the range of G's tanh), labels."""
        x = torch.from_numpy(np.array(self.images)).float().div_(127.5).sub_(1.0).unsqueeze(1)
        return x, torch.from_numpy(self.labels.astype(np.int64))


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataNotFoundError(f"{path} is not an IDX file of unsigned bytes.")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != math.prod(dims):
        raise DataNotFoundError(f"{path} is truncated: expected {math.prod(dims)} values, found {data.size}.")
    return data.reshape(dims)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _read_torchvision_raw(folder: Path, train: bool) -> tuple[np.ndarray, np.ndarray] | None:
    prefix = "train" if train else "t10k"
    img = _find_idx(folder, f"{prefix}-images-idx3-ubyte")
    lab = _find_idx(folder, f"{prefix}-labels-idx1-ubyte")
    if img is None or lab is None:
        return None
    return _read_idx(img), _read_idx(lab).astype(np.int64)


def _download(name: str, root: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    import torchvision

    cls = {"fashion": torchvision.datasets.FashionMNIST, "mnist": torchvision.datasets.MNIST}[name]
    try:
        ds = cls(str(root), train=train, download=True)
    except Exception as exc:  # any network or disk failure ends in the same advice
        raise DataNotFoundError(_missing_message(name, root, f"download failed: {exc}")) from None
    return ds.data.numpy(), ds.targets.numpy().astype(np.int64)


def _missing_message(name: str, root: Path, why: str) -> str:
    where = {
        "fashion": f"{root}/FashionMNIST/raw/ (the four IDX files, .gz or not)",
        "mnist": f"{root}/MNIST/raw/ (IDX files) or {root}/mnist-5k/mnist_5k.npz",
    }[name]
    return (f"{'Fashion-MNIST' if name == 'fashion' else 'MNIST'} not found ({why}). Put it in {where}, "
            f"or point --data-root / ${DATA_ENV} at a folder that has it.")


def load_images(name: str, root: str | os.PathLike | None = None, train: bool = True,
                download: bool = True) -> ImageData:
    """Load ``fashion`` or ``mnist`` as uint8 arrays; see the module doc for the search order."""
    if name not in IMAGE_DATASETS:
        raise UserError(f"Unknown data set {name!r}; choose one of: {', '.join(IMAGE_DATASETS)}.")
    root = data_root(root)
    folder = root / ("FashionMNIST" if name == "fashion" else "MNIST") / "raw"
    found = _read_torchvision_raw(folder, train)
    source = str(folder)
    if found is None and name == "mnist":
        npz = root / "mnist-5k" / "mnist_5k.npz"
        if npz.is_file():
            with np.load(npz) as f:
                images, labels = f["images"], f["labels"].astype(np.int64)
            # The subset has no official split: hold out the last 10 % of each class as "test".
            test = np.zeros(len(labels), bool)
            for c in range(10):
                idx = np.flatnonzero(labels == c)
                test[idx[int(len(idx) * 0.9):]] = True
            keep = ~test if train else test
            found, source = (images[keep], labels[keep]), str(npz)
    if found is None:
        if not download:
            raise DataNotFoundError(_missing_message(name, root, "no local copy"))
        found, source = _download(name, root, train), f"torchvision download into {root}"
    images, labels = found
    return ImageData(np.ascontiguousarray(images), labels, IMAGE_DATASETS[name], source)


# --- Unpaired photo sets for CycleGAN ----------------------------------------------------------------

# The reference repository's datasets/download_cyclegan_dataset.sh
UNPAIRED_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
UNPAIRED_DATASETS = {"horse2zebra": ("horse", "zebra")}
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass
class UnpairedData:
    a: np.ndarray  # uint8 [N_A, S, S, 3]
    b: np.ndarray  # uint8 [N_B, S, S, 3]
    domains: tuple[str, str]
    source: str
    files_a: list[str]
    files_b: list[str]


def unpaired_folder(name: str, root: str | os.PathLike | None = None, download: bool = True,
                    fetch=None) -> Path:
    """``ROOT/NAME`` with trainA/trainB/testA/testB, downloading the reference zip when missing."""
    if name not in UNPAIRED_DATASETS:
        raise UserError(f"Unknown photo data set {name!r}; choose one of: {', '.join(UNPAIRED_DATASETS)}.")
    root = data_root(root)
    if (root / "trainA").is_dir():  # --data-root may name the data set's own folder
        return root
    folder = root / name
    if (folder / "trainA").is_dir():
        return folder
    why = "no local copy"
    if download:
        try:
            _download_zip(UNPAIRED_URL.format(name=name), root, fetch)
            if (folder / "trainA").is_dir():
                return folder
            why = "the download had no trainA folder"
        except Exception as exc:
            why = f"download failed: {type(exc).__name__}"
    raise DataNotFoundError(f"{name} not found ({why}). Put its trainA/trainB/testA/testB folders in "
                            f"{folder}, or point --data-root / ${DATA_ENV} at a folder that has {name}/.")


def _download_zip(url: str, root: Path, fetch=None) -> None:
    import urllib.request
    import zipfile

    root.mkdir(parents=True, exist_ok=True)
    target = root / url.rsplit("/", 1)[-1]
    if fetch is not None:
        fetch(url, target)
    else:
        with urllib.request.urlopen(url, timeout=30) as response, open(target, "wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
    with zipfile.ZipFile(target) as zf:
        for member in zf.namelist():  # never write outside root (a zip may name ../ paths)
            if member.startswith("/") or ".." in Path(member).parts:
                raise UserError(f"The archive has an unsafe path: {member!r}.")
        zf.extractall(root)
    target.unlink()


def photo_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def load_photos(files: list[Path], size: int) -> np.ndarray:
    """Photos as uint8 [N, size, size, 3] (greyscale ones as three equal channels)."""
    from PIL import Image

    out = np.empty((len(files), size, size, 3), np.uint8)
    for i, f in enumerate(files):
        with Image.open(f) as img:
            out[i] = np.asarray(img.convert("RGB").resize((size, size), Image.BICUBIC))
    return out


def load_unpaired(name: str, root: str | os.PathLike | None = None, split: str = "train",
                  size: int = 286, download: bool = True) -> UnpairedData:
    """Both domains of ``split`` resized to ``size`` x ``size`` (the trainer crops from there, as
    the reference loads at 286 and crops 256)."""
    folder = unpaired_folder(name, root, download)
    fa, fb = photo_files(folder / f"{split}A"), photo_files(folder / f"{split}B")
    if not fa or not fb:
        raise DataNotFoundError(f"{folder}/{split}A and {split}B must both hold images.")
    return UnpairedData(load_photos(fa, size), load_photos(fb, size), UNPAIRED_DATASETS[name], str(folder),
                        [f.name for f in fa], [f.name for f in fb])


# --- Toy distributions for the Train tab -----------------------------------------------------------

@dataclass
class ToyDistribution:
    """A 1D or 2D distribution to learn. ``modes``/``sigma`` are set for Gaussian mixtures, which is
    what the mode-coverage metrics need; continuous shapes (spiral, moons, drawings) leave them None."""

    name: str
    dim: int
    bounds: tuple[float, float]  # the square (or interval) the views and density grids cover
    modes: np.ndarray | None = None  # [K, dim]
    sigma: float | None = None
    points: np.ndarray | None = None  # for drawn data: the points to resample
    jitter: float = 0.0
    scale: float = 1.0  # typical extent, so the nets can work in unit-sized coordinates

    def sample(self, n: int, gen: torch.Generator) -> torch.Tensor:
        if self.modes is not None:
            idx = torch.randint(len(self.modes), (n,), generator=gen)
            centers = torch.as_tensor(self.modes, dtype=torch.float32)[idx]
            return centers + self.sigma * torch.randn(n, self.dim, generator=gen)
        if self.points is not None:
            idx = torch.randint(len(self.points), (n,), generator=gen)
            pts = torch.as_tensor(self.points, dtype=torch.float32)[idx]
            return pts + self.jitter * torch.randn(n, self.dim, generator=gen)
        if self.name == "spiral":
            t = torch.sqrt(torch.rand(n, generator=gen)) * 3 * math.pi  # uniform along the arc
            r = t / (3 * math.pi) * 3.5
            xy = torch.stack([r * torch.cos(t), r * torch.sin(t)], 1)
            return xy + 0.05 * torch.randn(n, 2, generator=gen)
        if self.name == "moons":
            t = torch.rand(n, generator=gen) * math.pi
            upper = torch.rand(n, generator=gen) < 0.5
            x = torch.where(upper, torch.cos(t), 1 - torch.cos(t)) - 0.5
            y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t)) - 0.25
            return torch.stack([x * 2, y * 2], 1) + 0.05 * torch.randn(n, 2, generator=gen)
        raise ValueError(f"cannot sample {self.name}")


def _ring8() -> ToyDistribution:
    angles = np.arange(8) * 2 * np.pi / 8
    return ToyDistribution("ring8", 2, (-3.0, 3.0), np.stack([2 * np.cos(angles), 2 * np.sin(angles)], 1), 0.02)


def _grid25() -> ToyDistribution:
    axis = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    modes = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    return ToyDistribution("grid25", 2, (-5.5, 5.5), modes, 0.05, scale=4.0)


TOY_DATASETS = {
    "gauss1d": lambda: ToyDistribution("gauss1d", 1, (-2.0, 8.0), np.array([[4.0]]), 0.5),
    "ring8": _ring8,
    "grid25": _grid25,
    "spiral": lambda: ToyDistribution("spiral", 2, (-4.0, 4.0), scale=3.0),
    "moons": lambda: ToyDistribution("moons", 2, (-3.0, 3.0), scale=1.5),
}


def mode_count(name: str) -> int:
    """How many Gaussians a toy data set mixes (0 for the spiral, the moons and drawings)."""
    make = TOY_DATASETS.get(name)
    modes = make().modes if make is not None else None
    return 0 if modes is None else len(modes)


def counts_modes(name: str) -> bool:
    """Whether "modes covered" says something about this toy data set: a mixture of several
    Gaussians (the ring, the grid); one Gaussian, the spiral, the moons and drawings are judged by
    KL and JS instead."""
    return mode_count(name) > 1


def toy_dataset(name: str, points=None) -> ToyDistribution:
    """A toy distribution by name; ``custom`` turns a person's drawn points into the real data."""
    if name == "custom":
        return drawn_dataset(points)
    if name not in TOY_DATASETS:
        raise UserError(f"Unknown toy data set {name!r}; choose one of: {', '.join([*TOY_DATASETS, 'custom'])}.")
    return TOY_DATASETS[name]()


def drawn_dataset(points, bounds: tuple[float, float] = (-3.0, 3.0)) -> ToyDistribution:
    """Points sketched on the canvas (in data coordinates) become a distribution to learn."""
    try:
        pts = np.asarray(points if points is not None else [], dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise UserError("Drawn points must be pairs of numbers (x, y).") from None
    pts = pts[np.isfinite(pts).all(1)]
    if len(pts) < 3:
        raise UserError("Draw at least a few strokes on the canvas first (3 or more points).")
    pts = np.clip(pts, *bounds)
    return ToyDistribution("custom", 2, bounds, points=pts.astype(np.float32), jitter=0.03,
                           scale=float(np.abs(pts).max()) or 1.0)


def points_from_sketch(image, bounds: tuple[float, float] = (-3.0, 3.0), max_points: int = 4000,
                       seed: int = 0) -> np.ndarray:
    """The inked pixels of a canvas drawing as points in data coordinates (y up), at most ``max_points``.

    Accepts an RGB(A) or grey array. Ink is any pixel that is opaque and darker than the paper, so
    both transparent and white canvases work.
    """
    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise UserError("The drawing must be an image.")
    arr = arr.astype(np.float32)
    if arr.ndim == 2:
        ink = arr < 128
    else:
        rgb = arr[..., :3].mean(-1) if arr.shape[-1] >= 3 else arr[..., 0]
        opaque = arr[..., 3] > 32 if arr.shape[-1] == 4 else np.ones(arr.shape[:2], bool)
        ink = opaque & (rgb < 200)
    rows, cols = np.nonzero(ink)
    if len(rows) < 3:
        raise UserError("Draw at least a few strokes on the canvas first.")
    if len(rows) > max_points:
        keep = np.random.default_rng(seed).choice(len(rows), max_points, replace=False)
        rows, cols = rows[keep], cols[keep]
    h, w = ink.shape
    lo, hi = bounds
    x = lo + (cols + 0.5) / w * (hi - lo)
    y = hi - (rows + 0.5) / h * (hi - lo)
    return np.stack([x, y], 1).astype(np.float32)
