"""Train live as a teacher sees it: through the app's own endpoints, while the view polls.

    python benchmarks/live_app.py [--toy-seconds 90] [--image-seconds 40] [--poll-s 0.2]

Launches the app on a local port and drives it with gradio_client, as the page does:
1. Toy: /train_start with the tab's default settings (ring8), then /train_view every --poll-s
   (the page's refresh). Records, from the status the page shows, steps, steps/s, modes covered
   and the high-quality share against wall time, and the first time 8/8 modes at >= 90 % high
   quality were on screen (goal: within 60 s).
2. Images: /train_images_start with the Images sub-tab's defaults, polling /train_images_view.
   Records the time of the first Frechet point on screen (goal: within 20 s of Start) and the
   images/s over the first seconds (goal: >= 600).
Writes benchmarks/results/live_app.json. Run it on an otherwise idle machine: the figures are the
CPU's to share with nothing else.
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import asdict

from common import write

from gan_demo.training.image_live import ImageLiveConfig
from gan_demo.training.toy import ToyTrainConfig
from gan_demo.ui import build_app, launch_kwargs
from gan_demo.ui import train as toy_tab
from gan_demo.ui import train_images as image_tab


def _number(pattern: str, text: str) -> float | None:
    m = re.search(pattern, text)
    return float(m.group(1).replace(",", "")) if m else None


def toy(client, seconds: float, poll_s: float) -> dict:
    defaults = asdict(ToyTrainConfig())
    values = [defaults[f] for f in toy_tab.FIELDS]
    t0 = time.perf_counter()
    client.predict(*values, api_name="/train_start")
    trace, first_full = [], None
    while time.perf_counter() - t0 < seconds:
        status = client.predict(True, False, api_name="/train_view")[1]
        t = round(time.perf_counter() - t0, 2)
        row = {"t_s": t, "step": _number(r"step ([\d,]+)", status),
               "steps_per_s": _number(r"([\d,.]+) steps/s", status),
               "modes": _number(r"modes covered (\d+)", status),
               "hq_pct": _number(r"high quality ([\d.]+) %", status)}
        trace.append(row)
        if first_full is None and row["modes"] == 8 and (row["hq_pct"] or 0) >= 90:
            first_full = t
        time.sleep(poll_s)
    client.predict(api_name="/train_pause")
    rates = [r["steps_per_s"] for r in trace if r["steps_per_s"]]
    return {"settings": defaults, "first_8_of_8_at_90pct_hq_s": first_full, "goal_s": 60,
            "met": first_full is not None and first_full <= 60,
            "median_steps_per_s": sorted(rates)[len(rates) // 2] if rates else None,
            "final": trace[-1] if trace else None, "trace": trace[::max(1, len(trace) // 60)]}


def images(client, seconds: float, poll_s: float) -> dict:
    defaults = asdict(ImageLiveConfig())
    values = [defaults[f] for f in image_tab.FIELDS]
    t0 = time.perf_counter()
    client.predict(*values, api_name="/train_images_start")
    trace, first_fid = [], None
    while time.perf_counter() - t0 < seconds:
        status = client.predict(api_name="/train_images_view")[1]
        t = round(time.perf_counter() - t0, 2)
        row = {"t_s": t, "step": _number(r"step ([\d,]+)", status),
               "images_per_s": _number(r"([\d,.]+) images/s", status),
               "frechet": _number(r"Frechet distance ([\d.]+)", status)}
        trace.append(row)
        if first_fid is None and row["frechet"] is not None:
            first_fid = t
        time.sleep(poll_s)
    client.predict(api_name="/train_images_pause")
    early = [r["images_per_s"] for r in trace if r["images_per_s"] and r["t_s"] <= 20]
    rates = [r["images_per_s"] for r in trace if r["images_per_s"]]
    return {"first_frechet_on_screen_s": first_fid, "goal_first_frechet_s": 20,
            "median_images_per_s_first_20s": sorted(early)[len(early) // 2] if early else None,
            "median_images_per_s": sorted(rates)[len(rates) // 2] if rates else None,
            "goal_images_per_s": 600, "final": trace[-1] if trace else None,
            "trace": trace[::max(1, len(trace) // 60)]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--toy-seconds", type=float, default=90)
    ap.add_argument("--image-seconds", type=float, default=40)
    ap.add_argument("--poll-s", type=float, default=toy_tab.REFRESH_S)
    ap.add_argument("--port", type=int, default=7988)
    args = ap.parse_args()
    from gradio_client import Client

    demo = build_app()
    demo.launch(**{**launch_kwargs(), "server_name": "127.0.0.1", "server_port": args.port,
                   "prevent_thread_lock": True, "quiet": True})
    try:
        client = Client(f"http://127.0.0.1:{args.port}/", verbose=False)
        result = {"toy_ring8": toy(client, args.toy_seconds, args.poll_s),
                  "images": images(client, args.image_seconds, args.poll_s)}
    finally:
        demo.close()
    write("live_app", result)
    t, i = result["toy_ring8"], result["images"]
    print(f"ring8: 8/8 modes at >= 90 % HQ after {t['first_8_of_8_at_90pct_hq_s']} s "
          f"(median {t['median_steps_per_s']} steps/s); images: first Frechet point after "
          f"{i['first_frechet_on_screen_s']} s, {i['median_images_per_s_first_20s']} images/s in the first 20 s")


if __name__ == "__main__":
    main()
