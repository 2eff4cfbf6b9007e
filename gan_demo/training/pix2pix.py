"""pix2pix training behind ``python -m gan_demo train pix2pix``: drawings made from Fashion-MNIST.

The recipe of Isola et al. 2017: G minimises the non-saturating GAN loss against a PatchGAN that
sees (drawing, garment) pairs, plus lambda = 100 times the L1 distance to the real garment; D's loss
is halved to slow it relative to G; Adam 2e-4 with beta1 0.5. Inputs are ``sketch.edge_maps`` of the
training images, so the model learns exactly the kind of line that ``sketch.strokes`` makes of a
person's drawing. Half the batches carry the true class as a hint and half carry "no hint", so one
model serves both.
"""

from __future__ import annotations

import copy
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
from ..sketch_styles import MIX, training_drawings
from .checkpoint import (checkpoint_paths, delete_checkpoint, has_checkpoint, load_checkpoint,
                         load_checkpoint_meta, save_checkpoint, state_stem)
from .progress import StepLog
from .steps import update_average
from .image import _device_name, lr_factor, pick_device
from .image_config import DECAY_HELP, MAX_MINUTES_HELP


@dataclass
class Pix2PixTrainConfig:
    dataset: str = "fashion"
    epochs: int = setting(5, "Epochs", lo=1, hi=100_000)
    batch_size: int = setting(64, "Batch size", lo=1, hi=4096)
    lr: float = setting(2e-4, "Learning rate", lo=1e-8, hi=1.0)
    beta1: float = setting(0.5, "Adam beta1", lo=0.0, hi=0.9999)
    lambda_l1: float = setting(100.0, "L1 weight", lo=0.0, hi=10_000.0,
                               help="weight of the L1 distance to the real garment (the paper's 100); lower "
                                    "leaves more to D, for sharper and less averaged garments")
    # "ns" (the paper's BCE, non-saturating for G) or "lsgan"
    loss: str = setting("ns", "Loss", choices=("ns", "lsgan"))
    hint_share: float = 0.5  # share of examples that carry their class as a hint
    # "edges": one edge map per image (sketch.edge_maps); "mix": every epoch each image drawn anew
    # a random way (sketch_styles.training_drawings: edge strength, outline only, thick, gaps, warps)
    drawings: str = setting("edges", "Drawings", choices=("edges", "mix"),
                            help="one edge map per image, or each image drawn anew every epoch a random way "
                                 "(edge strength, outline only, thick strokes, gaps, warps)")
    ngf: int = setting(16, "Width", lo=1, hi=1024, cli="--width", help="channels of G's first layer")
    ndf: int = 32
    seed: int = setting(0, "Seed", lo=0, hi=2**32 - 1)
    data_root: str | None = None
    device: str = "auto"
    checkpoint_every: int = 500  # steps
    # epoch where the learning rate starts falling linearly to 0 at the end (None: constant)
    decay_from: int | None = setting(None, "Decay from epoch", lo=0, hi=100_000, kind=int, optional=True,
                                     help=DECAY_HELP)
    # exponential moving average of G's weights (0: off); shipped if on
    g_average: float = setting(0.0, "G weight average", lo=0.0, hi=0.9999)
    max_steps: int | None = setting(None, "Max steps", lo=1, hi=10**9, kind=int, optional=True)
    # stop this piece after so much training time; --resume goes on
    max_minutes: float | None = setting(None, "Max minutes", lo=1e-6, hi=1e7, kind=float, optional=True,
                                        help=MAX_MINUTES_HELP)
    limit: int | None = None  # train on the first N images only (quick looks, tests)


def _gan_loss(logits: torch.Tensor, real: bool, kind: str) -> torch.Tensor:
    if kind == "lsgan":
        return F.mse_loss(logits, torch.full_like(logits, 1.0 if real else 0.0))
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 1.0 if real else 0.0))


@torch.no_grad()
def recalibrate_batch_norm(G: torch.nn.Module, lines: torch.Tensor, labels: torch.Tensor, n_classes: int,
                           hint_share: float, batch_size: int, gen: torch.Generator, batches: int = 200) -> None:
    """Batch-norm statistics for a weight average: its averaged weights never ran through its own
    normalisation layers, and the running statistics of any one step's G belong to that G's weights.
    ``batches`` forward passes in training mode over training drawings (as many hinted as in
    training), the statistics averaged over all of them (momentum None), then eval mode."""
    norms = [m for m in G.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    G.train()
    for _ in range(batches):
        idx = torch.randint(len(lines), (batch_size,), generator=gen)
        hint = torch.where(torch.rand(batch_size, generator=gen) < hint_share, labels[idx], n_classes)
        G(lines[idx], hint)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    G.eval()


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
    if cfg.drawings not in ("edges", "mix"):
        raise UserError(f"--drawings must be edges or mix, got {cfg.drawings!r}.")
    lines = to_model_input(edge_maps(data.images[keep])) if cfg.drawings == "edges" else None
    n_classes = len(data.classes)

    torch.manual_seed(cfg.seed)
    model_cfg = Pix2PixConfig(ngf=cfg.ngf, ndf=cfg.ndf, num_classes=n_classes)
    G, D = Pix2PixGenerator(model_cfg).to(device), PatchDiscriminator(model_cfg).to(device)
    opt_g = torch.optim.Adam(G.parameters(), cfg.lr, betas=(cfg.beta1, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), cfg.lr, betas=(cfg.beta1, 0.999))
    nets, opts = {"G": G, "D": D}, {"G": opt_g, "D": opt_d}
    G_avg = None
    if cfg.g_average > 0:  # as the image trainer's: the average of G's weights draws cleaner garments
        G_avg = copy.deepcopy(G).eval().requires_grad_(False)
        nets["G_avg"] = G_avg
    step, wall, pieces = 0, 0.0, []
    state = state_stem(out)
    if resume and has_checkpoint(state):
        meta = load_checkpoint(state, nets, opts)
        step, wall, pieces = meta["step"], meta["wall_time_s"], meta.get("pieces", [])
    elif resume:
        print(f"No training state at {checkpoint_paths(state)[0]}; starting from scratch.")
    per_epoch = max(1, len(images) // cfg.batch_size)
    schedule = cfg.epochs * per_epoch
    total = schedule if cfg.max_steps is None else min(cfg.max_steps, schedule)

    decay_from = cfg.epochs if cfg.decay_from is None else cfg.decay_from
    piece_start_step, piece_start_wall = step, wall

    def save() -> None:
        piece = {"from_step": piece_start_step, "to_step": step, "wall_time_s": round(wall - piece_start_wall, 1),
                 "device": _device_name(device)}
        save_checkpoint(state, nets, opts, {"step": step, "wall_time_s": wall, "config": asdict(cfg),
                                            "pieces": [*pieces, piece]})

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
        if G_avg is not None:  # its batch-norm statistics are recomputed at the end (recalibrate_batch_norm)
            update_average(G_avg, G, cfg.g_average, buffers=False)
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
            for group in opt_g.param_groups + opt_d.param_groups:
                group["lr"] = cfg.lr * lr_factor(epoch, cfg.epochs, decay_from)
            keep_hint = torch.rand(len(images), generator=gen) < cfg.hint_share
            if cfg.drawings == "mix":  # drawn anew each epoch, from (seed, epoch) alone: resumes exactly
                lines = to_model_input(training_drawings(data.images[keep], gen))
            for b in range(first, per_epoch):
                idx = perm[b * cfg.batch_size:(b + 1) * cfg.batch_size]
                hint = torch.where(keep_hint[idx], labels[idx], n_classes)
                metrics = update(lines[idx].to(device), images[idx].to(device), hint.to(device))
                step += 1
                wall = time.perf_counter() - start
                log.record(step, epoch, metrics)
                if step % cfg.checkpoint_every == 0:
                    save()
                if step >= total or (cfg.max_minutes is not None
                                     and wall - piece_start_wall > cfg.max_minutes * 60):
                    total = step  # a time-boxed piece ends here; --resume goes on
                    break
    finally:
        log.close()
    save()
    pieces = load_checkpoint_meta(state).get("pieces", [])
    if step >= schedule:  # done: the shipped generator is all that is needed
        delete_checkpoint(state)

    card = {
        "family": "pix2pix",
        "config": asdict(model_cfg),
        "dataset": cfg.dataset,
        "classes": list(data.classes),
        "description": (f"pix2pix (Isola et al. 2017) trained by GAN Playground: a line drawing in, a "
                        f"{'garment' if cfg.dataset == 'fashion' else 'digit'} out. Inputs are "
                        + (f"the thinned edges of {cfg.dataset} training images (gan_demo/sketch.py)"
                           if cfg.drawings == "edges" else
                           f"{cfg.dataset} training images drawn a different way each epoch (edge strength, "
                           "outline only, thick strokes, gaps, warps: gan_demo/sketch_styles.py), thinned")
                        + "; an optional class hint goes in at the U-Net's bottleneck."),
        "training": {
            **{k: v for k, v in asdict(cfg).items()
               if k not in ("data_root", "max_steps", "checkpoint_every", "limit", "max_minutes")},
            "pieces": pieces,
            **({"drawing_mix": dict(MIX)} if cfg.drawings == "mix" else {}),
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
    if G_avg is not None:
        G_avg.cpu()
        drawn = lines if lines is not None else to_model_input(training_drawings(
            data.images[keep], torch.Generator().manual_seed(cfg.seed + 1)))
        recalibrate_batch_norm(G_avg, drawn.cpu(), labels, n_classes, cfg.hint_share, cfg.batch_size,
                               torch.Generator().manual_seed(cfg.seed))
        card["training"]["batch_norm"] = ("statistics of the weight average recomputed over 200 batches of "
                                          "training drawings")
    zoo.save((G_avg if G_avg is not None else G).cpu().eval(), card, out)
    return card
