"""Sketch styles (issue 22): are garments read right however they are drawn?

    GAN_DEMO_DATA=../shared/data python benchmarks/sketch_styles.py [--model pix2pix-fashion-sketch] [--n 2000]

For the first N Fashion-MNIST test images, each way of drawing in ``gan_demo.sketch_styles.HELD_OUT``
(Canny lines, a thick marker, dashed lines, a shaky hand, the outline only; none of them in the
training mix) is drawn at 112 x 112 and read as a person's drawing is (framed and thinned). The
model draws a garment from it without a class hint, and our independent classifier says whether
that garment is the class of the test image (goal: >= 0.85 for at least four ways). The same for
the training-style edge maps and the eight hand-drawn examples in examples/sketches.

Writes benchmarks/results/sketch_styles.json and, with --sheet, a picture of every way of
drawing and what the model made of it for eight test garments.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from common import ROOT, write

GOAL = 0.85


def main() -> None:
    from gan_demo import sketch, sketch_styles, zoo
    from gan_demo.data import load_images
    from gan_demo.metrics.classifier import load_classifier, predict
    from gan_demo.metrics.evaluation import evaluate_sketch, _sketch_outputs

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="pix2pix-fashion-sketch")
    ap.add_argument("--weights-dir", default=None)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--sheet", default=None, help="a PNG of each way of drawing and the garments made from it")
    ap.add_argument("--name", default="sketch_styles")
    args = ap.parse_args()
    torch.manual_seed(0)
    model = zoo.load(args.model, "cpu", **({"weights_dir": Path(args.weights_dir)} if args.weights_dir else {}))
    test = load_images("fashion", train=False)
    real, labels = test.images[:args.n], test.labels[:args.n]
    clf, clf_card = load_classifier("fashion")

    def accuracy(lines: torch.Tensor) -> tuple[float, np.ndarray, np.ndarray]:
        fake = _sketch_outputs(model, lines, None, seed=0)
        preds, _ = predict(clf, torch.from_numpy(fake).float().div(127.5).sub(1).unsqueeze(1))
        return float((preds == labels).mean()), fake, preds

    styles: dict[str, dict] = {}
    drawings: dict[str, tuple[torch.Tensor, np.ndarray]] = {}
    for name, way in {"edge map (trained on)": None, **sketch_styles.HELD_OUT}.items():
        lines = sketch.edge_maps(real) if way is None else sketch_styles.as_drawn(way(real))
        acc, fake, preds = accuracy(lines)
        per_class = {c: round(float((preds[labels == k] == k).mean()), 4) for k, c in enumerate(test.classes)}
        styles[name] = {"read_right": round(acc, 4), "meets": acc >= GOAL, "held_out": way is not None,
                        "per_class": per_class, "strokes": sketch.stroke_stats(lines)}
        drawings[name] = (lines, fake)
        print(f"{name:<24} {acc:.3f}")
    hand = evaluate_sketch(model, n=1)["hand_drawn_examples"]
    held = [s for s in styles.values() if s["held_out"]]
    report = {
        "model": args.model, "test_images": len(real), "classifier_test_accuracy": clf_card["test_accuracy"],
        "goal": {"read_right": GOAL, "held_out_ways_meeting_it": 4},
        "styles": styles,
        "held_out_ways_meeting_goal": sum(s["meets"] for s in held),
        "hand_drawn_examples": {k: hand[k] for k in ("sketches", "read_as_drawn_class", "read_as")},
    }
    report["meets"] = report["held_out_ways_meeting_goal"] >= 4 and hand["read_as_drawn_class"] >= GOAL
    if args.sheet:
        report["sheet"] = _sheet(drawings, real, Path(args.sheet))
    write(args.name, report)


def _sheet(drawings: dict, real: np.ndarray, path: Path, k: int = 8) -> str:
    from PIL import Image, ImageDraw

    from gan_demo import sketch

    cell, label_w = 56, 150
    rows = [("garment", None)] + list(drawings.items())
    canvas = Image.new("L", (label_w + 2 * k * cell, len(rows) * cell), 255)
    draw = ImageDraw.Draw(canvas)
    for r, (name, item) in enumerate(rows):
        draw.text((4, r * cell + cell // 2 - 6), name, fill=0)
        for i in range(k):
            x = label_w + 2 * i * cell
            if item is None:
                canvas.paste(Image.fromarray(255 - real[i]).resize((cell, cell), Image.NEAREST), (x + cell // 2, r * cell))
                continue
            lines, fake = item
            canvas.paste(Image.fromarray(sketch.render(lines[i].numpy())).resize((cell, cell), Image.NEAREST), (x, r * cell))
            canvas.paste(Image.fromarray(255 - fake[i]).resize((cell, cell), Image.NEAREST), (x + cell, r * cell))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


if __name__ == "__main__":
    main()
