"""Steps per second of the live toy trainer against a plain PyTorch loop, in one run.

    python benchmarks/toy_speed.py [--steps 1000] [--repeats 7] [--watch-windows 4]

The plain loop is written here in pytorch/examples' dcgan style with the same networks
(ToyGenerator / ToyDiscriminator), batch size, optimiser settings and loss (non-saturating):
D step on real and G(z).detach(), then G step on a fresh G(z). Both run in the same process
with the same torch thread settings, alternating; the goal is read off the median ratio of
neighbouring runs. A third measurement runs
the trainer inside ``LiveTrainer`` in windows alternately unwatched and watched by a reader that
draws the view at 10 Hz (the UI watching); the slowdown is the median over neighbouring pairs.
Writes benchmarks/results/toy_speed.json. Goals: >= 2x the plain loop; watching costs <= 10 %.
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np
import torch
import torch.nn.functional as F

from common import write

from gan_demo import plots
from gan_demo.training.live import LiveTrainer
from gan_demo.training.toy import ToyGAN, ToyTrainConfig
from gan_demo.ui import serving_threads


def plain_loop(cfg: ToyTrainConfig, steps: int) -> float:
    gan = ToyGAN(cfg)  # only for its nets and its data; the loop below is textbook
    G, D, data = gan.G, gan.D, gan.data
    opt_g = torch.optim.Adam(G.parameters(), cfg.lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), cfg.lr_d, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(0)
    t = time.perf_counter()
    for _ in range(steps):
        real = data.sample(cfg.batch_size, gen)
        z = torch.randn(cfg.batch_size, cfg.noise_dim)
        fake = G(z)
        D.zero_grad()
        loss_d = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
        loss_d.backward()
        opt_d.step()
        G.zero_grad()
        z = torch.randn(cfg.batch_size, cfg.noise_dim)
        loss_g = F.softplus(-D(G(z))).mean()
        loss_g.backward()
        opt_g.step()
        _ = (loss_d.item(), loss_g.item())  # the loop logs its losses, as examples/dcgan prints them
    return steps / (time.perf_counter() - t)


def trainer_loop(cfg: ToyTrainConfig, steps: int) -> float:
    gan = ToyGAN(cfg)
    t = time.perf_counter()
    gan.run(steps)
    gan.history()
    return steps / (time.perf_counter() - t)


def watch_cost(cfg: ToyTrainConfig, windows: int, seconds: float, hz: float) -> tuple[list, list, int]:
    """LiveTrainer's own steps/s in alternating windows without and with a reader drawing the view
    at ``hz``: the same run throughout, so the machine's drift hits both sides alike."""
    trainer = LiveTrainer(cfg, "cpu")
    frames = 0
    watching, stop = threading.Event(), threading.Event()

    def watch():
        nonlocal frames
        while not stop.is_set():
            if not watching.is_set():
                time.sleep(0.01)
                continue
            t = time.perf_counter()
            gan, _ = trainer.reader()
            plots.toy_view(gan)
            frames += 1
            time.sleep(max(0.0, 1 / hz - (time.perf_counter() - t)))

    watcher = threading.Thread(target=watch)
    watcher.start()
    trainer.start()
    time.sleep(1.0)  # warm up
    rates: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(windows):
        for watched in (False, True):
            watching.set() if watched else watching.clear()
            start_step, t = trainer.wait_idle().step, time.perf_counter()
            time.sleep(seconds)
            rates[watched].append((trainer.wait_idle().step - start_step) / (time.perf_counter() - t))
    stop.set()
    watcher.join()
    trainer.close()
    return rates[False], rates[True], frames


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--dataset", default="ring8")
    ap.add_argument("--watch-seconds", type=float, default=4.0, help="length of each watch window")
    ap.add_argument("--watch-windows", type=int, default=4, help="pairs of unwatched/watched windows")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads for the live runs; 0 = the app's policy (all cores but one)")
    args = ap.parse_args()
    cfg = ToyTrainConfig(dataset=args.dataset, eval_every=100_000)
    plain, ours = [], []
    for _ in range(args.repeats):
        plain.append(plain_loop(cfg, args.steps))
        ours.append(trainer_loop(cfg, args.steps))
    live_cfg = ToyTrainConfig(dataset=args.dataset, eval_every=250)
    all_threads = torch.get_num_threads()
    live_threads = args.threads or serving_threads()
    torch.set_num_threads(live_threads)
    unwatched, watched, frames = watch_cost(live_cfg, args.watch_windows, args.watch_seconds, 10)
    torch.set_num_threads(all_threads)
    result = {
        "config": {"dataset": args.dataset, "batch_size": cfg.batch_size, "width": cfg.width,
                   "hidden_layers": cfg.hidden_layers, "loss": cfg.loss, "steps": args.steps},
        "plain_steps_per_s": [round(x, 1) for x in plain],
        "trainer_steps_per_s": [round(x, 1) for x in ours],
        "speedup_best": round(max(ours) / max(plain), 2),
        # each repeat runs the two loops back to back; the median of their ratios shrugs off the
        # VM's swings (best-of can pair a lucky plain window with an unlucky trainer one)
        "speedup_median_of_pairs": round(float(np.median(np.array(ours) / np.array(plain))), 2),
        "live_unwatched_steps_per_s": [round(x, 1) for x in unwatched],
        "live_watched_10hz_steps_per_s": [round(x, 1) for x in watched],
        "watch_frames": frames,
        # per pair of neighbouring windows, then the median: robust to this VM's drift
        "watch_slowdown_pct": round(100 * (1 - float(np.median(np.array(watched) / np.array(unwatched)))), 1),
        "live_torch_threads": live_threads, "loop_torch_threads": all_threads,
    }
    result["goals"] = {"speedup_at_least_2x": result["speedup_median_of_pairs"] >= 2.0,
                       "watch_slowdown_at_most_10pct": result["watch_slowdown_pct"] <= 10.0}
    write("toy_speed", result)


if __name__ == "__main__":
    main()
