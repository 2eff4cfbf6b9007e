"""CLI contracts of the zoo issue: conditional sampling, interpolate, evaluate, push and pull."""

import json

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from test_cli import run_cli

from gan_demo import zoo
from gan_demo.errors import UserError


def test_sample_label_writes_images_and_labels_of_that_class(tmp_path):
    out = tmp_path / "s.npz"
    run_cli("sample", "cgan-fashion", "--n", 12, "--label", "Sneaker", "--seed", 4, "--out", out)
    f = np.load(out)
    assert f["images"].shape == (12, 28, 28, 1) and f["images"].dtype == np.uint8
    assert f["labels"].dtype.kind == "i" and (f["labels"] == 7).all() and f["z"].shape == (12, 64)


def test_sample_labels_all_gives_n_over_10_of_each_class(tmp_path):
    out = tmp_path / "all.npz"
    run_cli("sample", "cgan-digits", "--n", 30, "--labels-all", "--out", out)
    labels = np.load(out)["labels"]
    assert labels.shape == (30,) and np.bincount(labels).tolist() == [3] * 10


def test_sample_by_class_index_equals_sample_by_class_name(tmp_path):
    run_cli("sample", "cgan-digits", "--n", 4, "--label", 7, "--out", tmp_path / "a.npz")
    run_cli("sample", "cgan-digits", "--n", 4, "--label", "7", "--out", tmp_path / "b.npz")
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert (a["labels"] == 7).all() and (b["labels"] == 7).all()
    # Same seed, same class: the same images, up to one grey level of rounding (a CPU under load can
    # split a float reduction differently; a different class would differ by far more).
    assert np.abs(a["images"].astype(int) - b["images"].astype(int)).max() <= 1


@pytest.mark.parametrize("args, message", [
    (["sample", "cgan-digits", "--label", "12", "--out", "x.npz"], "Unknown class '12'"),
    (["sample", "cgan-fashion", "--label", "Sneakers", "--out", "x.npz"], "choose one of: T-shirt/top"),
    (["sample", "cgan-digits", "--n", 15, "--labels-all", "--out", "x.npz"], "multiple of 10"),
    (["sample", "dcgan-fashion", "--label", "3", "--out", "x.npz"], "not a conditional model"),
    (["interpolate", "cgan-digits", "--steps", 1, "--out", "x.gif"], "--steps must be between 2"),
    (["interpolate", "cgan-digits", "--out", "x.mp3"], "--out must end in .gif"),
    (["interpolate", "dcgan-fashion", "--class-a", "1", "--out", "x.gif"], "not a conditional model"),
    (["interpolate", "cgan-digits", "--seed-a", -1, "--out", "x.gif"], "Seed must be between"),
    (["evaluate", "cgan-digits", "--n", 5], "--n must be between"),
    (["push", "cgan-digits", "not a repo"], "is not a Hugging Face repo id"),
    (["push", "no-such-model", "me/repo"], "Unknown local model"),
    (["pull", "../../etc"], "is not a Hugging Face repo id"),
])
def test_zoo_cli_bad_input_exits_2_with_one_sentence(tmp_path, args, message):
    args = [str(tmp_path / a) if str(a).startswith("x.") else a for a in args]
    proc = run_cli(*args, check=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_interpolate_writes_an_animated_gif_and_a_strip(tmp_path):
    gif, strip, npz = tmp_path / "walk.gif", tmp_path / "walk.png", tmp_path / "walk.npz"
    run_cli("interpolate", "dcgan-fashion", "--seed-a", 1, "--seed-b", 2, "--steps", 8, "--mode", "slerp",
            "--out", gif)
    img = Image.open(gif)
    assert img.format == "GIF" and img.n_frames == 8 + 6  # there and back, ends not repeated
    assert img.size == (112, 112)
    run_cli("interpolate", "cgan-digits", "--steps", 5, "--class-a", 3, "--class-b", 8, "--scale", 1,
            "--out", strip)
    assert Image.open(strip).size == (5 * 30 + 2, 32)
    run_cli("interpolate", "dcgan-fashion", "--seed-a", 1, "--seed-b", 2, "--steps", 8, "--mode", "lerp",
            "--out", npz)
    frames = np.load(npz)["images"]
    assert frames.shape == (8, 28, 28, 1)
    assert np.array_equal(np.asarray(img.convert("L"))[::4, ::4], frames[0, ..., 0])


def test_evaluate_reports_frechet_distance_and_class_accuracy():
    proc = run_cli("evaluate", "cgan-digits", "--n", 500)
    report = json.loads(proc.stdout[:proc.stdout.rindex("}") + 1])
    assert report["samples"] == 500 and report["class_accuracy"] > 0.8
    assert report["frechet_real_train_vs_test"] < report["frechet_distance"] < report["frechet_untrained_generator"]


def test_push_and_pull_offline_fail_with_one_sentence(tmp_path):
    env_offline = {"HF_HUB_OFFLINE": "1"}
    import os
    import subprocess
    import sys

    for args, message in ((["push", "cgan-digits", "me/digits"], "Could not push to 'me/digits'"),
                          (["pull", "me/digits"], "Could not fetch 'me/digits'")):
        proc = subprocess.run([sys.executable, "-m", "gan_demo", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=120, env={**os.environ, **env_offline})
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_pull_stores_a_hub_model_under_a_local_name(monkeypatch, tmp_path):
    import huggingface_hub

    files = {zoo.HUB_WEIGHTS: zoo.WEIGHTS_DIR / "cgan-digits.safetensors",
             zoo.HUB_CARD: zoo.WEIGHTS_DIR / "cgan-digits.json"}
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, f, revision=None, local_files_only=False: str(files[f]))
    path = zoo.pull("someone/digits-gan", weights_dir=tmp_path)
    assert path == tmp_path / "digits-gan.safetensors"
    card = json.loads((tmp_path / "digits-gan.json").read_text())
    assert card["source"] == "https://huggingface.co/someone/digits-gan" and card["conditional"]
    assert zoo.model_names(tmp_path) == ["digits-gan"]
    with pytest.raises(UserError, match="not a usable local model name"):
        zoo.pull("someone/x", name="../evil", weights_dir=tmp_path)


def test_push_uploads_the_hub_layout(monkeypatch):
    import huggingface_hub

    calls = []

    class FakeApi:
        def create_repo(self, repo_id, private=False, exist_ok=False):
            calls.append(("create", repo_id, private))

        def upload_file(self, path_or_fileobj, path_in_repo, repo_id, commit_message):
            calls.append(("upload", path_in_repo, path_or_fileobj.rsplit("/", 1)[-1]))

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    assert zoo.push("cgan-digits", "me/digits", private=True) == "https://huggingface.co/me/digits"
    assert calls == [("create", "me/digits", True),
                     ("upload", "model.safetensors", "cgan-digits.safetensors"),
                     ("upload", "config.json", "cgan-digits.json")]
