"""pix2pix training behind ``python -m gan_demo train pix2pix``: drawings made from Fashion-MNIST.

The recipe of Isola et al. 2017: G minimises the non-saturating GAN loss against a PatchGAN that
sees (drawing, garment) pairs, plus lambda = 100 times the L1 distance to the real garment; D's loss
is halved to slow it relative to G; Adam 2e-4 with beta1 0.5. Inputs are ``sketch.edge_maps`` of the
training images, so the model learns exactly the kind of line that ``sketch.strokes`` makes of a
person's drawing. Half the batches carry the true class as a hint and half carry "no hint", so one
model serves both.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from .. import zoo
from ..data import load_images
from ..errors import UserError
from ..settings import setting
from ..models.pix2pix import PatchDiscriminator, Pix2PixConfig, Pix2PixGenerator
from ..sketch import edge_maps, to_model_input
from .checkpoint import checkpoint_paths, delete_checkpoint, has_checkpoint, load_checkpoint, save_checkpoint, state_stem
from .progress import StepLog
from .image import _device_name, pick_device


@dataclass
class Pix2PixTrainConfig:
    dataset: str = "fashion"
    epochs: int = setting(5, "Epochs", lo=1, hi=100_000)
    batch_size: int = setting(64, "Batch size", lo=1, hi=4096)
    lr: float = setting(2e-4, "Learning rate", lo=1e-8, hi=1.0)
    beta1: float = setting(0.5, "Adam beta1", lo=0.0, hi=0.9999)
    lambda_l1: float = 100.0  # the paper's weight of the L1 term
    # "ns" (the paper's BCE, non-saturating for G) or "lsgan"
    loss: str = setting("ns", "Loss", choices=("ns", "lsgan"))
    hint_share: float = 0.5  # share of examples that carry their class as a hint
    ngf: int = setting(16, "Width", lo=1, hi=1024, cli="--width")
    ndf: int = 32
    seed: int = 0
    data_root: str | None = None
    device: str = "auto"
    checkpoint_every: int = 500  # steps
    max_steps: int | None = None
    limit: int | None = None  # train on the first N images only (quick looks, tests)


def _gan_loss(logits: torch.Tensor, real: bool, kind: str) -> torch.Tensor:
    if kind == "lsgan":
        return F.mse_loss(logits, torch.full_like(logits, 1.0 if real else 0.0))
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 1.0 if real else 0.0))


def train_pix2pix(cfg: Pix2PixTrainConfig, out: str | Path, resume: bool = False,
                  progress: bool = True) -> dict[str, Any]:
    """Train, keep the training state in ``state_stem(OUT)`` every ``checkpoint_every`` steps while the
    schedule is unfinished (deleted once it is done), write ``OUT.safetensors``
    (the generator) and ``OUT.json``; returns the card."""
    if cfg.loss not in ("ns", "lsgan"):
        raise UserError(f"pix2pix trains with --loss ns or lsgan, not {cfg.loss!r}.")
    out = Path(out)
    device = pick_device(cfg.device)
    data = load_images(cfg.dataset, cfg.data_root, train=True)
    keep = slice(None, cfg.limit)
    images, labels = (t[keep] for t in data.tensors())
    lines = to_model_input(edge_maps(data.images[keep]))
    n_classes = len(data.classes)

    torch.manual_seed(cfg.seed)
    model_cfg = Pix2PixConfig(ngf=cfg.ngf, ndf=cfg.ndf, num_classes=n_classes)
    G, D = Pix2PixGenerator(model_cfg).to(device), PatchDiscriminator(model_cfg).to(device)
    opt_g = torch.optim.Adam(G.parameters(), cfg.lr, betas=(cfg.beta1, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), cfg.lr, betas=(cfg.beta1, 0.999))
    nets, opts = {"G": G, "D": D}, {"G": opt_g, "D": opt_d}
    step, wall = 0, 0.0
    state = state_stem(out)
    if resume and has_checkpoint(state):
        meta = load_checkpoint(state, nets, opts)
        step, wall = meta["step"], meta["wall_time_s"]
    elif resume:
        print(f"No training state at {checkpoint_paths(state)[0]}; starting from scratch.")
    per_epoch = max(1, len(images) // cfg.batch_size)
    schedule = cfg.epochs * per_epoch
    total = schedule if cfg.max_steps is None else min(cfg.max_steps, schedule)

    def update(x: torch.Tensor, y: torch.Tensor, hint: torch.Tensor) -> dict[str, float]:
        fake = G(x, hint)
        d_loss = 0.5 * (_gan_loss(D(x, y), True, cfg.loss) + _gan_loss(D(x, fake.detach()), False, cfg.loss))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        for p in D.parameters():
            p.requires_grad_(False)
        g_gan = _gan_loss(D(x, fake), True, cfg.loss)
        l1 = F.l1_loss(fake, y)
        opt_g.zero_grad(set_to_none=True)
        (g_gan + cfg.lambda_l1 * l1).backward()
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)
        return {"d_loss": d_loss.item(), "g_gan": g_gan.item(), "l1": l1.item()}

    log = StepLog(total, step, progress)
    start = time.perf_counter() - wall
    G.train(), D.train()
    try:
        while step < total:
            epoch, first = divmod(step, per_epoch)
            gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
            perm = torch.randperm(len(images), generator=gen)
            keep_hint = torch.rand(len(images), generator=gen) < cfg.hint_share
            for b in range(first, per_epoch):
                idx = perm[b * cfg.batch_size:(b + 1) * cfg.batch_size]
                hint = torch.where(keep_hint[idx], labels[idx], n_classes)
                metrics = update(lines[idx].to(device), images[idx].to(device), hint.to(device))
                step += 1
                wall = time.perf_counter() - start
                log.record(step, epoch, metrics)
                if step % cfg.checkpoint_every == 0:
                    save_checkpoint(state, nets, opts, {"step": step, "wall_time_s": wall, "config": asdict(cfg)})
                if step >= total:
                    break
    finally:
        log.close()
    save_checkpoint(state, nets, opts, {"step": step, "wall_time_s": wall, "config": asdict(cfg)})
    if step >= schedule:  # done: the shipped generator is all that is needed
        delete_checkpoint(state)

    card = {
        "family": "pix2pix",
        "config": asdict(model_cfg),
        "dataset": cfg.dataset,
        "classes": list(data.classes),
        "description": (f"pix2pix (Isola et al. 2017) trained by GAN Playground: a line drawing in, a "
                        f"{'garment' if cfg.dataset == 'fashion' else 'digit'} out. Inputs are the thinned "
                        f"edges of {cfg.dataset} training images (gan_demo/sketch.py); an optional class "
                        f"hint goes in at the U-Net's bottleneck."),
        "training": {
            **{k: v for k, v in asdict(cfg).items() if k not in ("data_root", "max_steps", "checkpoint_every", "limit")},
            "epochs_done": round(step / per_epoch, 3),
            "steps": step,
            "wall_time_s": round(wall, 1),
            "device": _device_name(device),
            "data_source": data.source,
            "train_images": len(images),
            "torch": torch.__version__,
        },
        "metrics": {"last_200_steps_mean": log.means()},
    }
    zoo.save(G.cpu().eval(), card, out)
    return card
