"""Zoo speed: sampling latency per model and image-training throughput against a plain loop.

    python benchmarks/zoo_speed.py [--repeats 50] [--train-steps 600] [--threads N] [--device auto]

* Sampling: the bare generator forward for 1 and 64 images, per zoo model (torch.inference_mode).
* Training: images/s of ``python -m gan_demo train dcgan`` (and cgan on MNIST), its recipe as shipped
  (checkpoints, weight average off unless the recipe has it), against benchmarks/plain_loop.py
  (pytorch/examples' dcgan/main.py loop: the same nets, batch and data, float32), each a whole
  process timed from start to exit, alternating, best of ``--repeats-train``, at ``--threads``.

Writes benchmarks/results/zoo_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from common import ROOT, percentiles, time_calls, write


def whole_process(cmd: list[str], threads: int) -> float:
    """Wall time of one process from start to exit (imports, data, training, writing the model)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def training_speed(family: str, dataset: str, steps: int, batch: int, threads: int, repeats: int,
                   amp: str = "auto") -> dict:
    """images/s of ``python -m gan_demo train FAMILY`` against benchmarks/plain_loop.py, the same nets,
    batch and data, each timed as a whole process, alternating, best of ``repeats``."""
    plain_cmd = [sys.executable, str(ROOT / "benchmarks" / "plain_loop.py"), "--family", family,
                 "--dataset", dataset, "--steps", str(steps), "--batch", str(batch)]
    plain, ours = [], []
    with tempfile.TemporaryDirectory() as tmp:
        ours_cmd = [sys.executable, "-m", "gan_demo", "train", family, "--dataset", dataset, "--batch-size",
                    str(batch), "--max-steps", str(steps), "--epochs", "100000", "--amp", amp, "--quiet", "--out", f"{tmp}/run"]
        for _ in range(repeats):
            plain.append(whole_process(plain_cmd, threads))
            ours.append(whole_process(ours_cmd, threads))
            card = json.loads(Path(f"{tmp}/run.json").read_text())
            assert card["training"]["steps"] == steps, card["training"]["steps"]
    best_plain, best_ours = steps * batch / min(plain), steps * batch / min(ours)
    return {"dataset": dataset, "batch": batch, "steps": steps, "threads": threads,
            "plain_loop_s": [round(t, 2) for t in plain], "ours_s": [round(t, 2) for t in ours],
            "plain_loop_images_per_s": round(best_plain, 1), "ours_images_per_s": round(best_ours, 1),
            "ours_vs_plain": round(best_ours / best_plain, 3), "ours_precision": card["training"]["precision"],
            "ours_recipe": {k: card["training"][k] for k in ("loss", "mode_seeking", "d_norm", "g_average")}}


def live_trainer_speed(steps: int, amp: str = "auto") -> dict:
    """The Images tab's trainer (``ImageGAN`` at the tab's defaults, Frechet probes off) against
    plain_loop.train at the same nets and batch, both in this process, steady state (steps 10 on)."""
    import plain_loop

    from gan_demo.data import load_images
    from gan_demo.training.image_config import ImageConfig
    from gan_demo.training.image_live import ImageGAN
    from gan_demo.training.steps import precision

    cfg = ImageConfig(eval_every=100_000, amp=amp)  # the web limit's "never" within this run
    data, labels = load_images(cfg.dataset).tensors()
    times: list[float] = []
    plain_loop.train(cfg.model, data, labels, steps + 10, cfg.batch_size, cfg.width, cfg.latent_dim,
                     on_step=lambda s: times.append(time.perf_counter()))
    plain = steps * cfg.batch_size / (times[-1] - times[9])
    gan = ImageGAN(cfg)
    for _ in range(10):
        gan.step()
    t = time.perf_counter()
    for _ in range(steps):
        gan.step()
    ours = steps * cfg.batch_size / (time.perf_counter() - t)
    return {"model": cfg.model, "batch": cfg.batch_size, "width": cfg.width, "steps": steps,
            "threads": torch.get_num_threads(), "plain_loop_images_per_s": round(plain, 1),
            "ours_images_per_s": round(ours, 1), "ours_vs_plain": round(ours / plain, 3),
            "ours_precision": precision(gan.step_config().amp)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--train-steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads(), help="of both training processes")
    ap.add_argument("--repeats-train", type=int, default=2)
    ap.add_argument("--amp", default="auto", choices=("auto", "on", "off"), help="our trainers' --amp")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()

    from gan_demo import sampling, zoo
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
        result["training"][family] = training_speed(family, dataset, args.train_steps, args.batch, args.threads,
                                                    args.repeats_train, args.amp)
        print(family, result["training"][family])
    torch.set_num_threads(args.threads)
    result["live_trainer"] = live_trainer_speed(args.train_steps, args.amp)
    print("live trainer", result["live_trainer"])
    write("zoo_speed" if args.amp == "auto" else f"zoo_speed_amp_{args.amp}", result)


if __name__ == "__main__":
    main()
