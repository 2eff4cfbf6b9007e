"""CycleGAN training behind ``python -m gan_demo train cyclegan``: the reference recipe, resumable.

As in junyanz/pytorch-CycleGAN-and-pix2pix (``cycle_gan_model.py``): least-squares GAN loss, cycle
loss lambda 10 in both directions, identity loss 0.5 * lambda, a pool of 50 past fakes for each
discriminator, Adam 2e-4 with beta1 0.5, the learning rate constant for the first half of the
epochs and then linearly decaying to 0, and photos loaded at 1.12x the crop size, randomly cropped
and flipped. Mixed precision (bf16 autocast) on CUDA. Naming here is by domain: ``D_B`` judges
domain B (zebras, real or made by ``G_AB``), ``D_A`` judges domain A.
"""

from __future__ import annotations

import copy
import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

import torch
from torch.nn import functional as F

from .. import zoo
from ..data import load_unpaired
from ..errors import UserError
from ..losses import cycle_loss
from ..settings import setting
from ..translation import load_size
from ..models.cyclegan import (REFERENCE, SMALL, CycleGANConfig, CycleGANPair, PatchDiscriminator, PatchNCEHeads,
                               patch_nce_loss, run_with_features)
from .checkpoint import (checkpoint_paths, delete_checkpoint, has_checkpoint, load_checkpoint,
                         load_checkpoint_extras, load_checkpoint_meta, save_checkpoint, state_stem)
from .progress import StepLog
from .steps import precision, update_average, use_amp
from .image import _device_name, lr_factor, pick_device
from .image_config import AMP_HELP, DECAY_HELP, MAX_MINUTES_HELP


@dataclass
class CycleGANTrainConfig:
    dataset: str = "horse2zebra"
    # photos load at round(1.12 * size), as 286 for 256
    size: int = setting(256, "Crop size", lo=16, hi=1024,
                        help="crop size, 128 or 256 (--any-size allows other multiples of 4)")
    epochs: int = setting(200, "Epochs", lo=1, hi=100_000)
    # epoch where the linear decay starts; None: half way
    decay_from: int | None = setting(None, "Decay from epoch", lo=0, hi=100_000, kind=int, optional=True,
                                     help=DECAY_HELP + " (cyclegan: half way)")
    small: bool = setting(False, "Small generator",
                          help="the small generator (ngf 16, 6 blocks) instead of resnet_9blocks")
    # None: the size's own (16 small, 64 reference); the residual state grows about as its square
    ngf: int | None = setting(None, "Width", lo=4, hi=256, kind=int, optional=True, cli="--width",
                              help="cyclegan: channels of G's first layer (16 with --small, else 64)")
    generator: str = setting("resnet", "Generator", choices=("resnet", "residual", "attention"),
                             help="resnet (the reference's), residual (a change laid onto the photo at its own "
                                  "size, resize-convolutions: no checkerboard, the photo kept where G changes "
                                  "nothing) or attention (paint laid onto the photo through a mask G predicts)")
    # residual / attention: how the decoder upsamples (models/cyclegan.CycleGANConfig.decoder)
    decoder: str = setting("resize", "Decoder", choices=("resize", "subpixel"),
                           help="residual / attention: upsample by nearest resize + convolution, or by sub-pixel "
                                "convolution (PixelShuffle, ICNR-initialised: no checkerboard at the start, finer "
                                "detail than a resize)")
    lambda_change: float = setting(0.0, "Change weight", lo=0.0, hi=1000.0,
                                   help="residual / attention: weight of the mean |change| / mean mask")
    attention_d_from: int | None = setting(None, "Attention D from epoch", lo=0, hi=100_000, kind=int, optional=True,
                                           help="attention: from this epoch on, D judges only the masked region "
                                                "(Mejjati et al. 2018; default: never)")
    lambda_mask_identity: float = setting(0.0, "Mask identity weight", lo=0.0, hi=1000.0,
                                          help="attention: weight of each G's mean mask on photos of its own "
                                               "target domain, which need no paint (trains the masks only)")
    # exponential moving average of both generators' weights (0: off); shipped if on
    g_average: float = setting(0.0, "G weight average", lo=0.0, hi=0.9999)
    distill_steps: int = 300  # --init-from a pair with another decoder: steps of learning to paint as it did
    batch_size: int = setting(1, "Batch size", lo=1, hi=256)
    lr: float = setting(2e-4, "Learning rate", lo=1e-8, hi=1.0, help="Adam learning rate")
    beta1: float = setting(0.5, "Adam beta1", lo=0.0, hi=0.9999)
    lambda_cycle: float = 10.0
    # CUT (Park et al. 2020) in place of the cycle: each direction on its own, with PatchNCE
    objective: str = setting("cycle", "Objective", choices=("cycle", "contrastive"),
                             help="cycle (CycleGAN's: each G must undo the other's change) or contrastive "
                                  "(CUT's PatchNCE: a patch of the output must match the input's patch at the "
                                  "same place, not its other patches; no G has to undo a change)")
    lambda_nce: float = setting(1.0, "PatchNCE weight", lo=0.0, hi=1000.0, help="contrastive: weight of PatchNCE")
    nce_identity: bool = setting(True, "PatchNCE identity",
                                 help="contrastive: also PatchNCE between a target-domain photo and G's output "
                                      "on it (CUT's nce_idt; FastCUT leaves it out)")
    nce_patches: int = 256  # CUT's --num_patches: positions sampled per layer and picture
    lambda_identity: float = setting(0.5, "Identity weight", lo=0.0, hi=1000.0,
                                     help="identity loss weight, times the cycle weight (the reference's 0.5)")
    pool_size: int = 50
    seed: int = setting(0, "Seed", lo=0, hi=2**32 - 1)
    # bf16 took the small residual pair's step from 313 to 201 ms on this project's AVX-512 BF16 CPU
    amp: str = setting("auto", "Mixed precision", choices=("auto", "on", "off"), help=AMP_HELP)
    data_root: str | None = None
    device: str = "auto"
    checkpoint_minutes: float = 10.0
    # Adam's moments in bf16 in the training state: a small pair with CUT's heads is 49 MB in
    # float32, 36 in bf16, and a state committed between sessions must stay under 40. The cost: a
    # resumed run is exact up to that rounding (off: bit for bit, as the tests check).
    compact_state: bool = True
    max_steps: int | None = setting(None, "Max steps", lo=1, hi=10**9, kind=int, optional=True)
    # stop (and write the model) after this much training time
    max_minutes: float | None = setting(None, "Max minutes", lo=1e-6, hi=1e7, kind=float, optional=True,
                                        help=MAX_MINUTES_HELP)
    init_from: str | None = setting(None, "Init from", kind=str, optional=True,
                                    help="a shipped pair (path stem, e.g. weights/cyclegan-horse2zebra) to continue "
                                         "from when no training state is left; D and the optimisers start fresh (a "
                                         "residual generator takes the encoder and residual blocks of a resnet one)")


class ImagePool:
    """Shrivastava et al. 2017 as the reference uses it: D sees a mix of new fakes and fakes from
    up to ``size`` earlier steps, so it cannot just chase G's latest trick."""

    def __init__(self, size: int, rng: random.Random):
        self.size, self.rng, self.images = size, rng, []

    def state(self) -> torch.Tensor:
        """The pooled fakes as uint8 [N, 3, H, W] (a quarter of float32's bytes in a training state)."""
        if not self.images:
            return torch.zeros(0, dtype=torch.uint8)
        return torch.cat(self.images).add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)

    def load_state(self, saved: torch.Tensor, device) -> None:
        self.images = [img[None].float().div(127.5).sub(1).to(device) for img in saved] if saved.dim() == 4 else []

    def query(self, batch: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return batch
        out = []
        for img in batch.detach():
            img = img[None]
            if len(self.images) < self.size:
                self.images.append(img)
                out.append(img)
            elif self.rng.random() > 0.5:
                i = self.rng.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = img
            else:
                out.append(img)
        return torch.cat(out)


def _batch(photos: torch.Tensor, idx: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    """Random crop + horizontal flip of uint8 [N, S, S, 3] photos -> float [B, 3, size, size]."""
    s = photos.shape[1]
    out = []
    for i in idx.tolist():
        y, x = (torch.randint(0, s - size + 1, (2,), generator=gen)).tolist()
        img = photos[i, y:y + size, x:x + size]
        if torch.rand((), generator=gen) < 0.5:
            img = img.flip(1)
        out.append(img)
    return torch.stack(out).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def _as_state(value):
    """JSON turned random.getstate()'s tuples into lists; random.setstate wants them back."""
    return tuple(_as_state(v) for v in value) if isinstance(value, list) else value


def _warm_start(pair: CycleGANPair, stem: Path, model_cfg: CycleGANConfig
                ) -> tuple[int, float, CycleGANPair | None]:
    """Load a shipped pair's generators and where its schedule stood. Checkpoints (with D and the
    optimisers) are too large to ship, so a run that lost its checkpoint continues from the shipped
    generators: D relearns within a few hundred steps, far cheaper than retraining G."""
    import json

    from safetensors.torch import load_file

    weights, card_path = stem.parent / (stem.name + ".safetensors"), stem.parent / (stem.name + ".json")
    if not weights.is_file() or not card_path.is_file():
        raise UserError(f"--init-from {stem}: expected {weights} and {card_path}.")
    card = json.loads(card_path.read_text())
    theirs = {"generator": "resnet", "decoder": "resize", **card.get("config", {})}
    layout = ("generator", "decoder")
    same_size = {k: v for k, v in theirs.items() if k not in layout} == \
        {k: v for k, v in asdict(model_cfg).items() if k not in layout}
    if card.get("family") != "cyclegan" or not same_size:
        raise UserError(f"--init-from {stem} is not a CycleGAN with this generator size "
                        f"(its config: {card.get('config')}; --small changes the size).")
    state = load_file(str(weights))
    if (theirs["generator"], theirs["decoder"]) == (model_cfg.generator, model_cfg.decoder):
        pair.load_state_dict(state)
        training = card.get("training", {})
        return int(training.get("steps", 0)), float(training.get("wall_time_s", 0.0)), None
    # Another decoder: take the encoder and residual blocks (model.0 ... model.{9 + n_blocks}, laid out
    # alike in both generators), which already tell a horse's coat from a zebra's; the caller then
    # teaches the new decoder what the old pair painted (``_distill``) and starts the schedule afresh.
    shared = 10 + model_cfg.n_blocks
    kept = {k: v for k, v in state.items() if int(k.split(".")[2]) < shared}
    missing, unexpected = pair.load_state_dict(kept, strict=False)
    if unexpected or any(int(k.split(".")[2]) < shared for k in missing):
        raise UserError(f"--init-from {stem}: its encoder does not match this generator's.")
    teacher = CycleGANPair(CycleGANConfig(**theirs))
    teacher.load_state_dict(state)
    return 0, 0.0, teacher.eval()


def _blend_detached_with(mask: torch.Tensor, paint: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``mask * paint + (1 - mask) * x`` with no gradient into the mask."""
    mask = mask.detach()
    return mask * paint + (1 - mask) * x


def _blend_detached(G, x: torch.Tensor) -> torch.Tensor:
    """An attention generator's output on ``x`` with no gradient into its mask."""
    paint, mask = G.parts(x)
    return _blend_detached_with(mask, paint, x)


def _blur(x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    r = 2
    g = torch.exp(-((torch.arange(2 * r + 1, dtype=x.dtype, device=x.device) - r) ** 2) / (2 * sigma ** 2))
    w = (g[:, None] * g[None, :] / g.sum() ** 2).expand(x.shape[1], 1, -1, -1)
    return F.conv2d(F.pad(x, (r, r, r, r), mode="reflect"), w, groups=x.shape[1])


def _distill(pair: CycleGANPair, teacher: CycleGANPair, photos_a: torch.Tensor, photos_b: torch.Tensor,
             cfg: "CycleGANTrainConfig", device, crop_gen: torch.Generator) -> float:
    """Teach a new decoder what the old pair painted: L1 to the teacher's output on both domains,
    blurred (sigma 1) so that its checkerboard (power at the Nyquist frequency, kept to 0.7 % by the
    blur) is not learnt with its stripes. A few hundred of these steps cost what a few dozen CycleGAN
    steps do and start the schedule from zebras instead of from nothing. Returns the last L1."""
    teacher = teacher.to(device)
    opt = torch.optim.Adam(pair.parameters(), 1e-3, betas=(0.5, 0.999))
    loss = torch.zeros(())
    for _ in range(cfg.distill_steps):
        ia = torch.randint(len(photos_a), (cfg.batch_size,), generator=crop_gen)
        ib = torch.randint(len(photos_b), (cfg.batch_size,), generator=crop_gen)
        x = torch.cat([_batch(photos_a, ia, cfg.size, crop_gen), _batch(photos_b, ib, cfg.size, crop_gen)]).to(device)
        with torch.no_grad():
            t_ab, t_ba = _blur(teacher.G_AB(x)), _blur(teacher.G_BA(x))
        loss = F.l1_loss(pair.G_AB(x), t_ab) + F.l1_loss(pair.G_BA(x), t_ba)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return float(loss)


def train_cyclegan(cfg: CycleGANTrainConfig, out: str | Path, resume: bool = False, progress: bool = True,
                   on_step: Callable[[int, dict[str, float]], None] | None = None) -> dict[str, Any]:
    """Train both generators; write the training state (all four nets, both optimisers, the step,
    RNG states and the image pools) to ``state_stem(OUT)`` every ``checkpoint_minutes``, atomically;
    write ``OUT.safetensors`` (G_AB and G_BA) and ``OUT.json``. The state is deleted once the
    whole schedule is done, as the final model needs only the generators."""
    out = Path(out)
    state = state_stem(out)
    if cfg.size % 4 or cfg.size < 32:
        raise UserError(f"--size must be a multiple of 4 and at least 32, got {cfg.size}.")
    device = pick_device(cfg.device)
    decay_from = cfg.epochs // 2 if cfg.decay_from is None else cfg.decay_from
    data = load_unpaired(cfg.dataset, cfg.data_root, "train", size=round(cfg.size * 1.12))
    photos_a, photos_b = torch.from_numpy(data.a), torch.from_numpy(data.b)
    n_batches = max(len(photos_a), len(photos_b)) // cfg.batch_size  # the reference: the larger domain

    torch.manual_seed(cfg.seed)
    if cfg.generator not in ("resnet", "residual", "attention"):
        raise UserError(f"--generator must be resnet, residual or attention, got {cfg.generator!r}.")
    base = SMALL if cfg.small else REFERENCE
    model_cfg: CycleGANConfig = replace(base, generator=cfg.generator, decoder=cfg.decoder,
                                        ngf=cfg.ngf or base.ngf)
    pair = CycleGANPair(model_cfg).to(device)
    D_A, D_B = PatchDiscriminator(model_cfg).to(device), PatchDiscriminator(model_cfg).to(device)
    if cfg.objective not in ("cycle", "contrastive"):
        raise UserError(f"--objective must be cycle or contrastive, got {cfg.objective!r}.")
    contrastive = cfg.objective == "contrastive"
    if contrastive and model_cfg.generator == "attention":
        raise UserError("--objective contrastive needs --generator resnet or residual.")
    # one set of heads per direction: G_AB's encoder reads horses and its own zebras, G_BA's zebras
    heads = torch.nn.ModuleDict({"AB": PatchNCEHeads(model_cfg), "BA": PatchNCEHeads(model_cfg)}).to(device) \
        if contrastive else None
    opt_g = torch.optim.Adam([*pair.parameters(), *(heads.parameters() if heads is not None else ())],
                             cfg.lr, betas=(cfg.beta1, 0.999))
    opt_d = torch.optim.Adam([*D_A.parameters(), *D_B.parameters()], cfg.lr, betas=(cfg.beta1, 0.999))
    nets, opts = {"G": pair, "D_A": D_A, "D_B": D_B, **({"F": heads} if heads is not None else {})}, \
        {"G": opt_g, "D": opt_d}

    step, wall, saved, teacher, sessions, distilled = 0, 0.0, None, None, [], None
    # Yazici et al. 2019: an average of G's weights over the last steps draws better than G at any
    # one step; here the masks swung between steps (a dark horse striped at one checkpoint, bare a
    # thousand steps later). A state saved without an average starts one where it resumes.
    pair_avg, avg_since = None, None
    if cfg.g_average > 0:
        pair_avg = copy.deepcopy(pair).eval().requires_grad_(False)
    if resume and has_checkpoint(state):
        avg_since = load_checkpoint_meta(state).get("g_average_since") if pair_avg is not None else None
        meta = load_checkpoint(state, {**nets, **({"G_avg": pair_avg} if avg_since is not None else {})}, opts)
        step, wall, saved = meta["step"], meta["wall_time_s"], meta
        distilled, sessions = meta.get("distilled"), meta.get("pieces", [])
    elif cfg.init_from:
        step, wall, teacher = _warm_start(pair, Path(cfg.init_from), model_cfg)
        print(f"Continuing {cfg.init_from} from step {step} with fresh discriminators and optimisers.")
    elif resume:
        print(f"No training state at {checkpoint_paths(state)[0]}; starting from scratch.")
    if pair_avg is not None and avg_since is None:  # a fresh run, or a state saved without one
        pair_avg.load_state_dict(pair.state_dict())
        avg_since = step
    schedule = cfg.epochs * n_batches
    total = schedule if cfg.max_steps is None else min(cfg.max_steps, schedule)
    rng = random.Random(cfg.seed + step)
    pool_a, pool_b = ImagePool(cfg.pool_size, rng), ImagePool(cfg.pool_size, rng)
    crop_gen = torch.Generator().manual_seed(cfg.seed + step)
    if saved is not None and "rng" in saved:  # the run continues exactly where it stopped
        rng.setstate(_as_state(saved["rng"]["python"]))
        crop_gen.set_state(torch.tensor(saved["rng"]["crop"], dtype=torch.uint8))
        torch.set_rng_state(torch.tensor(saved["rng"]["torch"], dtype=torch.uint8))
        extra = load_checkpoint_extras(state)
        pool_a.load_state(extra.get("pool.A", torch.zeros(0)), device)
        pool_b.load_state(extra.get("pool.B", torch.zeros(0)), device)
    if teacher is not None:
        t0 = time.perf_counter()
        distilled = {"steps": cfg.distill_steps, "from": Path(cfg.init_from).name,
                     "l1": round(_distill(pair, teacher, photos_a, photos_b, cfg, device, crop_gen), 4)}
        wall += time.perf_counter() - t0
        distilled["wall_time_s"] = round(wall, 1)
        print(f"Taught the new decoder to paint as {cfg.init_from} did: {distilled}.")
    piece_start_step, piece_start_wall = step, wall
    residual = model_cfg.generator in ("residual", "attention")  # ours: a change laid onto the photo
    attention = model_cfg.generator == "attention"
    amp = use_amp(cfg.amp, device)
    lam, lam_id = cfg.lambda_cycle, cfg.lambda_cycle * cfg.lambda_identity

    def mse_to(pred: torch.Tensor, target: float) -> torch.Tensor:
        return F.mse_loss(pred.float(), torch.full_like(pred.float(), target))

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp)

    guided = {"since_step": saved.get("attention_d_since") if saved else None}

    def nce(G, mlps: PatchNCEHeads, source_feats: list[torch.Tensor], output: torch.Tensor) -> torch.Tensor:
        """PatchNCE between ``output`` (read by G's own encoder) and the input G made it from, in
        float32: at temperature 0.07, bf16's 8-bit mantissa blurs the logits."""
        out_feats = run_with_features(G, output, mlps.layers, full=False)[1]
        ids = [torch.randperm(f.shape[2] * f.shape[3], device=device)[:cfg.nce_patches] for f in source_feats]
        with torch.autocast(device.type, enabled=False):
            qs = mlps([f.float() for f in out_feats], ids)
            ks = mlps([f.float() for f in source_feats], ids)
            return sum(patch_nce_loss(q, k, output.shape[0]) for q, k in zip(qs, ks)) / len(qs)

    def contrastive_generators(real_a: torch.Tensor, real_b: torch.Tensor):
        """CUT's generator loss for both directions at once (two independent one-sided models)."""
        layers = heads["AB"].layers
        fake_b, feats_a = run_with_features(pair.G_AB, real_a, layers)
        fake_a, feats_b = run_with_features(pair.G_BA, real_b, layers)
        g_ab, g_ba = mse_to(D_B(fake_b), 1.0), mse_to(D_A(fake_a), 1.0)
        nce_a, nce_b = nce(pair.G_AB, heads["AB"], feats_a, fake_b), nce(pair.G_BA, heads["BA"], feats_b, fake_a)
        idt_a = idt_b = torch.zeros((), device=device)
        if cfg.nce_identity or lam_id > 0:
            same_b, feats_bb = run_with_features(pair.G_AB, real_b, layers)
            same_a, feats_aa = run_with_features(pair.G_BA, real_a, layers)
            if cfg.nce_identity:  # CUT: (NCE(X) + NCE(Y)) / 2
                nce_a = 0.5 * (nce_a + nce(pair.G_AB, heads["AB"], feats_bb, same_b))
                nce_b = 0.5 * (nce_b + nce(pair.G_BA, heads["BA"], feats_aa, same_a))
            if lam_id > 0:
                idt_b = F.l1_loss(same_b.float(), real_b) * lam_id
                idt_a = F.l1_loss(same_a.float(), real_a) * lam_id
        change = 0.5 * ((fake_a - real_b).float().abs().mean() + (fake_b - real_a).float().abs().mean())
        loss = g_ab + g_ba + cfg.lambda_nce * (nce_a + nce_b) + idt_a + idt_b + cfg.lambda_change * change
        metrics = {"G_AB": g_ab, "G_BA": g_ba, "nce_A": nce_a, "nce_B": nce_b, "idt_A": idt_a, "idt_B": idt_b,
                   **({"change": change} if residual else {})}
        return fake_a, fake_b, loss, metrics

    def seen_by_d(mask: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        # Mejjati et al. 2018, "Unsupervised Attention-guided Image-to-Image Translation": once the
        # masks have found the animal, D judges only the masked region (mask above 0.1, the rest
        # set to 0), real and fake alike. Judged on whole frames, D_B told a horse's beach from a
        # zebra's savanna, and G's masks spread over sky and sea to repaint them.
        return (mask.detach() > 0.1).to(image.dtype) * image

    def update(real_a: torch.Tensor, real_b: torch.Tensor, epoch: int) -> dict[str, float]:
        guide = attention and cfg.attention_d_from is not None and epoch >= cfg.attention_d_from
        if guide and guided["since_step"] is None:  # the pools hold whole frames: start them afresh
            guided["since_step"] = step
            pool_a.images, pool_b.images = [], []
        # Generators, with both discriminators frozen.
        for p in [*D_A.parameters(), *D_B.parameters()]:
            p.requires_grad_(False)
        change = torch.zeros((), device=device)
        if contrastive:
            with autocast():
                fake_a, fake_b, loss_g, g_metrics = contrastive_generators(real_a, real_b)
            return finish(real_a, real_b, fake_a, fake_b, loss_g, g_metrics)
        with autocast():
            if attention:
                (paint_b, mask_b), (paint_a, mask_a) = pair.G_AB.parts(real_a), pair.G_BA.parts(real_b)
                fake_b = mask_b * paint_b + (1 - mask_b) * real_a
                fake_a = mask_a * paint_a + (1 - mask_a) * real_b
                change = 0.5 * (mask_a.float().mean() + mask_b.float().mean())  # how much is repainted
                # The cycle loss trains the paint, never the masks: a mask at 0 is a perfect cycle,
                # and with the cycle's weight of 10 against a discriminator still at chance, every
                # mask shut within 100 steps (mean 0.5 -> 0.02). Only D, through the adversarial
                # loss, says where the photo must change.
                rec_a = _blend_detached(pair.G_BA, _blend_detached_with(mask_b, paint_b, real_a))
                rec_b = _blend_detached(pair.G_AB, _blend_detached_with(mask_a, paint_a, real_b))
            else:
                fake_b, fake_a = pair.G_AB(real_a), pair.G_BA(real_b)
                rec_a, rec_b = pair.G_BA(fake_b), pair.G_AB(fake_a)
            if residual and not attention:  # what a translation lays onto the photo
                change = 0.5 * ((fake_a - real_b).float().abs().mean() + (fake_b - real_a).float().abs().mean())
            if guide:  # mask_a is G_BA's on the zebra photo: where it sees the zebra
                judged_b, judged_a = seen_by_d(mask_b, fake_b), seen_by_d(mask_a, fake_a)
                shown_b, shown_a = seen_by_d(mask_a, real_b), seen_by_d(mask_b, real_a)
            else:
                judged_b, judged_a, shown_b, shown_a = fake_b, fake_a, real_b, real_a
            g_ab, g_ba = mse_to(D_B(judged_b), 1.0), mse_to(D_A(judged_a), 1.0)
            cyc_a = cycle_loss(rec_a, real_a) * lam
            cyc_b = cycle_loss(rec_b, real_b) * lam
            idt_a = idt_b = torch.zeros((), device=device)
            if lam_id > 0:  # G_AB should leave a zebra a zebra, and G_BA a horse a horse
                idt_b = F.l1_loss(pair.G_AB(real_b).float(), real_b) * lam_id
                idt_a = F.l1_loss(pair.G_BA(real_a).float(), real_a) * lam_id
            mask_idt = torch.zeros((), device=device)
            if attention and cfg.lambda_mask_identity > 0:
                # What a photo of the target domain holds needs no paint: G_AB's mask on a zebra
                # photo (savanna, sky, trees, the zebra) should be 0, and G_BA's on a horse photo.
                # Unlike the identity loss this trains only the masks, so the paint that makes
                # stripes is not pulled towards copying its input.
                mask_idt = 0.5 * (pair.G_AB.parts(real_b)[1].float().mean()
                                  + pair.G_BA.parts(real_a)[1].float().mean())
            loss_g = (g_ab + g_ba + cyc_a + cyc_b + idt_a + idt_b + cfg.lambda_change * change
                      + cfg.lambda_mask_identity * mask_idt)
        return finish(shown_a, shown_b, judged_a, judged_b, loss_g, {
            "G_AB": g_ab, "G_BA": g_ba, "cycle_A": cyc_a, "cycle_B": cyc_b, "idt_A": idt_a, "idt_B": idt_b,
            **({"change": change} if residual else {}),
            **({"mask_idt": mask_idt} if cfg.lambda_mask_identity > 0 else {})})

    def finish(shown_a, shown_b, judged_a, judged_b, loss_g, g_metrics) -> dict[str, float]:
        """G's step on ``loss_g``, then both discriminators' on real photos and pooled fakes."""
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if pair_avg is not None:
            update_average(pair_avg, pair, cfg.g_average, buffers=False)
        for p in [*D_A.parameters(), *D_B.parameters()]:
            p.requires_grad_(True)
        # Discriminators, on pooled fakes.
        with autocast():
            d_b = 0.5 * (mse_to(D_B(shown_b), 1.0) + mse_to(D_B(pool_b.query(judged_b.float())), 0.0))
            d_a = 0.5 * (mse_to(D_A(shown_a), 1.0) + mse_to(D_A(pool_a.query(judged_a.float())), 0.0))
        opt_d.zero_grad(set_to_none=True)
        (d_a + d_b).backward()
        opt_d.step()
        return {"D_A": d_a.item(), "D_B": d_b.item(), **{k: v.item() for k, v in g_metrics.items()}}

    def checkpoint() -> None:
        piece = {"started_at_step": piece_start_step, "steps": step - piece_start_step,
                 "wall_time_s": round(wall - piece_start_wall, 1), "device": _device_name(device),
                 "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
        save_checkpoint(state, {**nets, **({"G_avg": pair_avg} if pair_avg is not None else {})}, opts, {
            "step": step, "wall_time_s": wall, "config": asdict(cfg), "pieces": [*sessions, piece],
            "distilled": distilled, "attention_d_since": guided["since_step"], "g_average_since": avg_since,
            "rng": {"python": rng.getstate(), "crop": crop_gen.get_state().tolist(),
                    "torch": torch.get_rng_state().tolist()}},
            extra={"pool.A": pool_a.state(), "pool.B": pool_b.state()}, compact_moments=cfg.compact_state)

    log = StepLog(total, step, progress)
    start = time.perf_counter() - wall
    last_ckpt = time.perf_counter()
    pair.train(), D_A.train(), D_B.train()
    try:
        while step < total:
            epoch, batch_idx = divmod(step, n_batches)
            gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
            perm_a = torch.randperm(len(photos_a), generator=gen)
            perm_b = torch.randperm(len(photos_b), generator=gen)
            for group in opt_g.param_groups + opt_d.param_groups:
                group["lr"] = cfg.lr * lr_factor(epoch, cfg.epochs, decay_from)
            for b in range(batch_idx, n_batches):
                sl = slice(b * cfg.batch_size, (b + 1) * cfg.batch_size)
                # The smaller domain wraps around (the reference's unaligned dataset does the same).
                ia = perm_a[torch.arange(sl.start, sl.stop) % len(photos_a)]
                ib = perm_b[torch.arange(sl.start, sl.stop) % len(photos_b)]
                real_a = _batch(photos_a, ia, cfg.size, crop_gen).to(device)
                real_b = _batch(photos_b, ib, cfg.size, crop_gen).to(device)
                metrics = update(real_a, real_b, epoch)
                step += 1
                wall = time.perf_counter() - start
                log.record(step, epoch, metrics)
                if on_step is not None:
                    on_step(step, metrics)
                if time.perf_counter() - last_ckpt > cfg.checkpoint_minutes * 60:
                    checkpoint()
                    last_ckpt = time.perf_counter()
                if step >= total or (cfg.max_minutes is not None
                                      and wall - piece_start_wall > cfg.max_minutes * 60):  # this piece's time
                    total = step  # a time-boxed run ends here; --resume continues the schedule
                    break
    except KeyboardInterrupt:
        checkpoint()
        raise UserError(f"Stopped at step {step}; resume with --resume.") from None
    finally:
        log.close()
    checkpoint()
    pieces = load_checkpoint_meta(state).get("pieces", [])
    if step >= schedule:  # the schedule is done: the shipped generators are all that is needed
        delete_checkpoint(state)

    a, b = data.domains
    card = {
        "family": "cyclegan",
        "config": asdict(model_cfg),
        "dataset": cfg.dataset,
        "domains": {"A": a, "B": b},
        "work_size": load_size(cfg.size),  # whole photos at the training scale
        "description": (f"CycleGAN (Zhu et al. 2017) trained by GAN Playground on {cfg.dataset}: "
                        f"G_AB turns a {a} into a {b}, G_BA back"
                        + (", each trained on its own with CUT's PatchNCE (Park et al. 2020) in place of the "
                           "cycle loss" if contrastive else "")
                        + (" (an attention generator: paint laid onto the photo through a mask, at the photo's size)."
                           if attention else
                           " (our residual generator: a change laid onto the photo at its own size)." if residual else
                           f" (the small generator: ngf {model_cfg.ngf}, 6 blocks)." if cfg.small else
                           " (the reference resnet_9blocks generator).")),
        "training": {
            **{k: v for k, v in asdict(cfg).items()
               if k not in ("data_root", "max_steps", "checkpoint_minutes", "max_minutes", "init_from",
                            "distill_steps", "compact_state")
               and (residual or k not in ("generator", "lambda_change", "decoder"))
               and (attention or k not in ("attention_d_from", "lambda_mask_identity"))
               and (contrastive or k not in ("objective", "lambda_nce", "nce_identity", "nce_patches"))
               and not (contrastive and k == "lambda_cycle")},
            **({"g_average_since_step": avg_since} if pair_avg is not None else {}),
            **({"attention_d_since_step": guided["since_step"]} if guided["since_step"] is not None else {}),
            **({"init_from": Path(cfg.init_from).name} if cfg.init_from else {}),
            **({"distilled": distilled} if distilled else {}),
            "decay_from": decay_from,
            "epochs_done": round(step / n_batches, 3),
            "schedule_steps": schedule,
            "pieces": pieces,
            "steps": step,
            "wall_time_s": round(wall, 1),
            "device": _device_name(device),
            "precision": precision(amp),
            "data_source": data.source,
            "train_images": {"A": len(photos_a), "B": len(photos_b)},
            "torch": torch.__version__,
        },
        "metrics": {"last_200_steps_mean": log.means()},
    }
    zoo.save((pair_avg if pair_avg is not None else pair).cpu().eval(), card, out)
    return card
