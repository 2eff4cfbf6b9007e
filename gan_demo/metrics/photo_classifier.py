"""The independent judge of translations: a small CNN that tells domain A photos from domain B
(horse from zebra), trained on the real training photos only, never on translated ones.

It reads 64x64 photos: enough to see stripes, small enough to train in minutes on a CPU. Its test
accuracy on the real test photos says how far to trust its verdict on translations.
Weights live in ``weights/classifiers/<dataset>.safetensors`` with a JSON card beside them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn
from torch.nn import functional as F

from .classifier import CLASSIFIER_DIR, fit, save_judge
from ..data import UNPAIRED_DATASETS, load_unpaired
from ..errors import UserError

SIZE = 64
LOAD = 72  # random 64x64 crops of 72x72 photos while training; the centre crop when judging


@dataclass
class PhotoClassifierConfig:
    width: int = 32


class PhotoClassifier(nn.Module):
    """Four conv blocks (64 -> 4), global average pooling, one logit: > 0 means domain B."""

    def __init__(self, config: PhotoClassifierConfig = PhotoClassifierConfig()):
        super().__init__()
        self.config = config
        w = config.width
        blocks, c_in = [], 3
        for c_out in (w, 2 * w, 4 * w, 4 * w):
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(True),
                       nn.MaxPool2d(2)]
            c_in = c_out
        self.conv = nn.Sequential(*blocks)
        self.out = nn.Linear(c_in, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.conv(x).mean((2, 3))).view(-1)


@dataclass
class PhotoClassifierTrainConfig:
    dataset: str = "horse2zebra"
    epochs: int = 12
    batch_size: int = 64
    lr: float = 2e-3
    seed: int = 0
    data_root: str | None = None


def to_input(photos: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W, 3] photos of any size -> [N, 3, 64, 64] in [-1, 1] (resized, whole photo)."""
    x = torch.from_numpy(np.ascontiguousarray(photos)).permute(0, 3, 1, 2).float() / 127.5 - 1
    if x.shape[2:] != (SIZE, SIZE):
        x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", antialias=True, align_corners=False)
    return x


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random 64x64 crops of 72x72 inputs and random flips."""
    out = []
    for img in x:
        y0, x0 = torch.randint(0, LOAD - SIZE + 1, (2,), generator=gen).tolist()
        img = img[:, y0:y0 + SIZE, x0:x0 + SIZE]
        out.append(img.flip(2) if torch.rand((), generator=gen) < 0.5 else img)
    return torch.stack(out)


def train_photo_classifier(cfg: PhotoClassifierTrainConfig, out_dir: Path = CLASSIFIER_DIR,
                           progress: bool = True) -> dict:
    torch.manual_seed(cfg.seed)
    train = load_unpaired(cfg.dataset, cfg.data_root, "train", size=LOAD)
    test = load_unpaired(cfg.dataset, cfg.data_root, "test", size=SIZE)
    x = torch.cat([_scaled(train.a), _scaled(train.b)])  # 72x72, cropped to 64 per step
    y = torch.cat([torch.zeros(len(train.a)), torch.ones(len(train.b))])
    model = PhotoClassifier()
    # The domains differ in size (1,067 vs 1,334): weight the loss so neither is favoured.
    pos_weight = torch.tensor(len(train.a) / len(train.b))

    def loss_fn(logits, target):
        return F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight)

    wall = fit(model, x, y, loss_fn, _augment, cfg.epochs, cfg.batch_size, cfg.lr, cfg.seed, progress)
    pa, pb = predict_b(model, test.a), predict_b(model, test.b)
    card = {
        "kind": "photo-classifier",
        "dataset": cfg.dataset,
        "domains": list(train.domains),
        "config": asdict(model.config),
        "training": {**{k: v for k, v in asdict(cfg).items() if k != "data_root"},
                     "train_images": {"A": len(train.a), "B": len(train.b)}, "data_source": train.source,
                     "wall_time_s": round(wall, 1)},
        "test_images": {"A": len(test.a), "B": len(test.b)},
        "test_accuracy": round(float(((pa < 0.5).sum() + (pb >= 0.5).sum()) / (len(pa) + len(pb))), 4),
        "test_accuracy_per_domain": {"A": round(float((pa < 0.5).mean()), 4),
                                     "B": round(float((pb >= 0.5).mean()), 4)},
    }
    save_judge(model, card, out_dir / cfg.dataset)
    return card


def _scaled(photos: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(photos)).permute(0, 3, 1, 2).float() / 127.5 - 1


@torch.inference_mode()
def predict_b(model: PhotoClassifier, photos: np.ndarray, batch: int = 256) -> np.ndarray:
    """P(domain B) for uint8 [N, H, W, 3] photos."""
    model.eval()
    x = to_input(photos)
    return np.concatenate([torch.sigmoid(model(x[i:i + batch])).numpy() for i in range(0, len(x), batch)])


def load_photo_classifier(dataset: str = "horse2zebra",
                          folder: Path = CLASSIFIER_DIR) -> tuple[PhotoClassifier, dict]:
    if dataset not in UNPAIRED_DATASETS:
        raise UserError(f"No photo classifier for {dataset!r}; choose one of: {', '.join(UNPAIRED_DATASETS)}.")
    weights, card_path = folder / f"{dataset}.safetensors", folder / f"{dataset}.json"
    if not weights.is_file() or not card_path.is_file():
        raise UserError(f"The {dataset} classifier is not trained yet: run "
                        f"`python -m gan_demo train-classifier --dataset {dataset}`.")
    card = json.loads(card_path.read_text())
    model = PhotoClassifier(PhotoClassifierConfig(**card["config"]))
    model.load_state_dict(load_file(str(weights)))
    return model.eval(), card
