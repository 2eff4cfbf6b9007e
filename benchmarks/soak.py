"""Soak: mixed traffic for a long while, including live trainers started and abandoned; does the app
leak memory, threads or open files?

    python benchmarks/soak.py [--minutes 30] [--users 6] [--trainer-timeout 20] [--session-grace 30]

The app runs as its own process (``python app.py``) with a short idle timeout for live trainers
and a short grace for closed sessions, so abandoned ones are reaped during the run. Users come and
go: each runs a few minutes of mixed requests (Explore, Conditional, Interpolate, Translate,
Sketch, a live trainer that it starts and then leaves running without a goodbye), closes its tab
(the client's heartbeat drops) and is replaced by a new one. Every 30 s the app's RSS,
thread count and open file descriptors are sampled from /proc. At the end, after the idle timeout
has passed, the goals (issue 8): RSS growth under 50 MB from the warmed-up start, threads back to
baseline, no growth in open files. Writes benchmarks/results/soak.json.
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time

from common import ROOT, write
from load import TRAIN, rss_mb, start_app


def threads_and_files(pid: int) -> tuple[int, int]:
    threads = len(os.listdir(f"/proc/{pid}/task"))
    files = len(os.listdir(f"/proc/{pid}/fd"))
    return threads, files


def visitor(url: str, seconds: float, seed: int, counts: dict, lock: threading.Lock) -> None:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    rng = random.Random(seed)
    photo = handle_file(str(sorted((ROOT / "examples" / "horse2zebra").glob("horse_*.jpg"))[seed % 3]))
    drawing = {"background": None, "layers": [],
               "composite": handle_file(str(sorted((ROOT / "examples" / "sketches").glob("*.png"))[seed % 8]))}
    calls = [
        lambda: client.predict("dcgan-fashion", rng.randrange(10**6), 1.0, 4, *([0.0] * 16), api_name="/explore"),
        lambda: client.predict("cgan-digits", str(rng.randrange(10)), 8, rng.randrange(10**6), 1.0,
                               api_name="/conditional"),
        lambda: client.predict("dcgan-fashion", 1, 2, 8, "slerp", 1.0, "0", "0", 8, api_name="/interpolate"),
        lambda: client.predict("cyclegan-horse2zebra", "AtoB", photo, api_name="/translate"),
        lambda: client.predict("pix2pix-fashion-sketch", drawing, "no hint", rng.randrange(100), 2,
                               api_name="/sketch"),
        lambda: client.predict(True, False, api_name="/train_view"),
    ]
    try:  # a live trainer, started and never stopped: the visitor just leaves
        client.predict(*TRAIN, api_name="/train_start")
    except Exception as exc:
        with lock:
            counts.setdefault("trainer_refused", []).append(str(exc)[:120])
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        try:
            rng.choice(calls)()
            key = "ok"
        except Exception as exc:
            key = "error"
            with lock:
                counts.setdefault("errors", []).append(str(exc)[:200])
        with lock:
            counts[key] = counts.get(key, 0) + 1
        time.sleep(rng.uniform(0.2, 1.0))
    client.close()  # the tab closes; its trainer is left running


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--users", type=int, default=6)
    ap.add_argument("--visit-seconds", type=float, default=120)
    ap.add_argument("--trainer-timeout", type=float, default=20, help="idle seconds before a trainer is reaped")
    ap.add_argument("--session-grace", type=float, default=30, help="seconds a closed session is kept")
    args = ap.parse_args()

    from common import free_port

    os.environ["GAN_DEMO_TRAINER_IDLE_S"] = str(args.trainer_timeout)
    os.environ["GAN_DEMO_SESSION_GRACE_S"] = str(args.session_grace)
    # Abandoned trainers time out, closed sessions pass their grace, and the next sweep (every
    # minute) forgets them.
    settle_s = max(args.trainer_timeout, args.session_grace) + 60 + 35
    port = free_port()
    proc, launch_s = start_app(port, args.users)
    url = f"http://127.0.0.1:{port}/"
    counts: dict = {}
    lock = threading.Lock()
    samples = []
    try:
        # Warm-up at full concurrency: every model loaded, and the server's worker pools at the size
        # this traffic needs, so growth after it is a leak and not a pool filling up.
        warm = [threading.Thread(target=visitor, args=(url, 20, 900 + i, counts, lock)) for i in range(args.users)]
        for t in warm:
            t.start()
        for t in warm:
            t.join()
        time.sleep(settle_s)  # the warm-up's trainer and sessions are gone
        base_rss, (base_threads, base_files) = rss_mb(proc.pid), threads_and_files(proc.pid)
        end = time.perf_counter() + args.minutes * 60
        live: list[threading.Thread] = []
        seed = 0
        next_sample = 0.0
        while time.perf_counter() < end:
            live = [t for t in live if t.is_alive()]
            while len(live) < args.users:
                seed += 1
                t = threading.Thread(target=visitor, args=(url, min(args.visit_seconds, max(1, end - time.perf_counter())),
                                                           seed, counts, lock), daemon=True)
                t.start()
                live.append(t)
            if time.perf_counter() >= next_sample:
                samples.append({"t_s": round(args.minutes * 60 - (end - time.perf_counter()), 1),
                                "rss_mb": rss_mb(proc.pid), **dict(zip(("threads", "fds"), threads_and_files(proc.pid)))})
                next_sample = time.perf_counter() + 30
            time.sleep(1)
        for t in live:
            t.join()
        time.sleep(settle_s)
        final_rss, (final_threads, final_files) = rss_mb(proc.pid), threads_and_files(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    write("soak", {
        "minutes": args.minutes, "users": args.users, "session_grace_s": args.session_grace,
        "visitors": seed, "launch_s": launch_s,
        "requests_ok": counts.get("ok", 0), "errors": len(counts.get("errors", [])),
        "first_errors": counts.get("errors", [])[:5], "trainers_refused": len(counts.get("trainer_refused", [])),
        "baseline": {"rss_mb": base_rss, "threads": base_threads, "fds": base_files},
        "final": {"rss_mb": final_rss, "threads": final_threads, "fds": final_files},
        "rss_growth_mb": round(final_rss - base_rss, 1),
        "samples": samples,
        "goals": {"rss_growth_mb": 50, "threads": "back to baseline", "fds": "no growth"},
    })


if __name__ == "__main__":
    main()
