"""Translate speed: one 256x256 photo through a CycleGAN generator, and CycleGAN training throughput.

    python benchmarks/translate_speed.py [--repeats 20] [--train-steps 10] [--device auto]

* Latency of the generator forward at 256x256 (batch 1, ``torch.inference_mode``) for the reference
  resnet_9blocks and for our small generator, in float32, float32 channels_last, and bf16 autocast;
  plus the whole ``translation.translate_only`` path (decode, resize, forward, resize back) with the
  shipped model when there is one. Goals (issue 6): full <= 700 ms, small <= 100 ms on the 2-core CPU.
* Training images/s of ``train_cyclegan`` (both generators and both discriminators per step) for
  the small generator at 128 and the reference at 256, on synthetic photos.

Writes benchmarks/results/translate_speed.json.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from pathlib import Path

import numpy as np
import torch

from common import ROOT, percentiles, time_calls, write


def forward_latency(cfg, device: torch.device, variant: str, repeats: int) -> dict:
    from gan_demo.models.cyclegan import ResnetGenerator

    G = ResnetGenerator(cfg).to(device).eval()
    x = torch.rand(1, 3, 256, 256, device=device) * 2 - 1
    if variant == "channels_last":
        G = G.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    amp = (torch.autocast(device.type, dtype=torch.bfloat16) if variant == "bf16"
           else contextlib.nullcontext())

    def call():
        with torch.inference_mode(), amp:
            G(x)
        if device.type == "cuda":
            torch.cuda.synchronize()

    return percentiles(time_calls(call, repeats))


def training_rate(small: bool, size: int, steps: int, device: str) -> float:
    from PIL import Image

    from gan_demo.training.cyclegan import CycleGANTrainConfig, train_cyclegan

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        for split in ("trainA", "trainB"):
            (Path(tmp) / split).mkdir()
            for i in range(8):
                Image.fromarray(rng.integers(0, 255, (size + 16, size + 16, 3), dtype=np.uint8)).save(
                    Path(tmp) / split / f"{i}.png")
        cfg = CycleGANTrainConfig(size=size, epochs=100, small=small, data_root=tmp, device=device,
                                  max_steps=2)
        train_cyclegan(cfg, Path(tmp) / "warm", progress=False)  # warm-up: allocator, kernels
        cfg.max_steps = steps
        card = train_cyclegan(cfg, Path(tmp) / "run", progress=False)
        return round(steps * cfg.batch_size / card["training"]["wall_time_s"], 3)


def main() -> None:
    from gan_demo import translation, zoo
    from gan_demo.models.cyclegan import REFERENCE, SMALL
    from gan_demo.training.image import pick_device

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--train-steps", type=int, default=10)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--skip-training", action="store_true")
    args = ap.parse_args()
    device = pick_device(args.device)

    latency = {}
    for name, cfg in (("reference_resnet_9blocks", REFERENCE), ("small", SMALL)):
        latency[name] = {v: forward_latency(cfg, device, v, args.repeats)
                         for v in ("float32", "channels_last", "bf16")}

    pipeline = {}
    names = zoo.model_names(kind="translation")
    photo = ROOT / "examples" / "horse2zebra"
    photos = sorted(photo.glob("horse_*.jpg"))
    if names and photos:
        m = zoo.load(names[0], str(device))
        pipeline[names[0]] = percentiles(time_calls(lambda: translation.translate_only(m, photos[0]), args.repeats))
        pipeline[names[0] + " with cycle"] = percentiles(
            time_calls(lambda: translation.translate(m, photos[0]), args.repeats))

    training = {}
    if not args.skip_training:
        training["small_128_images_per_s"] = training_rate(True, 128, args.train_steps, str(device))
        training["reference_256_images_per_s"] = training_rate(False, 256, max(3, args.train_steps // 3),
                                                               str(device))
    write("translate_speed", {"device": str(device), "generator_forward_256": latency,
                              "translate_pipeline_256": pipeline, "training": training,
                              "goals_ms": {"reference_resnet_9blocks": 700, "small": 100}})


if __name__ == "__main__":
    main()
