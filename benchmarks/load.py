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


def start_app(port: int, users: int) -> tuple[subprocess.Popen, float]:
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False",
           "GAN_DEMO_MAX_TRAINERS": str(users + 4)}
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

    def __init__(self, url: str, seed: int):
        import httpx

        self.url, self.http = url, httpx.Client(base_url=url, timeout=120)
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


def user(url: str, deadline: float, seed: int, record, client_kind: str = "http") -> None:
    photo_path = sorted((ROOT / "examples" / "horse2zebra").glob("horse_*.jpg"))[seed % 3]
    sketch_path = sorted((ROOT / "examples" / "sketches").glob("*.png"))[seed % 8]
    if client_kind == "http":
        client = HttpUser(url, seed)
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
    names, weights = zip(*MIX)
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--client", choices=["http", "gradio_client"], default="http")
    args = ap.parse_args()

    port = free_port()
    proc, launch_s = start_app(port, args.users)
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

        deadline = time.perf_counter() + args.seconds
        threads = [threading.Thread(target=user, args=(url, deadline, args.seed + i, record, args.client))
                   for i in range(args.users)]
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
    write("load", {
        "users": args.users, "client": args.client, "seconds": args.seconds, "launch_s": launch_s,
        "requests": done + sum(len(v) for v in errors.values()),
        "requests_per_s": round(done / wall, 2),
        "errors": {k: {"count": len(v), "first": v[0]} for k, v in errors.items()},
        "latency": {k: percentiles(v) for k, v in sorted(times.items())},
        "rss_mb": {"before": rss_before, "after": rss_after},
        "cpu_s": cpu,
        "goals": {"p95_sampling_s": 1.0, "errors": 0, "launch_s": 10},
    })


if __name__ == "__main__":
    main()
