"""Do the mode-collapse lessons show what they say on every seed, not only on the lesson's own?

    python benchmarks/lesson_cures.py [--seeds 0 1 2 3 4] [--steps N] [--threads 1] [--jobs 2]

Runs the ``collapse`` lesson and the three lessons that change one switch of it (``cure-mbd``,
``cure-wgan-gp``, ``cure-weaker``) for each seed, at the lesson's own length unless --steps says
otherwise. Reports modes covered and the high-quality % (mean of the last 4 evaluations, as
tests/test_lessons.py reads them), D(x) and D(G(z)) and the share of G-only updates over the last
1,000 steps, and checks each lesson's claim (the same checks as tests/test_lessons.py) per seed.
Writes benchmarks/results/lesson_cures.json.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np
import torch

from common import write

from gan_demo.training.lessons import get_lesson
from gan_demo.training.toy import ToyGAN

KEYS = ("collapse", "cure-mbd", "cure-wgan-gp", "cure-weaker")


def measure(key: str, seed: int, steps: int | None, threads: int) -> dict:
    torch.set_num_threads(threads)
    lesson = get_lesson(key)
    gan = ToyGAN(replace(lesson.config(), eval_every=250, seed=seed))
    start = time.perf_counter()
    gan.run(steps or lesson.steps)
    last, h = gan.evals[-4:], gan.history()
    modes = [e["modes"] for e in gan.evals]
    return {"modes": round(float(np.mean([e["modes"] for e in last])), 2),
            "max_modes_second_half": float(max(modes[len(modes) // 2:])),
            "hq_pct": round(float(np.mean([e["hq_pct"] for e in last])), 1),
            "d_real": round(float(h["d_real"][-1000:].mean()), 3),
            "d_fake": round(float(h["d_fake"][-1000:].mean()), 3),
            "g_only_share": round(float((h["updated"][-1000:] == 2).mean()), 3),
            "g_only_steps": int((h["updated"] == 2).sum()),
            "seconds": round(time.perf_counter() - start, 1)}


def claims(r: dict, plain: dict) -> dict[str, bool]:
    """Each lesson's text, as tests/test_lessons.py checks it."""
    return {
        "collapse": r["modes"] <= 3 and r["max_modes_second_half"] <= 3,
        "cure-mbd": r["hq_pct"] <= plain["hq_pct"] - 15 and r["modes"] <= plain["modes"] + 1,
        "cure-wgan-gp": r["modes"] >= 6 and r["modes"] >= plain["modes"] + 4,
        "cure-weaker": r["g_only_steps"] >= 20 and r["modes"] <= 3.5,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2, help="runs at once, one process each")
    args = ap.parse_args()
    jobs = [(key, s) for key in KEYS for s in args.seeds]
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = {job: pool.submit(measure, *job, args.steps, args.threads) for job in jobs}
        results = {job: f.result() for job, f in futures.items()}
    runs = {key: {str(s): results[(key, s)] for s in args.seeds} for key in KEYS}
    shown = {key: {} for key in KEYS}
    for s in map(str, args.seeds):
        plain = runs["collapse"][s]
        for key in KEYS:
            shown[key][s] = claims(runs[key][s], plain)[key]
    for key in KEYS:
        print(key, {s: (r["modes"], r["hq_pct"]) for s, r in runs[key].items()}, shown[key], flush=True)
    write("lesson_cures", {"seeds": args.seeds, "steps": args.steps, "threads": args.threads, "runs": runs,
                           "claim_holds": shown,
                           "claim_holds_on_every_seed": {key: all(v.values()) for key, v in shown.items()}})


if __name__ == "__main__":
    main()
