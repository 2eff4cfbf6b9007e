"""The reference the trainer is timed against: pytorch/examples' dcgan/main.py loop, as a whole process.

    python benchmarks/plain_loop.py --family dcgan|cgan --steps N [--batch 64] [--dataset fashion]

BCE on D(x) = 1 and D(G(z)) = 0, then G on D(G(z)) = 1, float32, Adam(2e-4, 0.5): the same nets
(``gan_demo.models``), batch and data (``gan_demo.data.load_images``) as ``python -m gan_demo train``,
and nothing else: no checkpoints, averages or metrics. benchmarks/zoo_speed.py times this process
against the trainer's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gan_demo.data import load_images
from gan_demo.models import get_family


def train(family_name: str, data: torch.Tensor, labels: torch.Tensor, steps: int, batch: int,
          width: int = 32, latent_dim: int = 64, on_step=None) -> None:
    """``steps`` steps of the loop; ``on_step(step)`` after each (for timing in-process)."""
    conditional = family_name == "cgan"
    family = get_family(family_name)
    cfg = family.config(latent_dim=latent_dim, width=width)
    torch.manual_seed(0)
    G, D = family.generator(cfg), family.discriminator(cfg)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    b = batch
    ones, zeros = torch.ones(b), torch.zeros(b)

    def call(net, x, y):
        return net(x, y) if conditional else net(x)

    step = 0
    while step < steps:
        perm = torch.randperm(len(data))
        for i in range(len(data) // b):
            idx = perm[i * b:(i + 1) * b]
            real, y = data[idx], labels[idx]
            fy = torch.randint(10, (b,)) if conditional else None
            fake = call(G, torch.randn(b, latent_dim), fy)
            loss_d = bce(call(D, real, y).view(-1), ones) + bce(call(D, fake.detach(), fy).view(-1), zeros)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = bce(call(D, fake, fy).view(-1), ones)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            step += 1
            if step % 100 == 0:
                print(f"step {step}: D {loss_d.item():.3f} G {loss_g.item():.3f}", flush=True)
            if on_step is not None:
                on_step(step)
            if step >= steps:
                break


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", choices=("dcgan", "cgan"), default="dcgan")
    ap.add_argument("--dataset", default="fashion")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    data, labels = load_images(args.dataset, train=True).tensors()
    train(args.family, data, labels, args.steps, args.batch)


if __name__ == "__main__":
    main()
