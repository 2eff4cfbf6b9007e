"""GMAN (Durugkar et al. 2017) on the toy data: do K discriminators help mode coverage over one?

    python benchmarks/gman.py [--seeds 0 1 2] [--datasets ring8 grid25] [--steps 4000]

Each run is `python -m gan_demo train-toy` (one process, one thread, so runs are comparable) with
the plain setting in which one D loses modes: the non-saturating loss, batch 128, learning rate
1e-3 held constant, no other trick (the "mode collapse" lesson's setting). Configurations: one D;
K = 3 with G answering to the mean of their losses ("GMAN-0"); K = 3 with softmax weights,
lambda 1 ("GMAN-1"). Records modes covered, high-quality % and wall time per seed in
benchmarks/results/gman.json, and the mean per configuration.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import ROOT, write

from gan_demo.data import toy_dataset
from gan_demo.metrics import mode_coverage

CONFIGS = {
    "one D": ["--discriminators", "1"],
    "GMAN-0: 3 D, mean": ["--discriminators", "3", "--gman", "mean"],
    "GMAN-1: 3 D, softmax lambda 1": ["--discriminators", "3", "--gman", "softmax", "--gman-lambda", "1"],
}
PLAIN = ["--loss", "ns", "--batch-size", "128", "--lr", "1e-3", "--constant-lr", "--no-minibatch-std"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--datasets", nargs="+", default=["ring8", "grid25"])
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = ap.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            d = toy_dataset(dataset)
            for name in args.configs:
                for seed in args.seeds:
                    out = Path(tmp) / "run.npz"
                    cmd = [sys.executable, "-m", "gan_demo", "train-toy", "--dataset", dataset, "--seed", str(seed),
                           "--steps", str(args.steps), "--threads", "1", "--quiet", "--out", str(out),
                           *PLAIN, *CONFIGS[name]]
                    t = time.perf_counter()
                    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
                    wall = time.perf_counter() - t
                    if proc.returncode != 0:
                        runs.append({"dataset": dataset, "config": name, "seed": seed,
                                     "error": proc.stderr.strip()[-500:]})
                        continue
                    report = mode_coverage(np.load(out)["samples"], d.modes, d.sigma)
                    runs.append({"dataset": dataset, "config": name, "seed": seed, "modes": report.modes_covered,
                                 "modes_total": report.modes_total, "hq_pct": round(report.hq_pct, 2),
                                 "wall_s": round(wall, 1)})
                    print(runs[-1], flush=True)
    summary = {}
    for dataset in args.datasets:
        for name in args.configs:
            ok = [r for r in runs if r["dataset"] == dataset and r["config"] == name and "error" not in r]
            if ok:
                summary[f"{dataset} / {name}"] = {
                    "modes_mean": round(float(np.mean([r["modes"] for r in ok])), 2),
                    "modes_per_seed": [r["modes"] for r in ok],
                    "hq_pct_mean": round(float(np.mean([r["hq_pct"] for r in ok])), 1),
                    "wall_s_mean": round(float(np.mean([r["wall_s"] for r in ok])), 1)}
    write("gman", {"setting": " ".join(PLAIN) + f" --steps {args.steps} --threads 1",
                   "seeds": args.seeds, "runs": runs, "summary": summary})
    for k, v in summary.items():
        print(k, v)


if __name__ == "__main__":
    main()
