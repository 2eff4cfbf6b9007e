"""Translate quality (issue 21): does horse -> zebra give a zebra a person would call one, with the
photo kept, sharp, in colour and free of a grid; and zebra -> horse the same.

    GAN_DEMO_DATA=../shared/data python benchmarks/translate_quality.py [--model cyclegan-horse2zebra]

On the test photos of ../shared/data/horse2zebra (60 horses, 70 zebras), per direction (medians
over the photos):

* ``read_as_target``: share of outputs our independent horse/zebra classifier reads as the target
  domain (goal >= 0.85).
* ``structure_ssim``: SSIM of input and output, both greyscale and blurred (sigma 2) (goal >= 0.9).
* ``saturation_ratio``: mean HSV saturation of the output / the input's (goal >= 0.85).
* ``midband_ratio``: mid-band detail (blur 0.8 - blur 2.5) of the output / the input's
  (goal >= 0.8 horse -> zebra, >= 0.45 zebra -> horse: real zebras carry ~3x a horse's).
* ``grid_share`` / ``grid_share_real_target``: the largest Nyquist share of spectral power over the
  output resampled to 64..256 px, against the same on real photos of the target domain
  (goal: ratio <= 1.2).
* ``latency_256_ms``: one 256 x 256 photo end to end (decode, translate, back to size) (goal <= 150).

It also draws ``docs/translate_examples.png``: input | output for the six bundled example photos.
Writes benchmarks/results/translate_quality.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from common import ROOT, percentiles, time_calls, write

GOALS = {"read_as_target": 0.85, "structure_ssim": 0.9, "saturation_ratio": 0.85,
         "midband_ratio": {"AtoB": 0.8, "BtoA": 0.45}, "grid_ratio": 1.2, "latency_256_ms": 150}


def sheet(model, path) -> None:
    from PIL import Image, ImageDraw

    from gan_demo import translation

    photos = sorted((ROOT / "examples" / "horse2zebra").glob("*.jpg"))
    cell, pad, head = 256, 6, 22
    canvas = Image.new("RGB", (2 * cell + 3 * pad, len(photos) * (cell + pad) + head + pad), "white")
    draw = ImageDraw.Draw(canvas)
    draw.text((pad, 5), "input", fill="black")
    draw.text((2 * pad + cell, 5), "output (horse -> zebra, zebra -> horse)", fill="black")
    for i, p in enumerate(photos):
        direction = "AtoB" if p.name.startswith("horse") else "BtoA"
        out = translation.translate_only(model, p, direction)
        y = head + i * (cell + pad)
        for j, img in enumerate((translation.to_rgb(p), Image.fromarray(out))):
            img = img.copy()
            img.thumbnail((cell, cell))
            canvas.paste(img, (pad + j * (cell + pad), y))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)


def model_from_state(stem: Path, folder: Path, raw: bool = False) -> str:
    """A CycleGAN training state (``STEM.ckpt.*``) as a zoo entry in ``folder``: its generators'
    weight average when the state has one (``raw``: the generators themselves), else the
    generators. Returns the entry's name, so a run in progress can be measured between sessions
    without finishing it."""
    from dataclasses import asdict, replace

    from gan_demo import zoo
    from gan_demo.models.cyclegan import REFERENCE, SMALL, CycleGANPair
    from gan_demo.training.checkpoint import load_checkpoint, load_checkpoint_meta
    from gan_demo.translation import load_size

    meta = load_checkpoint_meta(stem)
    cfg = meta["config"]
    model_cfg = replace(SMALL if cfg["small"] else REFERENCE, generator=cfg.get("generator", "resnet"),
                        decoder=cfg.get("decoder", "resize"))
    pair = CycleGANPair(model_cfg)
    net = "G_avg" if meta.get("g_average_since") is not None and not raw else "G"  # as the trainer saved it
    load_checkpoint(stem, {net: pair}, {})
    name = f"{stem.name}-step{meta['step']}{'-raw' if net == 'G' else ''}"
    card = {"family": "cyclegan", "config": asdict(model_cfg), "dataset": cfg["dataset"],
            "domains": {"A": "horse", "B": "zebra"}, "work_size": load_size(cfg["size"]),
            "description": f"the training state of {stem.name} at step {meta['step']} "
                           f"({'G weight average' if net == 'G_avg' else 'G'})"}
    zoo.save(pair.eval(), card, folder / name)
    return name


def main() -> None:
    from gan_demo import metrics, translation, zoo
    from gan_demo.data import photo_files, unpaired_folder
    from gan_demo.metrics.photo_classifier import load_photo_classifier, predict_b

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="cyclegan-horse2zebra")
    ap.add_argument("--weights-dir", default=None, help="a folder of candidate models (default: weights/)")
    ap.add_argument("--checkpoint", default=None, metavar="STEM",
                    help="measure a training state instead, e.g. runs/att/training/cyclegan-horse2zebra "
                         "(its G weight average when it has one)")
    ap.add_argument("--raw", action="store_true", help="with --checkpoint: the generators, not their average")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--work", type=int, default=None, help="working size (default: the model's own)")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--sheet", default=str(ROOT / "docs" / "translate_examples.png"))
    ap.add_argument("--name", default="translate_quality", help="results/NAME.json")
    args = ap.parse_args()

    if args.checkpoint:
        import tempfile

        args.weights_dir = tempfile.mkdtemp(prefix="translate_quality_")
        args.model = model_from_state(Path(args.checkpoint), Path(args.weights_dir), raw=args.raw)
    model = zoo.load(args.model, "cpu", **({"weights_dir": Path(args.weights_dir)} if args.weights_dir else {}))
    folder = unpaired_folder("horse2zebra", args.data_root)
    clf, clf_card = load_photo_classifier("horse2zebra")
    result: dict = {"model": args.model, "work_size": args.work or translation.model_work_size(model),
                    "classifier_test_accuracy": clf_card["test_accuracy"], "goals": GOALS}
    for direction, split, target in (("AtoB", "testA", "testB"), ("BtoA", "testB", "testA")):
        ins, outs = [], []
        for p in photo_files(folder / split):
            t = translation.translate_only(model, p, direction, args.work)
            ins.append(np.asarray(translation.to_rgb(p)))
            outs.append(t)
        real_target = [np.asarray(translation.to_rgb(p)) for p in photo_files(folder / target)]
        p_b = predict_b(clf, np.stack(outs))
        hit = p_b >= 0.5 if direction == "AtoB" else p_b < 0.5
        ssim = [float(metrics.structure_kept(a[None], b[None])[0]) for a, b in zip(ins, outs)]
        sat = metrics.saturation(np.stack(outs)) / np.maximum(metrics.saturation(np.stack(ins)), 1e-9)
        mid = metrics.midband_detail(np.stack(outs)) / np.maximum(metrics.midband_detail(np.stack(ins)), 1e-9)
        grid = float(np.median([metrics.grid_share(o) for o in outs]))
        grid_real = float(np.median([metrics.grid_share(o) for o in real_target]))
        r = {
            "photos": len(outs),
            "read_as_target": round(float(hit.mean()), 4),
            "structure_ssim": round(float(np.median(ssim)), 4),
            "saturation_ratio": round(float(np.median(sat)), 4),
            "midband_ratio": round(float(np.median(mid)), 4),
            "grid_share": round(grid, 5),
            "grid_share_real_target": round(grid_real, 5),
            "grid_ratio": round(grid / max(grid_real, 1e-12), 3),
        }
        goal_mid = GOALS["midband_ratio"][direction]
        r["meets"] = {
            "read_as_target": r["read_as_target"] >= GOALS["read_as_target"],
            "structure_ssim": r["structure_ssim"] >= GOALS["structure_ssim"],
            "saturation_ratio": r["saturation_ratio"] >= GOALS["saturation_ratio"],
            "midband_ratio": r["midband_ratio"] >= goal_mid,
            "grid_ratio": r["grid_ratio"] <= GOALS["grid_ratio"],
        }
        result[direction] = r
        print(direction, r)

    from PIL import Image

    horse = sorted((ROOT / "examples" / "horse2zebra").glob("horse_*.jpg"))[0]
    square = Image.open(horse).convert("RGB").resize((256, 256))
    latency = percentiles(time_calls(lambda: translation.translate_only(model, square, "AtoB"), args.repeats))
    result["latency_256"] = latency
    result["latency_meets"] = latency["p50_ms"] <= GOALS["latency_256_ms"]
    if args.sheet:
        sheet(model, ROOT / args.sheet)  # an absolute path stays itself
        result["sheet"] = str(args.sheet)
    write(args.name, result)


if __name__ == "__main__":
    main()
