"""Train live on images, measured as the Train tab runs it: what appears in 3 minutes, and what
watching costs.

    python benchmarks/live_images.py [--seconds 180] [--watch-hz 5] [--speed-seconds 60]

1. The Images sub-tab's default run (``ImageConfig()``) in a ``LiveTrainer`` for ``--seconds``
   while a viewer draws the fixed-z grid at ``--watch-hz`` (the page's refresh), with the torch
   threads the app gives training (all cores but one). Records the Frechet distance every 200
   steps against wall time, images/s, and how "recognisable" the final samples are: the share
   of 1,000 samples the project's classifier labels with >= 90 % confidence, next to the same
   share for 1,000 real test images. The final grid goes to benchmarks/results/live_images_grid.png.
2. Throughput of the same trainer for ``--speed-seconds`` unwatched, then watched: the cost of
   the UI (goal on a GPU: <= 10 %, with >= 5 grid refreshes per second).
Writes benchmarks/results/live_images.json.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from common import RESULTS, write

from gan_demo.metrics.classifier import load_classifier
from gan_demo.data import load_images
from gan_demo.training.image_config import ImageConfig
from gan_demo.training.live import TrainerPool
from gan_demo.training.session import TrainSession
from gan_demo.ui import serving_threads


@torch.no_grad()
def confident_share(clf, images: torch.Tensor, threshold: float = 0.9) -> float:
    clf.eval()
    probs = torch.softmax(clf(images), 1)
    return round(float((probs.max(1).values >= threshold).float().mean()) * 100, 1)


def watched_run(cfg: ImageConfig, seconds: float, hz: float) -> tuple[dict, TrainSession]:
    pool = TrainerPool(1)
    session = TrainSession(pool)
    trainer = session.ensure(cfg)
    trainer.start()
    t0 = time.monotonic()
    refreshes, timeline, seen = 0, [], set()
    while time.monotonic() - t0 < seconds:
        tick = time.monotonic()
        frame = session.frame()
        refreshes += 1
        h = frame.published.history
        fid = h["frechet"]
        if np.isfinite(fid).any():
            step = int(h["step"][np.isfinite(fid)][-1] // cfg.eval_every * cfg.eval_every)
            if step not in seen:
                seen.add(step)
                timeline.append({"step": step, "seconds": round(time.monotonic() - t0, 1),
                                 "frechet": round(float(fid[np.isfinite(fid)][-1]), 1)})
        time.sleep(max(0.0, 1 / hz - (time.monotonic() - tick)))
    trainer.pause()
    pub = trainer.wait_idle()
    elapsed = time.monotonic() - t0
    return {"steps": pub.step, "wall_s": round(elapsed, 1), "training_s": round(pub.elapsed_s, 1),
            "refreshes_per_s": round(refreshes / elapsed, 2),
            "images_per_s": round(pub.step * cfg.batch_size * (cfg.d_steps + 1) / elapsed, 1),
            "frechet_timeline": timeline}, session


def throughput(cfg: ImageConfig, seconds: float, hz: float | None) -> float:
    """Steps per second of a LiveTrainer over ``seconds`` (after a 5 s warm-up), watched or not."""
    pool = TrainerPool(1)
    session = TrainSession(pool)
    trainer = session.ensure(cfg)
    trainer.start()
    time.sleep(5)
    s0, t0 = trainer.snapshot().step, time.monotonic()
    while time.monotonic() - t0 < seconds:
        tick = time.monotonic()
        if hz:
            session.frame()
            time.sleep(max(0.0, 1 / hz - (time.monotonic() - tick)))
        else:
            trainer.snapshot()  # keep the idle timer fed, draw nothing
            time.sleep(0.2)
    rate = (trainer.snapshot().step - s0) / (time.monotonic() - t0)
    session.close()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--watch-hz", type=float, default=5)
    ap.add_argument("--speed-seconds", type=float, default=60)
    args = ap.parse_args()
    torch.set_num_threads(serving_threads())
    device = "cuda" if torch.cuda.is_available() else "cpu"
    cfg = ImageConfig()

    run, session = watched_run(cfg, args.seconds, args.watch_hz)
    gan, pub = session.trainer.reader()
    from PIL import Image

    Image.fromarray(gan.fixed_grid()).resize((448, 448), Image.NEAREST).save(RESULTS / "live_images_grid.png")
    clf, _ = load_classifier(cfg.dataset)
    z = torch.randn(1000, cfg.latent_dim, generator=torch.Generator().manual_seed(123))
    gan.G.eval()
    with torch.no_grad():
        fakes = gan.G(z)
    x_test, _ = load_images(cfg.dataset, train=False).tensors()
    run["confident_pct_samples"] = confident_share(clf, fakes)
    run["confident_pct_real_test"] = confident_share(clf, x_test[:1000])
    session.close()

    unwatched = throughput(cfg, args.speed_seconds, None)
    watched = throughput(cfg, args.speed_seconds, args.watch_hz)
    result = {
        "device": device, "config": {k: v for k, v in vars(cfg).items() if k != "data_root"},
        "watched_run": run,
        "throughput": {"unwatched_steps_per_s": round(unwatched, 2), "watched_steps_per_s": round(watched, 2),
                       "watch_hz": args.watch_hz,
                       "slowdown_pct": round(100 * (1 - watched / unwatched), 1) if unwatched else None},
    }
    write("live_images", result)


if __name__ == "__main__":
    main()
