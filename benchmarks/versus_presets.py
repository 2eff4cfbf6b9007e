"""Does each Versus preset show its difference within a classroom minute and a half?

    python benchmarks/versus_presets.py [--seconds 90] [--presets mbd wgan-gp ...]

For each preset: open the race as the Versus tab does (the same ``Versus`` class, the app's
trainer pool, the two runs in lockstep), press Start, and draw both views every 0.5 s as the page's
timer does. Every poll checks the preset's claim on what the charts show (the published histories)
and records the first time it holds; the claim must hold by --seconds (goal 90). Claims:
- minimax: from step 300, A's D(G(z)) (last 50 steps) under 0.05, D rejects its fakes, while B's is above 0.2.
- mbd: B's high-quality share (last two evaluations) at least 15 points under A's, and B covers
  at most one mode more (the points scatter; no missing mode is found).
- wgan-gp: B covers at least 6 modes and at least 4 more than A.
- weaker: by step 1,000 B's D sat out at least 20 steps (G trained alone) and B still covers at
  most 3 modes.
- equilibrium: A's D(x) and D(G(z)) (last 200 steps) within 0.05 of 0.5, and B's swing (standard
  deviation of D(x)) at least twice A's.
- images-loss: both runs have two Frechet points and their latest differ by at least 5 %.
Writes benchmarks/results/versus_presets.json. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from common import write

from gan_demo.training.live import TrainerPool
from gan_demo.training.versus import PRESETS, Versus, base_config, make_pair
from gan_demo.ui.versus import REFRESH_S


def _last(h: dict, column: str, n: int) -> np.ndarray:
    values = h[column][-n:]
    return values[np.isfinite(values)]


def _evaluations(h: dict, column: str, every: int | None) -> list[float]:
    """The evaluations a quality chart plots, out of the history's forward-filled column: a toy run
    evaluates every ``every`` steps; an image run's Frechet distances never repeat exactly."""
    finite = np.isfinite(h[column])
    if every:
        return [float(v) for v in h[column][finite & (h["step"] % every == 0)]]
    values = h[column][finite]
    return [float(v) for v, new in zip(values, np.r_[True, np.diff(values) != 0]) if new]


def figures(h: dict, every: int | None) -> dict:
    """What the charts show of one run, as numbers (``every``: a toy run's evaluation interval)."""
    out = {"step": int(h["step"][-1]) if len(h["step"]) else 0}
    if not out["step"]:
        return out
    out.update(d_real_50=float(_last(h, "d_real", 50).mean()), d_fake_50=float(_last(h, "d_fake", 50).mean()),
               d_real_200=float(_last(h, "d_real", 200).mean()), d_fake_200=float(_last(h, "d_fake", 200).mean()),
               d_real_sd_200=float(_last(h, "d_real", 200).std()))
    if "updated" in h:
        out["d_sat_out"] = int((h["updated"] == 2).sum())
    for column in ("modes", "hq_pct", "frechet"):
        points = _evaluations(h, column, every) if column in h else []
        if points:
            out[column] = float(np.mean(points[-2:]))
            out[f"{column}_points"] = len(points)
            out[f"{column}_last"] = points[-1]
    return out


def claim(key: str, a: dict, b: dict) -> bool:
    if not a.get("step") or not b.get("step"):
        return False
    if key == "minimax":
        return a["step"] >= 300 and a["d_fake_50"] < 0.05 and b["d_fake_50"] > 0.2
    if key == "mbd":
        return ("hq_pct" in a and "hq_pct" in b and a["hq_pct_points"] >= 4
                and b["hq_pct"] <= a["hq_pct"] - 15 and b["modes"] <= a["modes"] + 1)
    if key == "wgan-gp":
        return "modes" in a and "modes" in b and b["modes"] >= 6 and b["modes"] >= a["modes"] + 4
    if key == "weaker":
        return b["step"] >= 1000 and b.get("d_sat_out", 0) >= 20 and "modes" in b and b["modes"] <= 3
    if key == "equilibrium":
        return (a["step"] >= 400 and abs(a["d_real_200"] - 0.5) < 0.05 and abs(a["d_fake_200"] - 0.5) < 0.05
                and b["d_real_sd_200"] >= 2 * a["d_real_sd_200"])
    if key == "images-loss":
        fa, fb = a.get("frechet_last"), b.get("frechet_last")
        return (a.get("frechet_points", 0) >= 2 and b.get("frechet_points", 0) >= 2
                and abs(fa - fb) >= 0.05 * min(fa, fb))
    raise KeyError(key)


def race(key: str, seconds: float) -> dict:
    p = PRESETS[key]
    mode = "toy" if p.key != "images-loss" else "images"
    base = base_config(mode, key, p.base.dataset, getattr(p.base, "model", "dcgan"), p.base.seed)
    cfg_a, cfg_b = make_pair(base, p.difference, p.a, p.b)
    v = Versus(TrainerPool())
    v.open(cfg_a, cfg_b, p.difference)
    t0 = time.perf_counter()
    v.start()
    first, trace = None, []
    try:
        while time.perf_counter() - t0 < seconds:
            for run in v.runs.values():
                run.frame()  # what the page's timer draws
            pubs = [v.runs[k].trainer.published for k in "AB"]
            a, b = (figures(pub.history, getattr(pub.config, "eval_every", None)) for pub in pubs)
            t = round(time.perf_counter() - t0, 1)
            if first is None and claim(key, a, b):
                first = t
            if not trace or t - trace[-1]["t_s"] >= 5:
                trace.append({"t_s": t, "A": a, "B": b})
            if first is not None and t > first + 2:
                break
            time.sleep(REFRESH_S)
        final = {"A": a, "B": b}
    finally:
        v.close()
    return {"labels": v.labels, "claim_first_holds_s": first, "goal_s": 90,
            "met": first is not None and first <= 90, "final": final, "trace": trace}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=120, help="how long to wait for a claim (goal: 90)")
    ap.add_argument("--presets", nargs="+", default=list(PRESETS))
    ap.add_argument("--busy", action="store_true", help="record that other work shared the CPU")
    args = ap.parse_args()
    results = {}
    for key in args.presets:
        results[key] = {**race(key, args.seconds), "measured": time.strftime("%Y-%m-%d"),
                        "busy_cpu": args.busy}
        r = results[key]
        brief = {run: {k: round(v, 2) for k, v in r["final"][run].items()
                       if k in ("step", "modes", "hq_pct", "d_sat_out", "d_fake_50", "d_real_sd_200", "frechet_last")}
                 for run in "AB"}
        print(f"{key}: claim holds after {r['claim_first_holds_s']} s (met: {r['met']}); final {brief}", flush=True)
    # A run of some presets keeps the others' last figures (each preset says when it was measured).
    from common import RESULTS

    earlier = RESULTS / "versus_presets.json"
    kept = json.loads(earlier.read_text()).get("presets", {}) if earlier.is_file() else {}
    merged = {k: kept[k] for k in PRESETS if k in kept and k not in results}
    merged.update(results)
    write("versus_presets", {"seconds": args.seconds, "presets": {k: merged[k] for k in PRESETS if k in merged},
                             "all_met": all(r["met"] for r in merged.values())})


if __name__ == "__main__":
    main()
