"""One discriminator step and one generator step: nets + batch + config in, metrics out; and
what runs between steps: G's weight average, and new learning rates for a live run.

The CLI's image trainer and the live toy trainer both call these, so a loss or trick behaves the
same everywhere. Nothing here knows about threads, files or Gradio.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..errors import UserError
from ..losses import d_output_to_score, get_loss, gradient_penalty, mode_seeking_ratio, r1_penalty


@torch.no_grad()
def update_average(avg: nn.Module, net: nn.Module, decay: float, buffers: bool = True) -> None:
    """One step of the exponential moving average of ``net``'s weights that ``avg`` holds (Yazici et
    al. 2019): a GAN's weights orbit the equilibrium, their average sits nearer it. ``buffers``:
    batch-norm statistics are copied as they are (an average of running statistics matches no
    weights)."""
    torch._foreach_lerp_(list(avg.parameters()), list(net.parameters()), 1.0 - decay)
    if buffers:
        for ba, b in zip(avg.buffers(), net.buffers()):
            ba.copy_(b)


def take_live_settings(run, new) -> None:
    """Give a live run (toy or image: ``opt_d``, ``opt_g``, ``G``, ``G_avg``) a checked config
    ``new``: both learning rates at the next step, G's weight average switched on (starting from G
    as it is) or off; the other live settings are read from ``run.cfg`` at each step."""
    for opt, lr in ((run.opt_d, new.lr_d), (run.opt_g, new.lr_g)):
        for group in opt.param_groups:
            group["lr"] = lr
    if not new.g_average:
        run.G_avg = None
    elif run.G_avg is None:
        run.G_avg = copy.deepcopy(run.G)
    run.cfg = new


@dataclass
class StepConfig:
    loss: str = "ns"
    gp_weight: float = 10.0  # lambda of WGAN-GP, the paper's value
    clip: float = 0.01  # weight clipping of the original WGAN, the paper's value
    amp: bool = False  # bf16 autocast (``use_amp``)
    # Mode seeking (Mao et al. 2019, MSGAN): reward G for making two latents of the same class
    # look different. Conditional G's easily learn to ignore z (one image per class); this cures it.
    mode_seeking: float = 0.0
    # R1 (Mescheder et al. 2018): gamma/2 * |grad D(x)|^2 on real images; StyleGAN's only D regulariser.
    r1: float = 0.0


def bf16_native(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 in hardware: a CUDA GPU that says so, or a CPU with
    AVX-512 BF16 or AMX (oneDNN's check). Elsewhere bf16 is emulated and slower than float32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


def use_amp(setting: str, device: torch.device) -> bool:
    """The ``amp`` setting ("auto", "on", "off") on ``device``. On this project's 2-core AVX-512 BF16
    CPU, bf16 autocast took DCGAN's step from 67 to 41 ms (34 with channels_last), batch 64, one thread."""
    if setting not in ("auto", "on", "off"):
        raise UserError(f"Mixed precision must be auto, on or off, got {str(setting)[:20]!r}.")
    return setting == "on" or (setting == "auto" and bf16_native(device))


def precision(amp: bool) -> str:
    """What a card records of a run's arithmetic."""
    return "bf16 autocast" if amp else "float32"


def _autocast(device: torch.device, amp: bool):
    return torch.autocast(device.type, dtype=torch.bfloat16) if amp else nullcontext()


@contextmanager
def frozen(net: nn.Module):
    """Stop gradients into ``net``'s weights while the other network updates through it."""
    for p in net.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in net.parameters():
            p.requires_grad_(True)


def _update(opt: torch.optim.Optimizer, loss: Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def _call(net: nn.Module, x: Tensor, labels: Tensor | None) -> Tensor:
    return net(x, labels) if labels is not None else net(x)


def discriminator_step(G: nn.Module, D: nn.Module, opt: torch.optim.Optimizer, real: Tensor,
                       z: Tensor, cfg: StepConfig, labels: Tensor | None = None,
                       fake_labels: Tensor | None = None, fake: Tensor | None = None) -> dict[str, float]:
    """Update D once on a real batch and G(z); returns its loss, mean D(x) and mean D(G(z)).
    ``fake``: G(z) already drawn (``shared_fake``), which D sees detached."""
    loss_fn = get_loss(cfg.loss)
    fake_labels = labels if fake_labels is None else fake_labels
    with _autocast(real.device, cfg.amp):
        if fake is None:
            with torch.no_grad():
                fake = _call(G, z, fake_labels)
        fake = fake.detach()
        if cfg.r1 > 0:
            real = real.detach().requires_grad_(True)
        d_real = _call(D, real, labels).float()
        d_fake = _call(D, fake, fake_labels).float()
        loss = loss_fn(d_real, d_fake, "d")
    if cfg.r1 > 0:
        loss = loss + cfg.r1 / 2 * r1_penalty(d_real, real)
    if cfg.loss == "wgan-gp":
        loss = loss + cfg.gp_weight * gradient_penalty(D, real, fake.to(real.dtype), labels)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if cfg.loss == "wgan":
        with torch.no_grad():
            for p in D.parameters():
                p.clamp_(-cfg.clip, cfg.clip)
    return {
        "d_loss": loss.item(),
        "d_real": d_output_to_score(d_real.detach(), cfg.loss).mean().item(),
        "d_fake": d_output_to_score(d_fake.detach(), cfg.loss).mean().item(),
        "wasserstein": (d_real.mean() - d_fake.mean()).item(),
    }


def _seeking(cfg: StepConfig, z: Tensor) -> bool:
    return cfg.mode_seeking > 0 and len(z) // 2 > 0


def _paired(labels: Tensor | None, cfg: StepConfig, z: Tensor) -> Tensor | None:
    """Mode seeking compares the two halves of a batch pair by pair: each pair shares a class."""
    if labels is None or not _seeking(cfg, z):
        return labels
    half = len(z) // 2
    return torch.cat([labels[:half], labels[:half], labels[2 * half:]])


def shared_fake(G: nn.Module, z: Tensor, cfg: StepConfig,
                labels: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """G(z) drawn once for D's step (detached) and G's (through it), as pytorch/examples' DCGAN
    does: G is most of a step's work at 28 x 28 (its forward 19 ms against D's 1 ms, batch 64,
    one CPU thread), so drawing it twice cost a fifth of the step. Returns the fakes and their
    labels, paired for mode seeking."""
    labels = _paired(labels, cfg, z)
    with _autocast(z.device, cfg.amp):
        return _call(G, z, labels), labels


def generator_step(G: nn.Module, D: nn.Module, opt: torch.optim.Optimizer, z: Tensor,
                   cfg: StepConfig, labels: Tensor | None = None,
                   fake: Tensor | None = None) -> dict[str, float]:
    """Update G once through a frozen D; returns G's loss (and the mode-seeking ratio when on).
    ``fake``, ``labels``: what ``shared_fake(G, z, cfg, ...)`` returned, D's step already done."""
    loss_fn = get_loss(cfg.loss)
    seeking = _seeking(cfg, z)
    if fake is None:
        fake, labels = shared_fake(G, z, cfg, labels)
    with frozen(D):
        with _autocast(z.device, cfg.amp):
            d_fake = _call(D, fake, labels).float()
            loss = loss_fn(None, d_fake, "g")
            total = loss
            if seeking:
                ratio = mode_seeking_ratio(fake, z)
                total = loss + cfg.mode_seeking / (ratio + 1e-5)
        _update(opt, total)
    out = {"g_loss": loss.item()}
    if seeking:
        out["diversity_ratio"] = ratio.item()
    return out


def vaegan_step(G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
                real: Tensor, z: Tensor, cfg: StepConfig, kl_weight: float = 1.0,
                feature_weight: float = 1.0) -> dict[str, float]:
    """One VAE-GAN update (Larsen et al. 2016): D, then encoder and decoder together.

    D learns to tell real images from both prior samples Dec(z) and reconstructions
    Dec(Enc(x)) (the paper's three-term GAN loss). The encoder/decoder minimise
    KL(q(z|x) || N(0, I)) per pixel * ``kl_weight`` + the squared distance between D's
    7x7 features of x and of its reconstruction * ``feature_weight`` + the adversarial loss on
    samples and reconstructions. (The paper weighs the decoder's terms with a separate gamma and
    optimises encoder and decoder apart; one optimiser over the sum is the common simplification.)
    """
    loss_fn = get_loss(cfg.loss)
    with torch.no_grad():
        mean, logvar = G.encode(real)
        recon = G.decoder(G.reparameterise(mean, logvar))
        fake = G.decoder(z)
    d_real = D(real).float()
    d_gen = D(torch.cat([fake, recon])).float()
    loss_d = loss_fn(d_real, d_gen, "d")
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    with frozen(D):
        mean, logvar = G.encode(real)
        recon = G.decoder(G.reparameterise(mean, logvar))
        fake = G.decoder(z)
        with torch.no_grad():
            target, _ = D.features(real)
        feats, l_recon = D.features(recon)
        l_fake = D(fake)
        kl = -0.5 * (1 + logvar - mean.pow(2) - logvar.exp()).sum(1).mean() / real[0].numel()
        feature = (feats - target).pow(2).mean()
        adversarial = loss_fn(None, torch.cat([l_fake, l_recon]).float(), "g")
        _update(opt_g, kl_weight * kl + feature_weight * feature + adversarial)
    return {
        "d_loss": loss_d.item(), "g_loss": adversarial.item(),
        "d_real": d_output_to_score(d_real.detach(), cfg.loss).mean().item(),
        "d_fake": d_output_to_score(d_gen[:len(fake)].detach(), cfg.loss).mean().item(),
        "kl": kl.item(), "feature_rec": feature.item(),
        "pixel_rec": (recon.detach() - real).abs().mean().item(),
    }
