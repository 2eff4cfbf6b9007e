"""Explore latency: one request end to end (1 and 64 images) and the bare generator forward.

    python benchmarks/latency.py [--model dcgan-fashion] [--repeats 100]

"End to end" is measured two ways, both including the download of the image:
* through gradio_client, as the issue asks. Its result loop polls for messages every 50 ms
  (gradio_client/utils.py, ``time.sleep(0.05)``), so every call costs 50-100 ms on the client side
  alone; a bare echo endpoint measures that floor (``echo_floor``);
* over plain HTTP with the API's two calls (POST /gradio_api/call/explore, then read the event
  stream, then GET the image), the path a browser or any other client takes.

Writes benchmarks/results/latency.json. Goal on a 2-core CPU: p95 < 100 ms for one image end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.request

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import torch  # noqa: E402

from common import free_port, percentiles, time_calls, write  # noqa: E402


def http_explore(base: str, payload: list) -> bytes:
    """One Explore request over plain HTTP: queue the call, read its result, fetch the image."""
    req = urllib.request.Request(base + "gradio_api/call/explore", data=json.dumps({"data": payload}).encode(),
                                 headers={"Content-Type": "application/json"})
    event = json.loads(urllib.request.urlopen(req).read())["event_id"]
    with urllib.request.urlopen(f"{base}gradio_api/call/explore/{event}") as stream:
        body = stream.read().decode()
    data = json.loads(body.split("event: complete\ndata: ", 1)[1].split("\n", 1)[0])
    return urllib.request.urlopen(data[0]["url"]).read()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="dcgan-fashion")
    ap.add_argument("--repeats", type=int, default=100)
    args = ap.parse_args()

    from gradio_client import Client

    from gan_demo import zoo
    from gan_demo.ui import build_app, launch_kwargs

    model = zoo.load(args.model)
    result = {"model": args.model, "repeats": args.repeats, "generator_forward": {}, "end_to_end": {},
              "end_to_end_http": {}}
    for n in (1, 64):
        z = torch.randn(n, model.latent_dim)
        with torch.inference_mode():
            result["generator_forward"][f"{n}_images"] = percentiles(
                time_calls(lambda: model.generator(z), args.repeats))

    demo = build_app()
    port = free_port()
    demo.launch(**{**launch_kwargs(), "server_name": "127.0.0.1", "server_port": port,
                   "prevent_thread_lock": True, "quiet": True})
    try:
        base = f"http://127.0.0.1:{port}/"
        client = Client(base, verbose=False)
        zeros = [0.0] * 16
        for n in (1, 64):
            seeds = iter(range(10**6))
            result["end_to_end"][f"{n}_images"] = percentiles(time_calls(
                lambda: client.predict(args.model, next(seeds), 1.0, n, *zeros, api_name="/explore"),
                args.repeats))
            result["end_to_end_http"][f"{n}_images"] = percentiles(time_calls(
                lambda: http_explore(base, [args.model, next(seeds), 1.0, n, *zeros]), args.repeats))
        result["echo_floor"] = percentiles(time_calls(
            lambda: client.predict(args.model, api_name="/describe_model"), args.repeats))
    finally:
        demo.close()
    result["goal"] = {"one_image_p95_ms_below": 100,
                      "met_gradio_client": result["end_to_end"]["1_images"]["p95_ms"] < 100,
                      "met_http": result["end_to_end_http"]["1_images"]["p95_ms"] < 100}
    write("latency", result)


if __name__ == "__main__":
    main()
