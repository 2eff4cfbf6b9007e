"""Load: N concurrent gradio_client users against the real app for a while; latency, errors, memory.

    python benchmarks/load.py [--users 20] [--seconds 60] [--seed 0] [--client http|gradio_client]

The app runs as its own process, started the way a Space starts it (``python app.py`` with
``GRADIO_SERVER_PORT``), so its launch time is measured too (goal: under 10 s). Each user is a
``gradio_client.Client`` (its own session) running a mix of requests until the time is up:
Explore (1 image), Conditional (4 images), Interpolate (8 steps), Translate (an example photo),
Sketch (an example drawing) and a live-training session of its own (Step 20, then the view).
The trainer cap is raised to the number of users so every user gets a session; paused trainers
cost no CPU.

Users speak plain HTTP by default, the way a browser does (POST /gradio_api/call/NAME with the
user's own session_hash, read the event stream, then GET the images it returns; uploads go up once
per user): 20 ``gradio_client`` users (--client gradio_client) poll every 50 ms and took 1.5 of the
2 cores themselves (cpu_s in the JSON), so they measured their own load more than the server.

Reports requests/s, p50/p95/p99 per endpoint, errors (goal 0), the app's RSS before and after, and
the CPU seconds the server and the load generator used.
Goal (issue 8): p95 under 1 s for sampling (Explore, Conditional) at 20 users on the 2-core CPU.
Writes benchmarks/results/load.json.

``--hostile`` (issue 26) runs the app as a Space runs it (behind a proxy: each visitor's address
comes in X-Forwarded-For, the trainer cap left at its default share of 2 per visitor) and adds,
beside the normal users (each at an address of its own), three visitors who try to take more
than their share:

* a *hog*: one address, 8 browser sessions, each pressing Start on a toy run every 2 s, so its
  runs train the whole time and it asks for a slot for every tab;
* a *race*: every 15 s a new session at one address fires 20 start / reset / pause calls at once,
  toy and image runs mixed (the race that used to leak slots);
* *heavy*: 3 threads at one address sending Translate, Sketch and Interpolate back to back.

The room has room for the normal users' runs plus 4 (so the hog and the race can each have their
share of 2); the goals are that normal users' Explore p95 stays under 1 s, that no normal user is
refused a trainer while the hog runs, and that the hog and the race each hold at most 2 slots.
Writes benchmarks/results/load_hostile.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

from common import ROOT, free_port, percentiles, write

TRAIN = ["ring8", "ns", False, False, 1, "adam", 1e-3, 1e-3, 64, 2, "gaussian", 2, 32, 0, 1, "mean", 0]
MIX = [("explore", 35), ("conditional", 20), ("interpolate", 15), ("translate", 10), ("sketch", 10),
       ("train", 10)]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_app(port: int, users: int, behind_proxy: bool = False) -> tuple[subprocess.Popen, float]:
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False",
           "GAN_DEMO_MAX_TRAINERS": str(users + 4), "GAN_DEMO_BEHIND_PROXY": "1" if behind_proxy else "0"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc, round(time.perf_counter() - start, 2)
        except OSError:
            if proc.poll() is not None or time.perf_counter() - start > 120:
                raise RuntimeError("the app did not start")
            time.sleep(0.1)


class HttpUser:
    """One visitor over plain HTTP with its own session, as a browser tab would be."""

    def __init__(self, url: str, seed: int, address: str | None = None):
        import httpx

        # Behind a proxy the app reads the visitor's address from X-Forwarded-For.
        headers = {"x-forwarded-for": address} if address else {}
        self.url, self.http = url, httpx.Client(base_url=url, timeout=120, headers=headers)
        self.session = f"load{seed}x{random.Random(seed).randrange(10**9)}"

    def upload(self, path: Path) -> dict:
        with path.open("rb") as f:
            r = self.http.post("gradio_api/upload", files={"files": (path.name, f)})
        r.raise_for_status()
        return {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}, "orig_name": path.name}

    def predict(self, *data, api_name: str):
        name = api_name.strip("/")
        r = self.http.post(f"gradio_api/call/{name}", json={"data": list(data), "session_hash": self.session})
        r.raise_for_status()
        body = self.http.get(f"gradio_api/call/{name}/{r.json()['event_id']}").text
        if "event: error" in body:
            raise RuntimeError(body.split("event: error\ndata: ", 1)[-1][:200])
        result = json.loads(body.split("event: complete\ndata: ", 1)[1].split("\n", 1)[0])
        for item in result:  # the page then fetches what it shows
            if isinstance(item, dict) and item.get("url"):
                self.http.get(item["url"]).raise_for_status()
        return result


def user(url: str, deadline: float, seed: int, record, client_kind: str = "http",
         address: str | None = None, mix=MIX) -> None:
    photo_path = sorted((ROOT / "examples" / "horse2zebra").glob("horse_*.jpg"))[seed % 3]
    sketch_path = sorted((ROOT / "examples" / "sketches").glob("*.png"))[seed % 8]
    if client_kind == "http":
        client = HttpUser(url, seed, address)
        photo, sketch = client.upload(photo_path), client.upload(sketch_path)
    else:
        from gradio_client import Client, handle_file

        client = Client(url, verbose=False)
        photo, sketch = handle_file(str(photo_path)), handle_file(str(sketch_path))
    rng = random.Random(seed)
    drawing = {"background": None, "layers": [], "composite": sketch}
    calls = {
        "explore": lambda: client.predict("dcgan-fashion", rng.randrange(10**6), 1.0, 1, *([0.0] * 16),
                                          api_name="/explore"),
        "conditional": lambda: client.predict("cgan-fashion", "Sneaker", 4, rng.randrange(10**6), 1.0,
                                              api_name="/conditional"),
        "interpolate": lambda: client.predict("dcgan-fashion", rng.randrange(1000), rng.randrange(1000), 8,
                                              "slerp", 1.0, "0", "0", 8, api_name="/interpolate"),
        "translate": lambda: client.predict("cyclegan-horse2zebra", "AtoB", photo, api_name="/translate"),
        "sketch": lambda: client.predict("pix2pix-fashion-sketch", drawing, "no hint", rng.randrange(1000), 0,
                                         api_name="/sketch"),
        "train_step": lambda: client.predict(20, "both", *TRAIN, api_name="/train_step"),
        "train_view": lambda: client.predict(True, False, api_name="/train_view"),
    }
    names, weights = zip(*mix)
    while time.perf_counter() < deadline:
        action = rng.choices(names, weights)[0]
        for name in (("train_step", "train_view") if action == "train" else (action,)):
            start = time.perf_counter()
            try:
                calls[name]()
                record(name, time.perf_counter() - start, None)
            except Exception as exc:  # an error is a result here: it is counted and reported
                record(name, time.perf_counter() - start, str(exc)[:200])
    try:
        client.predict(api_name="/train_pause")
    except Exception:
        pass


REFUSED = ("room is full", "You already run")  # the pool's two refusals


def hog(url: str, deadline: float, record) -> None:
    """One address, 8 tabs, each pressing Start every 2 s: it asks for far more than its share."""
    tabs = [HttpUser(url, 50_000 + i, "198.51.100.66") for i in range(8)]
    while time.perf_counter() < deadline:
        for i, tab in enumerate(tabs):
            try:
                tab.predict(*TRAIN, api_name="/train_start")
                record("hog", i, None)
            except Exception as exc:
                record("hog", i, str(exc)[:200])
        time.sleep(2)


def race(url: str, deadline: float, record) -> None:
    """Every 15 s a new session at one address fires 20 start / reset / pause calls at once.

    One session's concurrent calls must share one event stream, as a browser tab's do (Gradio's
    per-call stream reads the session's whole queue, so two of them steal each other's results):
    ``gradio_client`` does that."""
    from dataclasses import asdict

    from gradio_client import Client

    from gan_demo.training.image_config import ImageConfig
    from gan_demo.ui.train_images import FIELDS

    images = [asdict(ImageConfig())[f] for f in FIELDS]
    calls = [("/train_start", TRAIN), ("/train_reset", TRAIN), ("/train_pause", []),
             ("/train_images_start", images), ("/train_images_pause", [])]
    wave = 0
    while time.perf_counter() < deadline:
        tab = Client(url, verbose=False, headers={"x-forwarded-for": "198.51.100.77"})
        jobs = [(name, tab.submit(*args, api_name=name)) for name, args in (calls * 4)[:20]]
        for name, job in jobs:
            try:
                job.result(timeout=120)
                record("race", (wave, name), None)
            except Exception as exc:
                record("race", (wave, name), str(exc)[:200])
        tab.close()
        wave += 1
        time.sleep(max(0.0, min(15.0, deadline - time.perf_counter())))


def hostile_summary(events: list) -> dict:
    """What the hog and the race got: how many of their runs started, how many were refused."""
    out = {}
    for who in ("hog", "race"):
        mine = [(key, err) for w, key, err in events if w == who]
        refused = [err for key, err in mine if err and any(r in err for r in REFUSED)]
        other = [err for key, err in mine if err and not any(r in err for r in REFUSED)]
        out[who] = {"calls": len(mine), "refused": len(refused), "other_errors": len(other),
                    "first_refusal": refused[0] if refused else None,
                    "first_other_error": other[0] if other else None}
    # The hog never pauses, so each of its tabs that ever started a run still holds a slot.
    out["hog"]["slots_held"] = len({key for w, key, err in events if w == "hog" and err is None})
    # A race session's starts that went through (its pauses may park them later, freeing the slots).
    per_wave: dict = defaultdict(set)
    for w, key, err in events:
        if w == "race" and err is None and "start" in key[1]:
            per_wave[key[0]].add(key[1])
    out["race"]["waves"] = len({key[0] for w, key, _ in events if w == "race"})
    out["race"]["most_runs_one_session_started"] = max((len(v) for v in per_wave.values()), default=0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--client", choices=["http", "gradio_client"], default="http")
    ap.add_argument("--hostile", action="store_true",
                    help="add a hog, a race and a heavy visitor beside the users (issue 26)")
    args = ap.parse_args()
    if args.hostile and args.client != "http":
        ap.error("--hostile speaks plain HTTP (it sets X-Forwarded-For per visitor)")

    port = free_port()
    proc, launch_s = start_app(port, args.users, behind_proxy=args.hostile)
    url = f"http://127.0.0.1:{port}/"
    try:
        warm: dict = defaultdict(list)
        user(url, time.perf_counter() + 5, 10_000, lambda n, s, e: warm[n].append(e),
             args.client)  # load models once
        rss_before = rss_mb(proc.pid)
        cpu_before = cpu_s(proc.pid), time.process_time()
        times: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, list[str]] = defaultdict(list)
        lock = threading.Lock()

        def record(name: str, seconds: float, error: str | None) -> None:
            with lock:
                (errors[name].append(error) if error else times[name].append(seconds))

        events: list = []

        def record_hostile(who: str, key, error: str | None) -> None:
            with lock:
                events.append((who, key, error))

        deadline = time.perf_counter() + args.seconds
        # Normal users each have an address of their own (only read behind a proxy: --hostile).
        threads = [threading.Thread(target=user, args=(url, deadline, args.seed + i, record, args.client,
                                                       f"203.0.113.{i + 1}" if args.hostile else None))
                   for i in range(args.users)]
        if args.hostile:
            heavy_mix = [("translate", 1), ("sketch", 1), ("interpolate", 1)]
            threads += [threading.Thread(target=hog, args=(url, deadline, record_hostile)),
                        threading.Thread(target=race, args=(url, deadline, record_hostile))]
            threads += [threading.Thread(target=user, args=(
                url, deadline, 70_000 + i, lambda n, s, e: record_hostile("heavy", n, e), "http",
                "198.51.100.88", heavy_mix)) for i in range(3)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        rss_after = rss_mb(proc.pid)
        # The users run here, on the same cores: how much of the machine they took is part of the result.
        cpu = {"server": round(cpu_s(proc.pid) - cpu_before[0], 1),
               "load_generator": round(time.process_time() - cpu_before[1], 1), "wall": round(wall, 1)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    done = sum(len(v) for v in times.values())
    extra = {}
    if args.hostile:
        summary = hostile_summary(events)
        summary["heavy"] = {"calls": sum(1 for w, *_ in events if w == "heavy"),
                            "errors": sum(1 for w, _, e in events if w == "heavy" and e)}
        refused = sum(1 for v in errors.values() for e in v if any(r in e for r in REFUSED))
        explore_p95 = percentiles(times["explore"])["p95_ms"] / 1000 if times["explore"] else None
        extra = {"hostile": summary, "normal_users_refused": refused,
                 "met": {"explore_p95_under_1s": explore_p95 is not None and explore_p95 < 1.0,
                         "no_normal_user_refused": refused == 0,
                         "hog_at_most_2": summary["hog"]["slots_held"] <= 2,
                         "race_at_most_2": summary["race"]["most_runs_one_session_started"] <= 2}}
    write("load_hostile" if args.hostile else "load", {
        "users": args.users, "client": args.client, "seconds": args.seconds, "launch_s": launch_s,
        "requests": done + sum(len(v) for v in errors.values()),
        "requests_per_s": round(done / wall, 2),
        "errors": {k: {"count": len(v), "first": v[0]} for k, v in errors.items()},
        "latency": {k: percentiles(v) for k, v in sorted(times.items())},
        "rss_mb": {"before": rss_before, "after": rss_after},
        "cpu_s": cpu,
        "goals": {"p95_sampling_s": 1.0, "errors": 0, "launch_s": 10},
        **extra,
    })


if __name__ == "__main__":
    main()
