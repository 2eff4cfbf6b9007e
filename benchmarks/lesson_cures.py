"""Do the mode-collapse cures cure? Each cure lesson against the collapse lesson, several seeds.

    python benchmarks/lesson_cures.py [--seeds 0 1 2] [--steps N] [--threads 1]

Runs the ``collapse`` lesson and each cure preset (``cure-mbd``, ``cure-wgan-gp``, ``cure-weaker``)
for each seed, at the lesson's own length unless --steps says otherwise, and reports the modes
covered and the high-quality % (mean of the last 4 evaluations, as tests/test_lessons.py reads them).
A cure "shows what its text says" when it covers at least 5 more modes than the collapse on every
seed. Writes benchmarks/results/lesson_cures.json.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch

from common import write

from gan_demo.lessons import get_lesson
from gan_demo.training.toy import ToyGAN

KEYS = ("collapse", "cure-mbd", "cure-wgan-gp", "cure-weaker")


def measure(key: str, seed: int, steps: int | None) -> dict:
    lesson = get_lesson(key)
    gan = ToyGAN(replace(lesson.config(), eval_every=250, seed=seed))
    start = time.perf_counter()
    gan.run(steps or lesson.steps)
    last = gan.evals[-4:]
    return {"modes": round(float(np.mean([e["modes"] for e in last])), 2),
            "hq_pct": round(float(np.mean([e["hq_pct"] for e in last])), 1),
            "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    runs = {key: {str(s): measure(key, s, args.steps) for s in args.seeds} for key in KEYS}
    for key, by_seed in runs.items():
        print(key, {s: r["modes"] for s, r in by_seed.items()}, flush=True)
    cures = {key: all(runs[key][s]["modes"] >= runs["collapse"][s]["modes"] + 5 for s in runs[key])
             for key in KEYS[1:]}
    write("lesson_cures", {"seeds": args.seeds, "steps": args.steps, "threads": args.threads, "runs": runs,
                           "cure_shows_5_more_modes_on_every_seed": cures})


if __name__ == "__main__":
    main()
