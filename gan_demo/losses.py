"""GAN losses and the terms and layers that fight their failures, in one place.

* The adversarial losses, one function each, all with the signature ``loss(d_real, d_fake, net)``:
  ``d_real`` and ``d_fake`` are D's raw outputs (logits or critic scores) on a real and a fake batch;
  ``net`` is ``"d"`` for the discriminator's loss or ``"g"`` for the generator's (``d_real`` may then
  be None). The sigmoid lives inside, written with softplus so that large logits stay finite.
* Penalties and regularisers: WGAN-GP's gradient penalty, R1, MSGAN's mode-seeking term and
  CycleGAN's cycle-consistency loss.
* What D may see of a whole batch against mode collapse: minibatch discrimination (a layer) and the
  minibatch standard deviation feature.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .errors import UserError


def _bce_d(d_real: Tensor, d_fake: Tensor) -> Tensor:
    # -log D(x) - log(1 - D(G(z))) with D = sigmoid(logit)
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def minimax(d_real: Tensor | None, d_fake: Tensor, net: str) -> Tensor:
    """Goodfellow et al. 2014 as written: G minimises log(1 - D(G(z))).

    Early on D rejects fakes confidently, log(1 - D) is flat there, and G's gradient vanishes:
    the saturation the Train tab's "minimax saturates" lesson shows.
    """
    if net == "d":
        return _bce_d(d_real, d_fake)
    return -F.softplus(d_fake).mean()


def nonsaturating(d_real: Tensor | None, d_fake: Tensor, net: str) -> Tensor:
    """The same game, but G maximises log D(G(z)) instead: strong gradients when G is losing."""
    if net == "d":
        return _bce_d(d_real, d_fake)
    return F.softplus(-d_fake).mean()


def wasserstein(d_real: Tensor | None, d_fake: Tensor, net: str) -> Tensor:
    """WGAN (Arjovsky et al. 2017): a critic score, kept 1-Lipschitz by clipping or a penalty."""
    if net == "d":
        return d_fake.mean() - d_real.mean()
    return -d_fake.mean()


def hinge(d_real: Tensor | None, d_fake: Tensor, net: str) -> Tensor:
    """Hinge loss (Lim & Ye 2017; used by SAGAN and BigGAN)."""
    if net == "d":
        return F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()
    return -d_fake.mean()


def least_squares(d_real: Tensor | None, d_fake: Tensor, net: str) -> Tensor:
    """LSGAN (Mao et al. 2017), targets a=0, b=c=1."""
    if net == "d":
        return 0.5 * ((d_real - 1.0) ** 2).mean() + 0.5 * (d_fake ** 2).mean()
    return 0.5 * ((d_fake - 1.0) ** 2).mean()


LOSSES: dict[str, Callable[[Tensor | None, Tensor, str], Tensor]] = {
    "minimax": minimax,
    "ns": nonsaturating,
    "wgan": wasserstein,
    "wgan-gp": wasserstein,
    "hinge": hinge,
    "lsgan": least_squares,
}

def _flat(x: Tensor) -> Tensor:
    return torch.full_like(x, 1.0 / x.numel())


# Each loss's gradient with respect to D's raw outputs, written out: the hand-written toy step
# (training/fast_mlp.py) needs only these few hundred numbers, and autograd's graph for them cost
# as much as a layer. (loss, d loss / d d_real or None for G, d loss / d d_fake); tests compare
# every one with autograd.
OutputGrads = Callable[[Tensor | None, Tensor, str], tuple[Tensor, Tensor | None, Tensor]]


def _softplus_grad(x: Tensor, sign: float) -> Tensor:
    """d/dx mean(softplus(sign * x)), with autograd's own kernel so the numbers match it exactly
    (Adam magnifies a last-bit difference in a tiny gradient into a full step)."""
    return torch.ops.aten.softplus_backward(_flat(x), sign * x, 1.0, 20.0).mul_(sign)


def _bce_grads(r: Tensor | None, f: Tensor, net: str, saturating: bool):
    if net == "d":
        return _bce_d(r, f), _softplus_grad(r, -1.0), _softplus_grad(f, 1.0)
    if saturating:
        return -F.softplus(f).mean(), None, _softplus_grad(f, 1.0).neg_()
    return F.softplus(-f).mean(), None, _softplus_grad(f, -1.0)


def _wasserstein_grads(r: Tensor | None, f: Tensor, net: str):
    if net == "d":
        return f.mean() - r.mean(), _flat(r).neg_(), _flat(f)
    return -f.mean(), None, _flat(f).neg_()


def _hinge_grads(r: Tensor | None, f: Tensor, net: str):
    if net == "d":
        return (F.relu(1.0 - r).mean() + F.relu(1.0 + f).mean(),
                (r < 1).to(r.dtype).neg_().div_(r.numel()), (f > -1).to(f.dtype).div_(f.numel()))
    return -f.mean(), None, _flat(f).neg_()


def _least_squares_grads(r: Tensor | None, f: Tensor, net: str):
    if net == "d":
        return (0.5 * ((r - 1.0) ** 2).mean() + 0.5 * (f ** 2).mean(), (r - 1.0).div_(r.numel()),
                f / f.numel())
    return 0.5 * ((f - 1.0) ** 2).mean(), None, (f - 1.0).div_(f.numel())


OUTPUT_GRADS: dict[str, OutputGrads] = {
    "minimax": lambda r, f, net: _bce_grads(r, f, net, saturating=True),
    "ns": lambda r, f, net: _bce_grads(r, f, net, saturating=False),
    "wgan": _wasserstein_grads,
    "hinge": _hinge_grads,
    "lsgan": _least_squares_grads,
}  # "wgan-gp" is absent on purpose: its penalty needs D's own second derivatives


# Losses whose D output is a logit, so sigmoid(output) is the probability "real" that GAN Lab plots.
PROBABILITY_LOSSES = {"minimax", "ns"}
# How the Train tabs name each loss.
LOSS_TITLES = {"ns": "Non-saturating (ns)", "minimax": "Minimax (saturating)", "wgan": "WGAN, weight clipping",
               "wgan-gp": "WGAN-GP", "hinge": "Hinge", "lsgan": "Least squares (LSGAN)"}


def get_loss(name: str):
    if name not in LOSSES:
        raise UserError(f"Unknown loss {name!r}; choose one of: {', '.join(LOSSES)}.")
    return LOSSES[name]


def d_output_to_score(output: Tensor, loss: str) -> Tensor:
    """What we plot as D(x): a probability for the logit losses, the raw score for the others."""
    return torch.sigmoid(output) if loss in PROBABILITY_LOSSES else output


def gradient_penalty(D, real: Tensor, fake: Tensor, labels: Tensor | None = None) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017): (||grad D(x_hat)|| - 1)^2 on random interpolates."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    alpha = torch.rand(shape, device=real.device, dtype=real.dtype)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = D(x_hat, labels) if labels is not None else D(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def r1_penalty(d_real: Tensor, real: Tensor) -> Tensor:
    """R1 (Mescheder et al. 2018): the squared norm of D's gradient on real images, whose weight is
    gamma / 2; ``real`` must have required grad before D saw it."""
    (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def mode_seeking_ratio(fake: Tensor, z: Tensor) -> Tensor:
    """MSGAN (Mao et al. 2019): how far apart two halves of a batch of images are per unit of
    distance between their noise vectors; G adds ``lambda / (ratio + 1e-5)`` to its loss, so two
    noise vectors that map to the same image cost it."""
    half = len(z) // 2
    return ((fake[:half] - fake[half:2 * half]).abs().mean()
            / (z[:half] - z[half:2 * half]).abs().mean()).float()


def cycle_loss(reconstructed: Tensor, real: Tensor) -> Tensor:
    """CycleGAN's cycle consistency (Zhu et al. 2017): a photo taken to the other domain and back
    should come back as it was; the mean L1 distance (the trainer weighs it by lambda, 10)."""
    return F.l1_loss(reconstructed.float(), real)


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. 2016: each sample's features gain how close it lies to the rest of the batch
    under ``num_kernels`` learnt projections, so D can tell a batch of near-copies (a collapse)."""

    def __init__(self, in_features: int, num_kernels: int, kernel_dim: int):
        super().__init__()
        self.num_kernels, self.kernel_dim = num_kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, num_kernels * kernel_dim) * 0.1)

    def forward(self, x: Tensor) -> Tensor:
        m = (x @ self.T).view(-1, self.num_kernels, self.kernel_dim).transpose(0, 1)  # [B, N, C]
        # cdist's L1 kernel avoids materialising the [N, N, B, C] difference tensor
        l1 = torch.cdist(m.contiguous(), m.contiguous(), p=1)  # [B, N, N]
        # The paper sums over the batch; we average (divide by N - 1, leaving out the sample's own
        # exp(0) term) so the features stay in [0, 1] whatever the batch size.
        o = (torch.exp(-l1).sum(2) - 1.0) / max(1, x.shape[0] - 1)
        return torch.cat([x, o.t()], dim=1)


def minibatch_std(h: Tensor) -> Tensor:
    """Karras et al. 2018: ``h`` with one more feature per sample (per pixel for feature maps), the
    batch's mean standard deviation of its features, which is small for a collapsed batch."""
    spread = h.std(0, unbiased=False).mean() if len(h) > 1 else h.new_zeros(())
    return torch.cat([h, spread.expand(h.shape[0], 1, *h.shape[2:])], 1)
