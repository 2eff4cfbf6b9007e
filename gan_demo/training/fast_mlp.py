"""Forward and backward passes of the toy MLPs written out by hand, for the live trainer's speed.

The toy nets are tiny (a few 128 x 128 layers on a batch of 256), so a training step spends as
much time in autograd's bookkeeping (a graph node, saved tensors and a backward call per layer)
and in ``Optimizer.step``'s Python as in the matrix products. Here a layer's forward is one
``addmm`` and an in-place activation; the backward of each activation is computed from its output,
and only the gradients a step needs are formed: D's weight gradients in D's step, and in G's step
the gradient that flows through D into G without D's weight gradients. Adam runs as the fused
kernel ``torch.optim.Adam(fused=True)`` calls, on the optimiser's own state, so the hand-written
path and autograd's can take turns in one run. ``tests/test_toy.py`` checks that both paths give
the same weights step by step.

Each loss's gradient with respect to D's outputs (a few hundred numbers) comes from
``losses.OUTPUT_GRADS``, next to the loss it differentiates.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..losses import OUTPUT_GRADS, get_loss

# Each activation's backward from its output y (what the forward keeps), with the kernels autograd
# itself uses: a comparison, a cast and a multiply instead cost nine times as long.
_aten = torch.ops.aten
_BACKWARD_FROM_OUTPUT = {
    nn.ReLU: lambda g, y: _aten.threshold_backward(g, y, 0.0),
    nn.LeakyReLU: lambda g, y: _aten.leaky_relu_backward(g, y, 0.2, True),
    nn.Tanh: lambda g, y: _aten.tanh_backward(g, y),
    nn.ELU: lambda g, y: _aten.elu_backward(g, 1.0, 1.0, 1.0, True, y),
}
_IN_PLACE = {
    nn.ReLU: lambda h: h.clamp_min_(0),
    nn.LeakyReLU: lambda h: torch.nn.functional.leaky_relu_(h, 0.2),
    nn.Tanh: lambda h: h.tanh_(),
    nn.ELU: lambda h: torch.nn.functional.elu_(h),
}


class HandMLP:
    """A ``Sequential`` of ``Linear`` layers, each optionally followed by one activation, run by hand
    on the module's own parameters (they stay the module's, so views and checkpoints see them)."""

    def __init__(self, modules: list[nn.Module]):
        self.layers: list[tuple[nn.Linear, type | None]] = []
        for m in modules:
            if isinstance(m, nn.Linear):
                self.layers.append((m, None))
            elif type(m) in _IN_PLACE and self.layers and self.layers[-1][1] is None:
                if (isinstance(m, nn.LeakyReLU) and m.negative_slope != 0.2) or (isinstance(m, nn.ELU) and m.alpha != 1.0):
                    raise ValueError("only LeakyReLU(0.2) and ELU(1)")
                self.layers[-1] = (self.layers[-1][0], type(m))
            else:
                raise ValueError(f"no hand-written pass for {type(m).__name__}")

    def forward(self, x: Tensor, groups: int = 1) -> list[Tensor]:
        """All activations, input first and output last (the backward needs them). ``groups``:
        rows judged as separate batches, which only a batch-level feature cares about."""
        acts = [x]
        for linear, act in self.layers:
            h = torch.addmm(linear.bias, acts[-1], linear.weight.t())
            if act is not None:
                _IN_PLACE[act](h)
            acts.append(h)
        return acts

    def backward(self, grad: Tensor, acts: list[Tensor], weights: bool = True,
                 input_grad: bool = False, groups: int = 1) -> tuple[Tensor | None, list[Tensor]]:
        """Gradient of the output ``grad`` back through the net: (gradient of the input or None,
        [dW, db per layer in parameter order] or [] when ``weights`` is False)."""
        grads: list[Tensor] = []
        for i in range(len(self.layers) - 1, -1, -1):
            linear, act = self.layers[i]
            if act is not None:
                grad = _BACKWARD_FROM_OUTPUT[act](grad, acts[i + 1])
            if weights:
                grads[:0] = [grad.t().mm(acts[i]), grad.sum(0)]
            if i > 0 or input_grad:
                grad = grad.mm(linear.weight)
        return (grad if input_grad else None), grads


class HandMinibatchStdD:
    """A toy D with the minibatch-std feature (Karras et al. 2018) by hand: the body, then for each
    group of rows (real and fake apart, as the model's own forward sees them) the group's mean
    feature spread as one more input to the head.

    The spread's backward is autograd's own formula for ``std`` (``std_backward``: zero where a
    feature does not vary), so a step matches the model's forward under autograd to float rounding.
    """

    def __init__(self, body: list[nn.Module], head: nn.Linear):
        self.body, self.head = HandMLP(body), head

    def forward(self, x: Tensor, groups: int = 1) -> list[Tensor]:
        """The body's activations, then the centred last features and their spread (kept for the
        backward), the head's input and D's output."""
        acts = self.body.forward(x)
        h = acts[-1]
        n = len(h) // groups
        # All groups at once, by hand: torch.std costs six times as much at this size.
        centred = h.view(groups, n, -1) - h.view(groups, n, -1).mean(1, keepdim=True)
        sigma = centred.square().mean(1).sqrt_()  # [groups, width]
        spread = sigma.mean(1) if n > 1 else sigma.new_zeros(groups)
        joined = torch.cat([h, spread.repeat_interleave(n).unsqueeze(1)], 1)
        return acts + [centred, sigma, joined, torch.addmm(self.head.bias, joined, self.head.weight.t())]

    def backward(self, grad: Tensor, acts: list[Tensor], weights: bool = True, input_grad: bool = False,
                 groups: int = 1) -> tuple[Tensor | None, list[Tensor]]:
        centred, sigma, joined = acts[-4], acts[-3], acts[-2]
        width, n = sigma.shape[1], centred.shape[1]
        head_grads = [grad.t().mm(joined), grad.sum(0)] if weights else []
        grad_joined = grad.mm(self.head.weight)
        grad_h = grad_joined[:, :width]
        if n > 1:
            # expand's and mean's backward, then autograd's std_backward (zero where sigma is 0)
            grad_sigma = grad_joined[:, width:].view(groups, n).sum(1, keepdim=True) / width  # [groups, 1]
            grad_var = (grad_sigma / (sigma * 2)).masked_fill_(sigma == 0, 0)  # [groups, width]
            grad_h = (grad_h.view(groups, n, width) + (2.0 / n) * grad_var.unsqueeze(1) * centred).view(-1, width)
        else:
            grad_h = grad_h.contiguous()
        grad_x, body_grads = self.body.backward(grad_h, acts[:-4], weights, input_grad)
        return grad_x, body_grads + head_grads


def hand_mlps(G: nn.Module, D: nn.Module) -> tuple[HandMLP, HandMLP | HandMinibatchStdD] | None:
    """The hand-written passes for a toy G and D, or None when D has minibatch discrimination or
    is an ensemble: those keep autograd."""
    from ..models.toy import ToyDiscriminator, ToyGenerator

    if not (type(G) is ToyGenerator and type(D) is ToyDiscriminator) or D.mbd is not None:
        return None
    try:
        if D.config.minibatch_std:
            return HandMLP(list(G.net)), HandMinibatchStdD(list(D.body), D.head)
        return HandMLP(list(G.net)), HandMLP(list(D.body) + [D.head])
    except ValueError:
        return None


def output_grads(loss_name: str, d_real: Tensor | None, d_fake: Tensor, side: str
                 ) -> tuple[Tensor, Tensor | None, Tensor]:
    """(loss, dloss/d_real or None, dloss/d_fake) for D's raw outputs: written out in losses.py
    where it has them, else by autograd on the loss itself."""
    if loss_name in OUTPUT_GRADS:
        return OUTPUT_GRADS[loss_name](d_real, d_fake, side)
    with torch.enable_grad():
        fake = d_fake.detach().requires_grad_(True)
        real = d_real.detach().requires_grad_(True) if d_real is not None else None
        loss = get_loss(loss_name)(real, fake, side)
        grads = torch.autograd.grad(loss, [fake] if real is None else [real, fake])
    if real is None:
        return loss.detach(), None, grads[0]
    return loss.detach(), grads[0], grads[1]


def apply_grads(opt: torch.optim.Optimizer, params: list[Tensor], grads: list[Tensor]) -> None:
    """One optimiser update with the given gradients.

    Adam (fused) calls its kernel directly on the optimiser's own state: ``Optimizer.step``'s
    Python costs as much as the update itself for nets this small. Anything else goes through
    ``opt.step()``.
    """
    group = opt.param_groups[0]
    if isinstance(opt, torch.optim.Adam) and group.get("fused") and hasattr(torch, "_fused_adam_") \
            and not group["amsgrad"] and not group["maximize"] and len(opt.param_groups) == 1:
        state = [opt.state[p] for p in params]
        if any(not s for s in state):  # Adam's lazy init, as its _init_group does it
            counts = torch.zeros(len(params), dtype=torch.float32, device=params[0].device)
            for i, (p, s) in enumerate(zip(params, state)):
                s["step"] = counts[i]  # one tensor for all counts: one add per update, not one per tensor
                s["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                s["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        beta1, beta2 = group["betas"]
        steps = [s["step"] for s in state]
        shared = steps[0]._base
        if shared is not None and len(shared) == len(steps) and all(t._base is shared for t in steps):
            shared.add_(1)  # the kernel reads the count; Adam increments it outside
        else:
            torch._foreach_add_(steps, 1)
        torch._fused_adam_(params, grads, [s["exp_avg"] for s in state], [s["exp_avg_sq"] for s in state],
                           [], steps, amsgrad=False, lr=group["lr"], beta1=beta1,
                           beta2=beta2, weight_decay=group["weight_decay"], eps=group["eps"], maximize=False)
        return
    for p, g in zip(params, grads):
        p.grad = g
    opt.step()
