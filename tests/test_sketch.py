"""Sketch to garment: line drawings, the pix2pix networks, the trainer, the CLI and the shipped model."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from gan_demo import sketch, zoo
from gan_demo.data import load_images
from gan_demo.errors import UserError
from gan_demo.metrics import ssim
from gan_demo.models.pix2pix import PatchDiscriminator, Pix2PixGenerator
from gan_demo.training.pix2pix import Pix2PixTrainConfig, train_pix2pix

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "sketches"
MODEL = "pix2pix-fashion-sketch"


def _drawing(size=280, ink="black", paper="white", mode="RGB", width=12):
    img = Image.new(mode, (size, size), paper)
    pen = ImageDraw.Draw(img)
    s = size / 280
    pen.line([(60 * s, 40 * s), (220 * s, 40 * s), (230 * s, 250 * s), (50 * s, 250 * s), (60 * s, 40 * s)],
             fill=ink, width=max(1, int(width * s)))
    return img


def test_thinning_leaves_one_pixel_lines_that_stay_connected():
    bar = torch.zeros(1, 12, 20, dtype=torch.bool)
    bar[0, 4:8, 2:18] = True  # a 4-pixel-wide stroke
    line = sketch.thin(bar)[0]
    assert line.sum() >= 10  # the stroke survives as a line
    assert (line.sum(0) <= 1).all()  # one pixel across everywhere
    assert sketch.stroke_stats(line)["crowded_share"] == 0


def test_edge_map_of_a_filled_square_is_its_outline():
    img = np.zeros((1, 28, 28), np.uint8)
    img[0, 6:22, 6:22] = 200
    lines = sketch.edge_maps(img)[0]
    assert not lines[10:18, 10:18].any()  # nothing inside
    assert lines[5:7, 6:22].any(1).all() or lines[6:8, 6:22].any()  # the top edge is drawn
    assert lines.sum() >= 4 * 12


def test_edge_maps_of_real_garments_are_line_drawings():
    test = load_images("fashion", train=False)
    stats = sketch.stroke_stats(sketch.edge_maps(test.images[:500]))
    assert 0.05 < stats["ink_share"] < 0.25 and stats["extent_px"] > 25


def test_a_drawing_reads_the_same_whatever_its_colours_or_size(tmp_path):
    base = sketch.strokes(_drawing())
    inverted = sketch.strokes(np.asarray(_drawing(ink="white", paper="black")))
    coloured = sketch.strokes(_drawing(ink=(200, 30, 30), paper=(250, 250, 210)))
    big = _drawing(size=4000, width=12)
    big.save(tmp_path / "big.png")
    clear = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(clear).line([(60, 40), (220, 40), (230, 250), (50, 250), (60, 40)], fill=(0, 0, 0, 255), width=12)
    clear.save(tmp_path / "transparent.png")
    for other in (inverted, coloured, sketch.strokes(str(tmp_path / "big.png")),
                  sketch.strokes(str(tmp_path / "transparent.png"))):
        assert (other != base).mean() < 0.03
    assert base.shape == (28, 28) and base.dtype == bool
    # a drawing spans the frame like the garments do, wherever it was drawn
    ys, xs = np.nonzero(base)
    assert ys.max() - ys.min() >= 25


@pytest.mark.parametrize("canvas, message", [
    (Image.new("RGB", (280, 280), "white"), "canvas is empty"),
    (Image.new("RGB", (280, 280), "black"), "canvas is empty"),
    (Image.new("RGBA", (280, 280), (0, 0, 0, 0)), "canvas is empty"),
])
def test_blank_canvases_get_a_clear_message(canvas, message):
    with pytest.raises(UserError, match=message):
        sketch.strokes(canvas)


def test_a_filled_shape_is_refused_with_advice():
    img = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(img).rectangle((10, 10, 270, 270), fill="black")
    with pytest.raises(UserError, match="almost all ink"):
        sketch.strokes(img)


def test_a_file_that_is_not_an_image_is_refused(tmp_path):
    (tmp_path / "x.png").write_bytes(b"not a png at all")
    with pytest.raises(UserError, match="not an image"):
        sketch.strokes(str(tmp_path / "x.png"))


def test_unet_keeps_the_size_and_its_skips_carry_the_lines():
    torch.manual_seed(0)
    G, D = Pix2PixGenerator().eval(), PatchDiscriminator().eval()
    x = -torch.ones(2, 1, 28, 28)
    x[1, 0, 5, 5:20] = 1.0
    y = G(x, None, noise=torch.Generator().manual_seed(0))
    assert y.shape == (2, 1, 28, 28) and y.abs().max() <= 1
    assert not torch.allclose(y[0], y[1])
    assert D(x, y).shape == (2, 1, 6, 6)


def test_dropout_noise_follows_its_seed():
    torch.manual_seed(0)
    G = Pix2PixGenerator().eval()
    x = torch.randn(1, 1, 28, 28).sign()
    a = G(x, None, noise=torch.Generator().manual_seed(3))
    b = G(x, None, noise=torch.Generator().manual_seed(3))
    c = G(x, None, noise=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_ssim_is_one_for_equal_images_and_falls_with_damage():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (3, 28, 28)).astype(np.uint8)
    noisy = np.clip(a + rng.normal(0, 40, a.shape), 0, 255)
    assert np.allclose(ssim(a, a), 1.0)
    assert (ssim(a, noisy) < 0.9).all() and (ssim(a, 255 - a) < 0).all()


def test_the_trainer_writes_a_model_the_zoo_loads_and_resumes(tmp_path):
    cfg = Pix2PixTrainConfig(epochs=1, batch_size=16, max_steps=3, limit=64, checkpoint_every=2)
    card = train_pix2pix(cfg, tmp_path / "p2p", progress=False)
    assert card["family"] == "pix2pix" and card["training"]["steps"] == 3
    model = zoo.load("p2p", weights_dir=tmp_path)
    assert zoo.list_models(tmp_path, kind="sketch")[0]["name"] == "p2p"
    assert zoo.list_models(tmp_path) == []  # not a noise-sampling model for Explore
    assert sketch.draw(model, _drawing()).garments.shape == (1, 28, 28)
    state = tmp_path / "training" / "p2p.ckpt.safetensors"
    assert state.is_file()  # 3 of the schedule's 4 steps
    cfg.max_steps = 4
    assert train_pix2pix(cfg, tmp_path / "p2p", resume=True, progress=False)["training"]["steps"] == 4
    assert not state.exists()  # the schedule is done


def test_sketch_cli_writes_the_garment_and_refuses_bad_files(tmp_path):
    out = tmp_path / "boot.png"
    run = subprocess.run([sys.executable, "-m", "gan_demo", "sketch", str(EXAMPLES / "ankle-boot.png"),
                          "--out", str(out), "--scale", "4", "--hint", "Ankle boot"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert Image.open(out).size == (112, 112)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    run = subprocess.run([sys.executable, "-m", "gan_demo", "sketch", str(tmp_path / "bad.png"), "--out",
                          str(tmp_path / "x.png")], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode != 0 and "Traceback" not in run.stderr and "image" in run.stderr


def test_shipped_model_draws_deterministically_and_takes_hints():
    model = zoo.load(MODEL)
    a = sketch.draw(model, EXAMPLES / "bag.png", seed=1, variations=2)
    b = sketch.draw(model, EXAMPLES / "bag.png", seed=1, variations=2)
    hinted = sketch.draw(model, EXAMPLES / "bag.png", hint="Trouser", seed=1)
    assert np.array_equal(a.garments, b.garments) and not np.array_equal(a.garments[0], a.garments[1])
    assert not np.array_equal(a.garments[0], hinted.garments[0])
    with pytest.raises(UserError, match="Unknown class hint"):
        sketch.draw(model, EXAMPLES / "bag.png", hint="Hat")
    with pytest.raises(UserError, match="Variations"):
        sketch.draw(model, EXAMPLES / "bag.png", variations=100)


def test_shipped_model_draws_garments_the_classifier_recognises():
    """The issue's goal on a fixed slice of the test set: >= 80 % read as the true class."""
    from gan_demo.metrics.evaluation import evaluate_sketch

    report = evaluate_sketch(zoo.load(MODEL), n=1000)
    assert report["no_hint"]["class_accuracy"] >= 0.8
    assert report["with_hint"]["class_accuracy"] >= report["no_hint"]["class_accuracy"] - 0.02
    assert report["no_hint"]["ssim"] > 0.5
    card = json.loads((ROOT / "weights" / f"{MODEL}.json").read_text())
    assert card["metrics"]["no_hint"]["class_accuracy"] >= 0.8  # the card states the full-test figure


# ---- ways of drawing: the training mix and the held-out ways ------------------------------------

def test_the_training_mix_draws_each_garment_differently_and_follows_its_seed():
    from gan_demo import sketch_styles

    images = load_images("fashion", train=False).images[:200]
    a = sketch_styles.training_drawings(images, torch.Generator().manual_seed(1))
    b = sketch_styles.training_drawings(images, torch.Generator().manual_seed(1))
    c = sketch_styles.training_drawings(images, torch.Generator().manual_seed(2))
    assert a.shape == (200, 28, 28) and a.dtype == torch.bool and torch.equal(a, b)
    assert (a != c).any(dim=(1, 2)).float().mean() > 0.5  # another epoch, other drawings
    assert torch.equal(sketch.thin(a), a)  # one-pixel lines, like a thinned drawing
    edges = sketch.edge_maps(images)
    ink_a, ink_e = a.float().mean((1, 2)), edges.float().mean((1, 2))
    # outline-only and gapped drawings carry less ink than the edge maps, some as much or more
    assert (ink_a < 0.7 * ink_e).float().mean() > 0.15 and (ink_a >= ink_e).float().mean() > 0.1
    assert (ink_a > 0).all()


@pytest.mark.parametrize("way", ["canny", "thick marker", "dashed lines", "shaky hand", "outline only"])
def test_held_out_ways_of_drawing_are_read_like_a_persons_drawing(way):
    from gan_demo import sketch_styles

    images = load_images("fashion", train=False).images[:16]
    ink = sketch_styles.HELD_OUT[way](images)
    assert ink.shape == (16, 112, 112) and 0.01 < float((ink > 0.25).float().mean()) < sketch.MAX_INK
    lines = sketch_styles.as_drawn(ink)
    # the same as a person's drawing through the app: strokes() on the 112-px picture
    by_hand = np.stack([sketch.strokes((255 - ink[i].clamp(0, 1).numpy() * 255).astype(np.uint8))
                        for i in range(4)])
    assert np.array_equal(lines[:4].numpy(), by_hand)
    stats = sketch.stroke_stats(lines)
    assert 24 <= stats["extent_px"] <= 28 and 0.03 < stats["ink_share"] < 0.3


def test_canny_keeps_one_thin_line_per_edge():
    from gan_demo import sketch_styles

    square = np.zeros((1, 28, 28), np.uint8)
    square[0, 7:21, 7:21] = 255
    edges = sketch_styles.canny(square)[0] > 0
    assert edges[56, 20:36].sum() <= 2  # across the left edge of the square: one line, not a band
    assert edges[40:72, 40:72].sum() == 0  # nothing inside the flat square


def test_the_trainer_on_the_mix_of_drawings_keeps_a_weight_average_and_stops_on_time(tmp_path):
    cfg = Pix2PixTrainConfig(epochs=2, batch_size=16, limit=64, drawings="mix", g_average=0.9, decay_from=1)
    card = train_pix2pix(cfg, tmp_path / "mix", progress=False)
    assert card["training"]["drawings"] == "mix" and card["training"]["steps"] == 8
    assert "drawn a different way each epoch" in card["description"]
    assert card["training"]["pieces"][0]["to_step"] == 8
    cfg = Pix2PixTrainConfig(epochs=3, batch_size=16, limit=64, max_minutes=1e-6)
    assert train_pix2pix(cfg, tmp_path / "short", progress=False)["training"]["steps"] == 1
    assert (tmp_path / "training" / "short.ckpt.safetensors").is_file()
    with pytest.raises(UserError, match="--drawings"):
        train_pix2pix(Pix2PixTrainConfig(drawings="scribbles", max_steps=1, limit=16), tmp_path / "x", progress=False)
