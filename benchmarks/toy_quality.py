"""Mode coverage of `python -m gan_demo train-toy` with its default (recommended) settings.

    python benchmarks/toy_quality.py [--seeds 0 1 2 3 4] [--datasets ring8 grid25]

Runs the CLI exactly as a user would (one process per run, all cores), reads the .npz it writes,
and records modes covered, high-quality % and wall time per seed in
benchmarks/results/toy_quality.json. Goals: ring8 8/8 and grid25 25/25 modes, >= 95 % high quality,
on every seed, each run under 120 s on a 2-core CPU.
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

GOALS = {"ring8": 8, "grid25": 25}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--datasets", nargs="+", default=["ring8", "grid25"])
    args = ap.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            for seed in args.seeds:
                out = Path(tmp) / f"{dataset}_{seed}.npz"
                t = time.perf_counter()
                proc = subprocess.run([sys.executable, "-m", "gan_demo", "train-toy", "--dataset", dataset,
                                       "--seed", str(seed), "--quiet", "--out", str(out)],
                                      cwd=ROOT, capture_output=True, text=True)
                wall = time.perf_counter() - t
                if proc.returncode != 0:
                    runs.append({"dataset": dataset, "seed": seed, "error": proc.stderr.strip()[-500:]})
                    continue
                f = np.load(out)
                d = toy_dataset(dataset)
                report = mode_coverage(f["samples"], d.modes, d.sigma)
                runs.append({"dataset": dataset, "seed": seed, "modes": report.modes_covered,
                             "modes_total": report.modes_total, "hq_pct": round(report.hq_pct, 2),
                             "steps": int(f["step"][-1]), "wall_s": round(wall, 1),
                             "recipe": proc.stdout.strip().splitlines()[0],
                             "cli_output": proc.stdout.strip().splitlines()[-1]})
                print(runs[-1], flush=True)
    ok = [r for r in runs if "error" not in r]
    met = (len(ok) == len(runs) and
           all(r["modes"] == GOALS[r["dataset"]] and r["hq_pct"] >= 95 and r["wall_s"] <= 120 for r in ok))
    summary = {}
    for dataset in args.datasets:
        rs = [r for r in ok if r["dataset"] == dataset]
        if rs:
            summary[dataset] = {"mean_modes": float(np.mean([r["modes"] for r in rs])),
                                "min_modes": min(r["modes"] for r in rs),
                                "mean_hq_pct": round(float(np.mean([r["hq_pct"] for r in rs])), 2),
                                "min_hq_pct": min(r["hq_pct"] for r in rs),
                                "max_wall_s": max(r["wall_s"] for r in rs)}
    write("toy_quality", {"command": "python -m gan_demo train-toy --dataset D --seed S --out F.npz",
                          "runs": runs, "summary": summary, "goal_met": met})


if __name__ == "__main__":
    main()
