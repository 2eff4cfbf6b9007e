"""GAN losses, one function each, all with the signature ``loss(d_real, d_fake, net) -> Tensor``.

``d_real`` and ``d_fake`` are D's raw outputs (logits or critic scores) on a real and a fake batch;
``net`` is ``"d"`` for the discriminator's loss or ``"g"`` for the generator's (``d_real`` may then
be None). The sigmoid lives inside, written with softplus so that large logits stay finite.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

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
