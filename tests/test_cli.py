import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT

MODEL = "dcgan-fashion"


def run_cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "gan_demo", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


def test_models_lists_name_family_dataset_size_and_latent():
    out = run_cli("models").stdout
    header, *rows = out.strip().splitlines()
    assert header.split() == ["name", "family", "dataset", "image", "latent"]
    row = next(r for r in rows if r.startswith(MODEL)).split()
    assert row == [MODEL, "dcgan", "fashion", "28x28x1", "64"]


def test_sample_writes_npz_with_images_and_z_and_is_seed_deterministic(tmp_path):
    a, b, c = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz"
    run_cli("sample", MODEL, "--n", 5, "--seed", 11, "--out", a)
    run_cli("sample", MODEL, "--n", 5, "--seed", 11, "--out", b)
    run_cli("sample", MODEL, "--n", 5, "--seed", 12, "--truncation", 0.5, "--out", c)
    fa, fb, fc = np.load(a), np.load(b), np.load(c)
    assert fa["images"].shape == (5, 28, 28, 1) and fa["images"].dtype == np.uint8
    assert fa["z"].shape == (5, 64)
    assert np.array_equal(fa["images"], fb["images"]) and np.array_equal(fa["z"], fb["z"])
    assert not np.array_equal(fa["images"], fc["images"])


def test_truncation_zero_gives_the_same_average_image_for_every_seed(tmp_path):
    run_cli("sample", MODEL, "--n", 3, "--seed", 1, "--truncation", 0, "--out", tmp_path / "t.npz")
    images = np.load(tmp_path / "t.npz")["images"]
    assert np.array_equal(images[0], images[1]) and np.array_equal(images[1], images[2])


def test_sample_png_writes_a_grid(tmp_path):
    run_cli("sample", MODEL, "--n", 16, "--out", tmp_path / "g.png")
    img = Image.open(tmp_path / "g.png")
    assert img.size == (4 * 30 + 2, 4 * 30 + 2)


@pytest.mark.parametrize("args, message", [
    (["sample", "no-such-model", "--n", 2, "--out", "x.npz"], "Unknown model"),
    (["sample", MODEL, "--n", 0, "--out", "x.npz"], "--n must be between"),
    (["sample", MODEL, "--n", 100000, "--out", "x.npz"], "--n must be between"),
    (["sample", MODEL, "--seed", -3, "--out", "x.npz"], "Seed must be between"),
    (["sample", MODEL, "--truncation", "nan", "--out", "x.npz"], "finite"),
    (["sample", MODEL, "--out", "x.jpg"], "must end in .npz or .png"),
    (["sample", "owner/repo", "--out", "x.npz"], "Could not fetch 'owner/repo'"),
    (["train", "dcgan", "--epochs", 0, "--out", "x"], "--epochs must be between 1 and 100000, got 0"),
    (["train", "dcgan", "--lr", "inf", "--out", "x"], "--lr must be a finite number"),
    (["train", "dcgan", "--beta2", "1", "--out", "x"], "--beta2 must be between 0 and 0.9999"),
    (["train", "pix2pix", "--width", "0", "--out", "x"], "--width must be between 1 and 1024"),
    (["train", "cyclegan", "--g-average", "1", "--out", "x"], "--g-average must be between 0 and 0.9999"),
    (["train", "cyclegan", "--decoder", "subpixel", "--out", "x"], "--decoder needs --generator residual"),
])
def test_bad_input_exits_2_with_one_sentence(tmp_path, args, message):
    args = [str(tmp_path / a) if str(a).startswith("x.") or a == "x" else a for a in args]
    proc = run_cli(*args, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_train_writes_weights_and_card_that_sample_can_use(tmp_path, data_root):
    out = tmp_path / "tiny"
    proc = run_cli("train", "dcgan", "--dataset", "mnist", "--max-steps", 4, "--batch-size", 16,
                   "--width", 8, "--latent-dim", 8, "--data-root", data_root, "--quiet", "--out", out)
    assert "4 steps" in proc.stdout
    card = json.loads((tmp_path / "tiny.json").read_text())
    assert card["family"] == "dcgan" and card["training"]["steps"] == 4
    assert {"epochs_done", "wall_time_s", "device", "data_source"} <= card["training"].keys()
    assert (tmp_path / "tiny.safetensors").is_file() and (tmp_path / "training" / "tiny.ckpt.safetensors").is_file()
    proc = run_cli("train", "dcgan", "--dataset", "mnist", "--max-steps", 6, "--batch-size", 16,
                   "--width", 8, "--latent-dim", 8, "--data-root", data_root, "--quiet", "--resume",
                   "--out", out)
    assert "6 steps" in proc.stdout


def test_train_toy_writes_samples_and_history_columns(tmp_path):
    out = tmp_path / "ring.npz"
    proc = run_cli("train-toy", "--dataset", "ring8", "--loss", "ns", "--steps", 300, "--seed", 1,
                   "--quiet", "--out", out)
    assert "modes" in proc.stdout and "high quality" in proc.stdout
    f = np.load(out)
    assert f["samples"].shape == (2500, 2) and f["samples"].dtype == np.float32
    for col in ("step", "d_loss", "g_loss", "d_real", "d_fake", "modes", "hq_pct"):
        assert len(f[col]) == 300, col
    assert list(f["history_columns"][:7]) == ["step", "d_loss", "g_loss", "d_real", "d_fake", "wasserstein", "modes"] \
        or "modes" in list(f["history_columns"])
    assert f["history"].shape[0] == 300


def test_train_toy_1d_and_every_flag(tmp_path):
    out = tmp_path / "g.npz"
    run_cli("train-toy", "--dataset", "gauss1d", "--loss", "wgan-gp", "--minibatch-disc", "--train-weaker",
            "--d-steps", 2, "--steps", 40, "--quiet", "--out", out)
    assert np.load(out)["samples"].shape == (2500, 1)


@pytest.mark.parametrize("args, message", [
    (["--dataset", "ring8", "--steps", 0], "--steps must be between"),
    (["--dataset", "ring8", "--lr", "nan"], "finite"),
    (["--dataset", "ring8", "--d-steps", 1000], "(d_steps) must be between"),
    (["--dataset", "ring8", "--batch-size", 0], "(batch_size) must be between"),
])
def test_train_toy_bad_input_exits_2(tmp_path, args, message):
    proc = run_cli("train-toy", *args, "--quiet", "--out", tmp_path / "x.npz", check=False)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_train_toy_says_its_recipe_and_takes_the_weight_average(tmp_path):
    proc = run_cli("train-toy", "--dataset", "grid25", "--steps", 30, "--quiet", "--out", tmp_path / "g.npz")
    assert "batch 256" in proc.stdout and "minibatch std" in proc.stdout and "G weight average 0.999" in proc.stdout
    assert "gaussian noise," in proc.stdout and "one-hot" not in proc.stdout
    proc = run_cli("train-toy", "--dataset", "grid25", "--steps", 30, "--g-average", 0, "--batch-size", 64,
                   "--quiet", "--out", tmp_path / "g.npz")
    assert "batch 64" in proc.stdout and "weight average" not in proc.stdout
    proc = run_cli("train-toy", "--dataset", "ring8", "--g-average", 1, "--quiet", "--out", tmp_path / "g.npz",
                   check=False)
    assert proc.returncode == 2 and "(g_average) must be between" in proc.stderr


def test_train_toy_noise_size_and_distribution(tmp_path):
    proc = run_cli("train-toy", "--dataset", "ring8", "--steps", 30, "--quiet", "--out", tmp_path / "g.npz")
    assert "2-d gaussian noise" in proc.stdout
    proc = run_cli("train-toy", "--dataset", "ring8", "--steps", 30, "--noise-dim", 8, "--noise-dist", "uniform",
                   "--quiet", "--out", tmp_path / "g.npz")
    assert "8-d uniform noise" in proc.stdout and np.load(tmp_path / "g.npz")["samples"].shape == (2500, 2)
    assert "one-hot" not in proc.stdout
    proc = run_cli("train-toy", "--dataset", "grid25", "--steps", 30, "--noise-codes", 25, "--quiet",
                   "--out", tmp_path / "g.npz")
    assert "2-d gaussian noise + a one-hot code of 25" in proc.stdout
    proc = run_cli("train-toy", "--dataset", "ring8", "--noise-dim", 0, "--quiet", "--out", tmp_path / "g.npz",
                   check=False)
    assert proc.returncode == 2 and "(noise_dim) must be between" in proc.stderr and "Traceback" not in proc.stderr


def test_train_flags_come_from_each_trainers_config_and_left_out_ones_keep_their_recipes():
    from gan_demo.__main__ import build_parser, train_config
    from gan_demo.training.image_config import resolved

    def cfg(*args):
        return train_config(build_parser().parse_args(["train", *args, "--out", "x"]))

    c = cfg("cgan")  # the family's own: hinge and mode seeking; the zoo's batch, width and rate
    assert (c.loss, c.mode_seeking, c.batch_size, c.width, c.lr_d, c.lr_g, c.eval_every, c.epochs) == (
        "hinge", 1.0, 64, 32, 2e-4, 2e-4, 0, 5)
    c = cfg("dcgan", "--loss", "wgan-gp", "--lr", "1e-4", "--lr-g", "3e-4", "--frechet-every", "500")
    assert (resolved(c).d_norm, c.lr_d, c.lr_g, c.eval_every) == ("layer", 1e-4, 3e-4, 500)
    c = cfg("stylegan", "--lr", "0.001")
    assert (c.beta1, c.beta2, c.r1, c.lr_g, c.loss) == (0.0, 0.99, 0.1, 1e-3, "ns")
    c = cfg("cyclegan", "--generator", "residual", "--decoder", "subpixel", "--small", "--size", "128",
            "--batch-size", "4", "--epochs", "30", "--decay-from", "15", "--g-average", "0.999")
    assert (c.size, c.small, c.generator, c.decoder, c.batch_size, c.epochs, c.decay_from, c.g_average) == (
        128, True, "residual", "subpixel", 4, 30, 15, 0.999)
    c = cfg("cyclegan")  # the command has always trained 5 epochs of the reference at 256
    assert (c.epochs, c.size, c.batch_size, c.lambda_identity, c.small, c.generator) == (5, 256, 1, 0.5, False, "resnet")
    assert c.ngf is None and cfg("cyclegan", "--small", "--width", "24").ngf == 24
    c = cfg("vaegan", "--kl-weight", "4", "--feature-weight", "0.5")
    assert (c.kl_weight, c.feature_weight, cfg("vaegan").kl_weight) == (4.0, 0.5, 1.0)
    c = cfg("pix2pix", "--drawings", "mix", "--width", "24")
    assert (c.ngf, c.drawings, c.batch_size, c.lr) == (24, "mix", 64, 2e-4)
    assert (cfg("pix2pix", "--lambda-l1", "30").lambda_l1, cfg("pix2pix").lambda_l1) == (30.0, 100.0)
    c = cfg("cyclegan", "--objective", "contrastive", "--lambda-nce", "2", "--no-nce-identity")
    assert (c.objective, c.lambda_nce, c.nce_identity, cfg("cyclegan").objective) == ("contrastive", 2.0, False, "cycle")
    # A flag belongs to the trainers whose configs declare it: --help shows each under its heading.
    text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    sections = {part.split("\n")[0]: part for part in text.split("\n\n")}
    for heading, flag in (("image GANs (dcgan, cgan, vaegan, stylegan):", "--lr-d"), ("cyclegan:", "--decoder"),
                          ("pix2pix:", "--drawings"),
                          ("shared flags (one that only some trainers read says which):", "--g-average")):
        assert f"  {flag}" in sections[heading], (heading, flag)
