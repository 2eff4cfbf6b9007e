"""The independent judge: a small CNN per data set, trained on real training images only.

Its test accuracy says how far to trust it; its penultimate features feed the Frechet distance
(an FID analogue at 28x28, where Inception features would be meaningless) and its predictions give
the class accuracy of conditional samples. It never sees a generated image while training.
Weights live in ``weights/classifiers/<dataset>.safetensors`` with a JSON card beside them.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from ..data import IMAGE_DATASETS, load_images
from ..errors import UserError

CLASSIFIER_DIR = Path(__file__).resolve().parents[2] / "weights" / "classifiers"


@dataclass
class ClassifierConfig:
    num_classes: int = 10
    width: int = 32
    feature_dim: int = 128


class Classifier(nn.Module):
    """Two conv blocks and two dense layers; inputs in [-1, 1] like a generator's output."""

    def __init__(self, config: ClassifierConfig = ClassifierConfig()):
        super().__init__()
        self.config = config
        w = config.width
        self.conv = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(True),
            nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(True), nn.MaxPool2d(2),  # 14
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(True), nn.MaxPool2d(2),  # 7
        )
        self.fc = nn.Linear(2 * w * 7 * 7, config.feature_dim)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(config.feature_dim, config.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc(self.conv(x).flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.drop(self.features(x)))


@dataclass
class ClassifierTrainConfig:
    dataset: str = "fashion"
    epochs: int = 4
    batch_size: int = 128
    lr: float = 2e-3
    seed: int = 0
    data_root: str | None = None


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 2 pixels: the small-data digits need it, Fashion does not mind."""
    pad = F.pad(x, (2, 2, 2, 2), value=-1.0)
    dx, dy = torch.randint(0, 5, (2,), generator=gen).tolist()
    return pad[:, :, dy:dy + 28, dx:dx + 28]


@torch.inference_mode()
def predict(model: Classifier, images: torch.Tensor, batch: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """(class predictions [N], penultimate features [N, feature_dim]) for images in [-1, 1]."""
    model.eval()
    preds, feats = [], []
    for i in range(0, len(images), batch):
        f = model.features(images[i:i + batch])
        feats.append(f.numpy())
        preds.append(model.out(f).argmax(1).numpy())
    return np.concatenate(preds), np.concatenate(feats)


def train_classifier(cfg: ClassifierTrainConfig, out_dir: Path = CLASSIFIER_DIR,
                     progress: bool = True) -> dict:
    """Train on the training split, measure on the test split, write weights + card; returns the card."""
    torch.manual_seed(cfg.seed)
    train = load_images(cfg.dataset, cfg.data_root, train=True)
    test = load_images(cfg.dataset, cfg.data_root, train=False)
    x, y = train.tensors()
    xt, yt = test.tensors()
    model = Classifier(ClassifierConfig(num_classes=len(train.classes)))
    wall = fit(model, x, y, F.cross_entropy, _augment, cfg.epochs, cfg.batch_size, cfg.lr, cfg.seed, progress)
    preds, _ = predict(model, xt)
    card = {
        "kind": "classifier",
        "dataset": cfg.dataset,
        "classes": list(train.classes),
        "config": asdict(model.config),
        "training": {**{k: v for k, v in asdict(cfg).items() if k != "data_root"},
                     "train_images": len(x), "data_source": train.source,
                     "wall_time_s": round(wall, 1)},
        "test_images": len(xt),
        "test_accuracy": round(float((preds == yt.numpy()).mean()), 4),
    }
    save_judge(model, card, out_dir / cfg.dataset)
    return card


def fit(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, augment, epochs: int, batch_size: int,
        lr: float, seed: int, progress: bool) -> float:
    """The judges' training loop: AdamW with a one-cycle schedule over shuffled, augmented batches.
    Returns the wall time in seconds."""
    opt = torch.optim.AdamW(model.parameters(), lr, weight_decay=1e-4)
    steps = epochs * (len(x) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=steps, unit="step", dynamic_ncols=True)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        for b in range(len(x) // batch_size):
            idx = perm[b * batch_size:(b + 1) * batch_size]
            loss = loss_fn(model(augment(x[idx], gen)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    if bar is not None:
        bar.close()
    return time.perf_counter() - start


def save_judge(model: nn.Module, card: dict, stem: Path) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(stem) + ".safetensors")
    Path(str(stem) + ".json").write_text(json.dumps(card, indent=2) + "\n")


def load_classifier(dataset: str, folder: Path = CLASSIFIER_DIR) -> tuple[Classifier, dict]:
    if dataset not in IMAGE_DATASETS:
        raise UserError(f"No classifier for data set {dataset!r}; choose one of: {', '.join(IMAGE_DATASETS)}.")
    weights, card_path = folder / f"{dataset}.safetensors", folder / f"{dataset}.json"
    if not weights.is_file() or not card_path.is_file():
        raise UserError(f"The {dataset} classifier is not trained yet: run "
                        f"`python -m gan_demo train-classifier --dataset {dataset}`.")
    card = json.loads(card_path.read_text())
    model = Classifier(ClassifierConfig(**card["config"]))
    model.load_state_dict(load_file(str(weights)))
    return model.eval(), card
