"""Hub models (issue 25): CPU latency of each registry architecture, with random weights (no network
needed: the architecture, not the checkpoint, sets the time).

    python benchmarks/hub_latency.py [--repeats 10]

For each model of ``gan_demo.hub_models.REGISTRY``: the bare generator forward on one input, and
the request the app makes (Explore's one-image grid for a sampling model, the Sketch tab's drawing
-> picture for a pix2pix model), p50/p95 over ``--repeats`` calls at the app's torch threads.
Goal: under 2 s per image, or the request runs in the heavy queue slot with a progress indicator.
Writes benchmarks/results/hub_latency.json.
"""

from __future__ import annotations

import argparse

import torch

from common import ROOT, percentiles, time_calls, write

GOAL_MS = 2000


def main() -> None:
    from gan_demo import hub_models, sampling
    from gan_demo.zoo import LoadedModel

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    torch.manual_seed(0)
    drawing = ROOT / "examples" / "sketches" / "sneaker.png"
    report = {"goal_ms": GOAL_MS, "torch_threads": torch.get_num_threads(), "models": {}}
    for name, model in hub_models.REGISTRY.items():
        G = hub_models.ARCHITECTURES[model.architecture]().eval()
        loaded = LoadedModel(name, G, hub_models.card(name))
        if model.kind == "sample":
            z = torch.randn(1, dict(model.config)["latent_dim"])
            with torch.inference_mode():
                bare = percentiles(time_calls(lambda: G(z), args.repeats))
            request = percentiles(time_calls(lambda: sampling.explore_grid(loaded, 1, 0, 1.0), args.repeats))
        else:
            x = hub_models.edge_image(drawing)
            with torch.inference_mode():
                bare = percentiles(time_calls(lambda: G(x), args.repeats))
            request = percentiles(time_calls(lambda: hub_models.draw_shoe(loaded, drawing), args.repeats))
        report["models"][name] = {"architecture": model.architecture, "kind": model.kind,
                                  "params": sum(p.numel() for p in G.parameters()),
                                  "generator_forward": bare, "app_request": request,
                                  "meets": request["p95_ms"] <= GOAL_MS}
        print(f"{name:<28} forward p50 {bare['p50_ms']:.0f} ms, request p50 {request['p50_ms']:.0f} ms")
    write("hub_latency", report)


if __name__ == "__main__":
    main()
