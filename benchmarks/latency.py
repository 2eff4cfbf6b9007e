"""Explore latency: one request through gradio_client (1 and 64 images) and the bare generator.

    python benchmarks/latency.py [--model dcgan-fashion] [--repeats 100]

Writes benchmarks/results/latency.json. Goal on a 2-core CPU: p95 < 100 ms for one image end to end.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import torch  # noqa: E402

from common import free_port, percentiles, time_calls, write  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="dcgan-fashion")
    ap.add_argument("--repeats", type=int, default=100)
    args = ap.parse_args()

    from gradio_client import Client

    from gan_demo import sampling, zoo
    from gan_demo.ui import build_app

    model = zoo.load(args.model)
    result = {"model": args.model, "repeats": args.repeats, "generator_forward": {}, "end_to_end": {}}
    for n in (1, 64):
        z = torch.randn(n, model.latent_dim)
        with torch.inference_mode():
            result["generator_forward"][f"{n}_images"] = percentiles(
                time_calls(lambda: model.generator(z), args.repeats))

    demo = build_app()
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        zeros = [0.0] * 16
        for n in (1, 64):
            seeds = iter(range(10**6))
            result["end_to_end"][f"{n}_images"] = percentiles(time_calls(
                lambda: client.predict(args.model, next(seeds), 1.0, n, *zeros, api_name="/explore"),
                args.repeats))
    finally:
        demo.close()
    p95 = result["end_to_end"]["1_images"]["p95_ms"]
    result["goal"] = {"one_image_p95_ms_below": 100, "met": p95 < 100}
    write("latency", result)


if __name__ == "__main__":
    main()
