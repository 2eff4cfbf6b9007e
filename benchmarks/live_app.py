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

from gan_demo.training.image_config import ImageConfig
from gan_demo.training.toy import ToyTrainConfig
from gan_demo.ui import build_app, launch_kwargs
from gan_demo.ui import train as toy_tab
from gan_demo.ui import train_images as image_tab


def _number(pattern: str, text: str) -> float | None:
    m = re.search(pattern, text)
    return float(m.group(1).replace(",", "")) if m else None


def _poll(client, view: str, seconds: float, poll_s: float, patterns: dict[str, str], t0: float) -> list[dict]:
    """Poll ``view`` as the page does for ``seconds`` after ``t0``; one row of parsed status each time."""
    trace = []
    while time.perf_counter() - t0 < seconds:
        status = client.predict(*((True, False) if view == "/train_view" else ()), api_name=view)[1]
        trace.append({"t_s": round(time.perf_counter() - t0, 2),
                      **{key: _number(pattern, status) for key, pattern in patterns.items()}})
        time.sleep(poll_s)
    return trace


def _median(values: list) -> float | None:
    values = sorted(v for v in values if v)
    return values[len(values) // 2] if values else None


def toy(client, seconds: float, poll_s: float) -> dict:
    defaults = asdict(ToyTrainConfig())
    t0 = time.perf_counter()
    client.predict(*[defaults[f] for f in toy_tab.FIELDS], api_name="/train_start")
    trace = _poll(client, "/train_view", seconds, poll_s,
                  {"step": r"step ([\d,]+)", "steps_per_s": r"([\d,.]+) steps/s",
                   "modes": r"modes covered (\d+)", "hq_pct": r"high quality ([\d.]+) %"}, t0)
    client.predict(api_name="/train_pause")
    first_full = next((r["t_s"] for r in trace if r["modes"] == 8 and (r["hq_pct"] or 0) >= 90), None)
    return {"settings": defaults, "first_8_of_8_at_90pct_hq_s": first_full, "goal_s": 60,
            "met": first_full is not None and first_full <= 60,
            "median_steps_per_s": _median([r["steps_per_s"] for r in trace]),
            "final": trace[-1] if trace else None, "trace": trace[::max(1, len(trace) // 60)]}


def images(client, seconds: float, poll_s: float) -> dict:
    defaults = asdict(ImageConfig())
    t0 = time.perf_counter()
    client.predict(*[defaults[f] for f in image_tab.FIELDS], api_name="/train_images_start")
    trace = _poll(client, "/train_images_view", seconds, poll_s,
                  {"step": r"step ([\d,]+)", "images_per_s": r"([\d,.]+) images/s",
                   "frechet": r"Frechet distance ([\d.]+)"}, t0)
    client.predict(api_name="/train_images_pause")
    return {"first_frechet_on_screen_s": next((r["t_s"] for r in trace if r["frechet"] is not None), None),
            "goal_first_frechet_s": 20,
            "median_images_per_s_first_20s": _median([r["images_per_s"] for r in trace if r["t_s"] <= 20]),
            "median_images_per_s": _median([r["images_per_s"] for r in trace]),
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
