"""Zoo speed: sampling latency per model and image-training throughput against a plain loop.

    python benchmarks/zoo_speed.py [--repeats 50] [--train-steps 150] [--device auto]

* Sampling: the bare generator forward for 1 and 64 images, per zoo model (torch.inference_mode).
* Training: images/s of ``train_image_gan`` (our CLI's trainer: data module, step functions,
  checkpoints off) against a pytorch/examples dcgan/main.py-style loop written out below, same nets,
  batch, loss and device, in the same run. On CUDA both also run with bf16 autocast.

Writes benchmarks/results/zoo_speed.json.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
from torch import nn

from common import percentiles, time_calls, write


def plain_loop(device: torch.device, steps: int, batch: int, data: torch.Tensor, labels: torch.Tensor,
               conditional: bool) -> float:
    """pytorch/examples' loop: BCE on D(x) = 1 and D(G(z)) = 0, then G on D(G(z)) = 1. Returns images/s."""
    from gan_demo.models import get_family

    family = get_family("cgan" if conditional else "dcgan")
    cfg = family.config(latent_dim=64, width=32)
    G, D = family.generator(cfg).to(device), family.discriminator(cfg).to(device)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    data, labels = data.to(device), labels.to(device)
    gen = torch.Generator().manual_seed(0)

    def step():
        idx = torch.randint(len(data), (batch,), generator=gen).to(device)
        real, y = data[idx], labels[idx] if conditional else None
        fy = torch.randint(10, (batch,), device=device) if conditional else None
        args = (lambda t, c: (t, c)) if conditional else (lambda t, c: (t,))
        z = torch.randn(batch, 64, device=device)
        fake = G(*args(z, fy))
        loss_d = bce(D(*args(real, y)), torch.ones(batch, device=device)) + \
            bce(D(*args(fake.detach(), fy)), torch.zeros(batch, device=device))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = bce(D(*args(fake, fy)), torch.ones(batch, device=device))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        return loss_g.item()

    for _ in range(5):
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - t)


def ours(device: str, steps: int, batch: int, family: str, dataset: str) -> float:
    from gan_demo.training.image import train_image_gan
    from gan_demo.training.image_config import recipe

    with tempfile.TemporaryDirectory() as tmp:
        cfg = recipe(family, dataset=dataset, batch_size=batch, device=device, max_steps=steps + 5,
                     checkpoint_every=10**9)
        times = []
        train_image_gan(cfg, f"{tmp}/run", progress=False,
                        on_step=lambda s, m: times.append(time.perf_counter()))
    return steps * batch / (times[-1] - times[4])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--train-steps", type=int, default=150)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()

    from gan_demo import sampling, zoo
    from gan_demo.data import load_images
    from gan_demo.training.image import pick_device

    device = pick_device(args.device)
    result = {"device": str(device), "sampling": {}, "training": {}}
    for card in zoo.list_models():
        model = zoo.load(card["name"], device=str(device))
        row = {}
        for n in (1, 64):
            z = torch.randn(n, model.latent_dim, device=device)
            labels = sampling.default_labels(model, n)
            labels = None if labels is None else labels.to(device)

            def forward():
                with torch.inference_mode():
                    model.generator(z, labels)
                if device.type == "cuda":
                    torch.cuda.synchronize()

            row[f"{n}_images"] = percentiles(time_calls(forward, args.repeats))
        result["sampling"][card["name"]] = row
        print(card["name"], {k: v["p50_ms"] for k, v in row.items()})

    for family, dataset in (("dcgan", "fashion"), ("cgan", "mnist")):
        data, labels = load_images(dataset).tensors()
        plain = plain_loop(device, args.train_steps, args.batch, data, labels, family == "cgan")
        mine = ours(str(device), args.train_steps, args.batch, family, dataset)
        result["training"][family] = {"dataset": dataset, "batch": args.batch, "steps": args.train_steps,
                                      "plain_loop_images_per_s": round(plain, 1),
                                      "ours_images_per_s": round(mine, 1),
                                      "ours_vs_plain": round(mine / plain, 3)}
        print(family, result["training"][family])
    write("zoo_speed", result)


if __name__ == "__main__":
    main()
