"""The image trainer behind ``python -m gan_demo train``: epochs over a data set, checkpoints, a card.

It reads like pytorch/examples' dcgan/main.py (D step, then G step, per batch) with the parts that
file fuses kept apart: data from ``gan_demo.data``, steps from ``steps.py``, weights via the zoo.
"""

from __future__ import annotations

import copy
import platform
import time
from collections import deque
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from .. import zoo
from ..data import load_images
from ..errors import UserError
from ..models import config_from_dict, get_family
from . import distributed
from .image_config import ImageConfig, resolved
from .checkpoint import (checkpoint_paths, delete_checkpoint, has_checkpoint, load_checkpoint, save_checkpoint,
                         state_stem)
from .preview import FixedGrid
from .steps import (StepConfig, discriminator_step, generator_step, precision, shared_fake, update_average,
                    use_amp, vaegan_step)


def lr_factor(epoch: float, epochs: int, decay_from: float) -> float:
    """1 until ``decay_from``, then linearly down to 0 at ``epochs`` (CycleGAN's 'linear' policy).
    At the end of a run a falling rate lets G settle near where its weights orbit, as the EMA
    does by averaging."""
    if epoch < decay_from:
        return 1.0
    return max(0.0, 1.0 - (epoch - decay_from) / max(1e-9, epochs - decay_from))


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError("CUDA was asked for but this machine has no usable GPU; use --device cpu.")
    return torch.device(name)


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    threads = torch.get_num_threads()
    return f"cpu ({platform.processor() or platform.machine()}, {threads} thread{'' if threads == 1 else 's'})"


def train_image_gan(cfg: ImageConfig, out: str | Path, resume: bool = False,
                    progress: bool = True,
                    on_step: Callable[[int, dict[str, float]], None] | None = None,
                    on_finish: Callable[[nn.Module, nn.Module], None] | None = None) -> dict[str, Any]:
    """Train, checkpoint to ``OUT.ckpt.*`` as it goes, and write ``OUT.safetensors`` + ``OUT.json``.

    Under torchrun it trains data-parallel (see distributed.py); ``on_finish(G, D)`` runs on every
    rank with its trained nets before the process group closes.
    """
    out = Path(out)
    ddp, device_name = distributed.setup(cfg.device)
    try:
        return _train(cfg, out, resume, progress and ddp.main, on_step, on_finish, ddp, pick_device(device_name))
    finally:
        ddp.close()


def _train(cfg: ImageConfig, out: Path, resume: bool, progress: bool,
           on_step: Callable[[int, dict[str, float]], None] | None,
           on_finish: Callable[[nn.Module, nn.Module], None] | None, ddp: distributed.Dist,
           device: torch.device) -> dict[str, Any]:
    cfg = resolved(cfg)  # the model's D normalisation, mode seeking and R1 where left to it
    family = get_family(cfg.family)
    data = load_images(cfg.dataset, cfg.data_root, train=True)
    model_cfg = config_from_dict(family, {"latent_dim": cfg.latent_dim, "width": cfg.width,
                                          "num_classes": len(data.classes), "d_norm": cfg.d_norm})
    torch.manual_seed(cfg.seed)
    # channels_last: oneDNN's convolutions run faster in it on the CPU (and cuDNN's with bf16).
    G = family.generator(model_cfg).to(device, memory_format=torch.channels_last)
    D = family.discriminator(model_cfg).to(device, memory_format=torch.channels_last)
    # A generator may ask for per-part learning rates (StyleGAN's slow mapping network).
    g_params = G.param_groups(cfg.lr_g) if hasattr(G, "param_groups") else G.parameters()
    opt_g = torch.optim.Adam(g_params, cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(D.parameters(), cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    step_cfg = StepConfig(loss=cfg.loss, amp=use_amp(cfg.amp, device), mode_seeking=cfg.mode_seeking,
                          r1=cfg.r1)

    if ddp.enabled and family.name == "vaegan":
        raise UserError("VAE-GAN trains in one process; run it without torchrun.")
    images, labels = data.tensors()
    images, labels = images.to(device, memory_format=torch.channels_last), labels.to(device)
    n_batches = len(images) // ddp.world // cfg.batch_size  # per rank; cfg.batch_size is per process
    if n_batches == 0:
        raise UserError(f"Batch size {cfg.batch_size} is larger than the data set ({len(images)}).")

    z_gen = torch.Generator(device=device)
    z_gen.manual_seed(cfg.seed + 7919 * ddp.rank)  # each rank its own noise
    # The average is what ships: a GAN's weights orbit the equilibrium, their average sits nearer it.
    G_avg = copy.deepcopy(G).eval().requires_grad_(False) if cfg.g_average > 0 else None
    nets = {"G": G, "D": D, **({"G_avg": G_avg} if G_avg is not None else {})}
    state = state_stem(out)
    step, wall, pieces, curve = 0, 0.0, [], []
    if resume and has_checkpoint(state):
        meta = load_checkpoint(state, nets, {"G": opt_g, "D": opt_d})
        step, wall = meta["step"], meta["wall_time_s"]
        pieces, curve = meta.get("pieces", []), meta.get("frechet_curve", [])
        if meta.get("z_rng") is not None and ddp.world == 1:
            z_gen.set_state(torch.tensor(meta["z_rng"], dtype=torch.uint8))
        else:
            z_gen.manual_seed(cfg.seed + step + 7919 * ddp.rank)  # fresh but reproducible noise
    elif resume:
        print(f"No training state at {checkpoint_paths(state)[0]}; starting from scratch.")
    piece = {"from_step": step, "wall_time_s": 0.0, "device": _device_name(device)}
    # Each group keeps the rate it started with (saved with the optimiser), so a decay begun in a
    # later piece of a run scales the rates the run was trained at, StyleGAN's per-part ones included.
    for group in opt_g.param_groups + opt_d.param_groups:
        group.setdefault("base_lr", group["lr"])

    schedule = cfg.epochs * n_batches
    total = schedule if cfg.max_steps is None else min(cfg.max_steps, schedule)
    recent: deque[dict[str, float]] = deque(maxlen=100)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=total, initial=step, unit="step", dynamic_ncols=True)

    # D steps go through D's DDP wrapper and G steps through G's, so each net's gradients are
    # averaged across ranks exactly once per update; the other net is called bare (it is not updated).
    G_ddp, D_ddp = ddp.wrap(G, device), ddp.wrap(D, device)
    shipped = G_avg if G_avg is not None else G

    preview = None
    if cfg.live_preview and ddp.main:
        preview = FixedGrid(model_cfg.latent_dim, len(data.classes) if family.conditional else None, device,
                            seed=cfg.seed)
        preview.write(shipped, cfg.live_preview, step)
    probe = None
    if cfg.eval_every and ddp.main:
        from ..metrics.evaluation import FrechetProbe
        probe = FrechetProbe(cfg.dataset, model_cfg.latent_dim, len(data.classes), family.conditional,
                             n=cfg.fid_samples, seed=cfg.seed, data_root=cfg.data_root)

    def checkpoint() -> None:
        if not ddp.main:
            return
        save_checkpoint(state, nets, {"G": opt_g, "D": opt_d},
                        {"step": step, "wall_time_s": wall, "config": asdict(cfg),
                         "pieces": [*pieces, {**piece, "to_step": step}], "frechet_curve": curve,
                         "z_rng": z_gen.get_state().tolist() if device.type == "cpu" else None})

    def average() -> None:
        update_average(G_avg, G, cfg.g_average)

    def fake_classes(n: int) -> torch.Tensor | None:
        # Uniform classes for fakes: G must cover every class, whatever the data's balance.
        if not family.conditional:
            return None
        return torch.randint(len(data.classes), (n,), generator=z_gen, device=device)

    def update(real: torch.Tensor, real_y: torch.Tensor | None) -> dict[str, float]:
        """One training step on one batch: D (d_steps times), then G; VAE-GAN has its own."""
        def noise() -> torch.Tensor:
            return torch.randn(len(real), model_cfg.latent_dim, generator=z_gen, device=device)

        if family.name == "vaegan":
            return vaegan_step(G, D, opt_g, opt_d, real, noise(), step_cfg, cfg.kl_weight,
                               cfg.feature_weight)
        for _ in range(cfg.d_steps - 1):
            discriminator_step(G, D_ddp, opt_d, real, noise(), step_cfg, real_y, fake_classes(len(real)))
        # The last D step and G's share one G(z), drawn through G's DDP wrapper (its gradients are G's).
        z = noise()
        fake, fake_y = shared_fake(G_ddp, z, step_cfg, fake_classes(len(real)))
        metrics = discriminator_step(G, D_ddp, opt_d, real, z, step_cfg, real_y, fake_y, fake=fake)
        metrics.update(generator_step(G_ddp, D, opt_g, z, step_cfg, fake_y, fake=fake))
        return metrics

    start = time.perf_counter() - wall
    piece_start = time.perf_counter()
    try:
        while step < total:
            epoch, batch_idx = divmod(step, n_batches)
            # Each epoch's order depends on (seed, epoch) alone, so a resumed run sees the same batches.
            perm = ddp.shard(torch.randperm(len(images),
                                            generator=torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)))
            for b in range(batch_idx, n_batches):
                idx = perm[b * cfg.batch_size:(b + 1) * cfg.batch_size].to(device)
                if cfg.decay_from is not None:
                    factor = lr_factor(step / n_batches, cfg.epochs, cfg.decay_from)
                    for group in opt_g.param_groups + opt_d.param_groups:
                        group["lr"] = group["base_lr"] * factor
                real = images[idx]
                metrics = update(real, labels[idx] if family.conditional else None)
                if G_avg is not None:
                    average()
                step += 1
                wall = time.perf_counter() - start
                recent.append(metrics)
                if not np.isfinite(metrics["d_loss"] + metrics["g_loss"]):
                    raise UserError(f"Training diverged at step {step} (loss is NaN); "
                                    "lower the learning rate or resume from the last checkpoint.")
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(epoch=epoch + 1, d_loss=f"{metrics['d_loss']:.3f}",
                                    g_loss=f"{metrics['g_loss']:.3f}", D_x=f"{metrics['d_real']:.2f}",
                                    D_G_z=f"{metrics['d_fake']:.2f}", refresh=False)
                if on_step is not None:
                    on_step(step, metrics)
                if preview is not None and (step % cfg.preview_every == 0 or step >= total):
                    preview.write(shipped, cfg.live_preview, step)
                if probe is not None and step % cfg.eval_every == 0:
                    curve.append([step, probe(shipped)])
                    if bar is not None:
                        bar.write(f"step {step}: Frechet distance {curve[-1][1]} ({cfg.fid_samples} samples)")
                piece["wall_time_s"] = round(time.perf_counter() - piece_start, 1)
                if step % cfg.checkpoint_every == 0:
                    checkpoint()
                if cfg.max_minutes is not None and piece["wall_time_s"] >= 60 * cfg.max_minutes:
                    total = step  # a time-boxed piece ends here; --resume continues the schedule
                if step >= total:
                    break
    except KeyboardInterrupt:
        checkpoint()
        raise UserError(f"Stopped at step {step}; resume with --resume.") from None
    finally:
        if bar is not None:
            bar.close()
    checkpoint()
    pieces = [*pieces, {**piece, "to_step": step}]
    if step >= schedule and ddp.main:  # the schedule is done: the shipped generator is all that is needed
        delete_checkpoint(state)

    final = {k: float(np.mean([m[k] for m in recent])) for k in recent[0]} if recent else {}
    card = {
        "family": cfg.family,
        "config": asdict(model_cfg),
        "dataset": cfg.dataset,
        "classes": list(data.classes),
        "conditional": family.conditional,
        "description": f"{family.title or family.name} trained by GAN Playground on {cfg.dataset}"
                       f"{' with the ' + cfg.loss + ' loss' if cfg.loss != 'ns' else ''}.",
        "training": {
            **{k: v for k, v in asdict(cfg).items()
               if k not in ("data_root", "max_steps", "max_minutes", "checkpoint_every", "live_preview",
                            "preview_every", "train_weaker")},
            "family": cfg.family,
            "epochs_done": round(step / n_batches, 3),
            "steps": step,
            "wall_time_s": round(wall, 1),
            "schedule_steps": schedule,
            "pieces": pieces,
            "device": _device_name(device) + (f" x {ddp.world} processes (DDP)" if ddp.enabled else ""),
            "precision": precision(step_cfg.amp),
            "data_source": data.source,
            "train_images": len(images),
            "torch": torch.__version__,
        },
        "metrics": {"last_100_steps_mean": {k: round(v, 4) for k, v in final.items()},
                    **({"frechet_curve": {"samples": cfg.fid_samples, "points": curve}} if curve else {})},
    }
    if on_finish is not None:
        on_finish(G, D)
    if ddp.main:
        zoo.save(shipped.cpu().eval(), card, out)
    ddp.barrier()
    return card
