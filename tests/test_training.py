import json

import torch

from gan_demo import zoo
from gan_demo.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from gan_demo.training.checkpoint import load_checkpoint, save_checkpoint
from gan_demo.training.image import train_image_gan
from gan_demo.training.image_config import recipe
from gan_demo.training.steps import StepConfig, discriminator_step


def test_a_few_discriminator_steps_lower_its_loss_on_a_tiny_batch():
    torch.manual_seed(0)
    cfg = DCGANConfig(latent_dim=8, width=8)
    G, D = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    opt = torch.optim.Adam(D.parameters(), 2e-3, betas=(0.5, 0.999))
    real = torch.rand(16, 1, 28, 28) * 2 - 1
    z = torch.randn(16, 8)
    losses = [discriminator_step(G, D, opt, real, z, StepConfig())["d_loss"] for _ in range(15)]
    assert losses[-1] < 0.5 * losses[0]


def test_checkpoint_round_trip_restores_nets_and_optimiser(tmp_path):
    torch.manual_seed(0)
    G = DCGANGenerator(DCGANConfig(latent_dim=8, width=8))
    opt = torch.optim.Adam(G.parameters(), 1e-3)
    G(torch.randn(4, 8)).mean().backward()
    opt.step()
    save_checkpoint(tmp_path / "run", {"G": G}, {"G": opt}, {"step": 7})
    G2 = DCGANGenerator(DCGANConfig(latent_dim=8, width=8))
    opt2 = torch.optim.Adam(G2.parameters(), 1e-3)
    meta = load_checkpoint(tmp_path / "run", {"G": G2}, {"G": opt2})
    assert meta["step"] == 7
    for a, b in zip(G.state_dict().values(), G2.state_dict().values()):
        assert torch.equal(a, b)
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    assert all(torch.equal(s1[k]["exp_avg"], s2[k]["exp_avg"]) for k in s1)


def test_weights_save_and_load_round_trip_through_the_zoo(tmp_path):
    G = DCGANGenerator(DCGANConfig(latent_dim=8, width=8)).eval()
    card = {"family": "dcgan", "config": {"latent_dim": 8, "width": 8, "channels": 1, "image_size": 28}}
    zoo.save(G, card, tmp_path / "tiny")
    loaded = zoo.load("tiny", weights_dir=tmp_path)
    z = torch.randn(3, 8)
    assert torch.equal(G(z), loaded.generator(z))
    assert zoo.model_names(tmp_path) == ["tiny"]


def test_training_resumes_exactly_where_it_stopped(tmp_path, data_root):
    base = dict(dataset="mnist", width=8, latent_dim=8, batch_size=32, data_root=str(data_root),
                device="cpu", checkpoint_every=1000)
    straight = train_image_gan(recipe(**base, max_steps=6), tmp_path / "a", progress=False)
    train_image_gan(recipe(**base, max_steps=3), tmp_path / "b", progress=False)
    resumed = train_image_gan(recipe(**base, max_steps=6), tmp_path / "b", resume=True,
                              progress=False)
    assert straight["training"]["steps"] == resumed["training"]["steps"] == 6
    card = json.loads((tmp_path / "b.json").read_text())
    assert card["training"]["data_source"].endswith("mnist_5k.npz")
    a = zoo.load("a", weights_dir=tmp_path).generator
    b = zoo.load("b", weights_dir=tmp_path).generator
    # Same batches, restored optimiser state: both runs moved the weights away from init alike.
    diff = max((pa - pb).abs().max().item() for pa, pb in zip(a.parameters(), b.parameters()))
    assert diff < 0.05
    assert card["metrics"]["last_100_steps_mean"]["d_loss"] > 0


def test_mode_seeking_pairs_share_a_class_and_raise_the_diversity_of_a_collapsed_generator():
    from gan_demo.models.cgan import CGANConfig, CGANDiscriminator, CGANGenerator
    from gan_demo.training.steps import generator_step

    torch.manual_seed(0)
    cfg = CGANConfig(latent_dim=8, width=8, embed_dim=4)
    G, D = CGANGenerator(cfg), CGANDiscriminator(cfg)
    seen = []
    G.register_forward_hook(lambda m, args, out: seen.append(args[1].clone()))
    opt = torch.optim.Adam(G.parameters(), 1e-2)
    z = torch.randn(16, 8)
    labels = torch.arange(16) % 10

    def spread():
        with torch.no_grad():
            out = G(z, torch.zeros(16, dtype=torch.long))
        return out.std(0).mean().item()

    before = spread()
    metrics = [generator_step(G, D, opt, z, StepConfig(mode_seeking=1.0), labels) for _ in range(20)]
    assert torch.equal(seen[0][:8], seen[0][8:])  # each pair: two latents, one class
    assert "diversity_ratio" in metrics[0] and metrics[-1]["diversity_ratio"] > metrics[0]["diversity_ratio"]
    assert spread() > before


def test_live_preview_writes_the_same_noise_every_few_steps(tmp_path, data_root):
    """`train --live-preview DIR`: a grid of 64 fixed noise vectors (one class per column for a
    conditional model) at step 0, every K steps and at the end; the CLI writes the same files."""
    import subprocess
    import sys

    import numpy as np
    from PIL import Image

    cfg = recipe("cgan", dataset="mnist", width=8, latent_dim=8, batch_size=32,
                 data_root=str(data_root), device="cpu", max_steps=5, preview_every=2,
                 live_preview=str(tmp_path / "live"))
    train_image_gan(cfg, tmp_path / "g", progress=False)
    names = sorted(p.name for p in (tmp_path / "live").glob("step_*.png"))
    assert names == ["step_000000.png", "step_000002.png", "step_000004.png", "step_000005.png"]
    first, last = (np.asarray(Image.open(tmp_path / "live" / n)) for n in (names[0], names[-1]))
    assert first.shape == (8 * 30 + 2, 8 * 30 + 2) and not np.array_equal(first, last)
    assert np.array_equal(last, np.asarray(Image.open(tmp_path / "live" / "latest.png")))
    out = tmp_path / "cli"
    run = subprocess.run([sys.executable, "-m", "gan_demo", "train", "dcgan", "--dataset", "mnist", "--width", "8",
                          "--latent-dim", "8", "--max-steps", "3", "--preview-every", "1", "--quiet",
                          "--data-root", str(data_root), "--live-preview", str(out), "--out", str(tmp_path / "d")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert len(list(out.glob("step_*.png"))) == 4


def test_the_shipped_generator_is_the_weight_average_and_the_card_draws_the_frechet_curve(tmp_path, data_root):
    from safetensors.torch import load_file

    base = dict(dataset="mnist", width=8, latent_dim=8, batch_size=500, epochs=1, data_root=str(data_root),
                device="cpu", g_average=0.9, eval_every=2, fid_samples=200)
    card = train_image_gan(recipe(**base, max_steps=4), tmp_path / "m", progress=False)
    state = tmp_path / "training" / "m.ckpt.safetensors"
    saved, shipped = load_file(str(state)), load_file(str(tmp_path / "m.safetensors"))
    moved = [k for k in shipped if k.endswith("weight") and not torch.equal(saved[f"net.G.{k}"], saved[f"net.G_avg.{k}"])]
    assert moved, "G and its average should differ after 4 steps"
    assert all(torch.equal(shipped[k], saved[f"net.G_avg.{k}"]) for k in shipped)
    assert [p[0] for p in card["metrics"]["frechet_curve"]["points"]] == [2, 4]

    # The rest of the schedule in a second piece: the curve goes on, the state is gone.
    card = train_image_gan(recipe(**base), tmp_path / "m", resume=True, progress=False)
    schedule = card["training"]["schedule_steps"]
    assert card["training"]["steps"] == schedule and not state.exists()
    assert [p[0] for p in card["metrics"]["frechet_curve"]["points"]] == list(range(2, schedule + 1, 2))
    assert [(p["from_step"], p["to_step"]) for p in card["training"]["pieces"]] == [(0, 4), (4, schedule)]
    assert all(d > 0 for _, d in card["metrics"]["frechet_curve"]["points"])


def test_a_decay_started_in_a_later_piece_scales_the_rates_the_run_trained_at(tmp_path, data_root):
    """--decay-from on a resumed run: each group's rate falls linearly from the one it trained at
    (StyleGAN's per-part rates keep their ratios) and reaches 0 at the end of the schedule."""
    base = dict(model="stylegan", dataset="mnist", width=8, latent_dim=8, batch_size=500, epochs=2,
                data_root=str(data_root), device="cpu", lr_d=1e-3, lr_g=1e-3)
    train_image_gan(recipe(**base, max_steps=5), tmp_path / "s", progress=False)
    meta = json.loads((tmp_path / "training" / "s.ckpt.json").read_text())
    before = [g["lr"] for g in meta["param_groups"]["G"]]
    assert len(set(before)) > 1  # per-part rates
    card = train_image_gan(recipe(**base, decay_from=1, max_steps=16), tmp_path / "s", resume=True,
                    progress=False)
    meta = json.loads((tmp_path / "training" / "s.ckpt.json").read_text())
    after = [g["lr"] for g in meta["param_groups"]["G"]]
    assert [g["base_lr"] for g in meta["param_groups"]["G"]] == before
    per_epoch = card["training"]["schedule_steps"] / 2
    factor = 1 - (15 / per_epoch - 1)  # the rate step 16 trained at, part way down from epoch 1 to 2
    assert 0 < factor < 1 and all(abs(a - factor * b) < 1e-9 for a, b in zip(after, before))


def test_mixed_precision_follows_the_device_unless_told(monkeypatch):
    import pytest

    from gan_demo.errors import UserError
    from gan_demo.training import steps

    cpu = torch.device("cpu")
    assert steps.use_amp("on", cpu) and not steps.use_amp("off", cpu)
    for native in (True, False):
        monkeypatch.setattr(steps, "bf16_native", lambda device, native=native: native)
        assert steps.use_amp("auto", cpu) is native
    with pytest.raises(UserError, match="auto, on or off"):
        steps.use_amp("fp8", cpu)


def test_a_bf16_run_on_the_cpu_trains_and_ships_float32_weights_in_the_usual_layout(tmp_path, data_root):
    from gan_demo.training.image_live import ImageGAN
    from gan_demo.training.image_config import ImageConfig

    base = dict(dataset="mnist", width=8, latent_dim=8, batch_size=32, data_root=str(data_root), device="cpu",
                checkpoint_every=1000, max_steps=4)
    card = train_image_gan(recipe(**base, amp="on"), tmp_path / "bf16", progress=False)
    assert card["training"]["precision"] == "bf16 autocast" and card["training"]["amp"] == "on"
    assert all(v > -1e9 and v < 1e9 for v in card["metrics"]["last_100_steps_mean"].values())
    assert train_image_gan(recipe(**base, amp="off"), tmp_path / "fp32",
                           progress=False)["training"]["precision"] == "float32"
    G = zoo.load("bf16", weights_dir=tmp_path).generator
    assert all(p.dtype == torch.float32 for p in G.parameters())
    out = G(torch.randn(5, 8))
    assert out.dtype == torch.float32 and out.shape == (5, 1, 28, 28) and torch.isfinite(out).all()
    # The Images tab's trainer takes the same setting.
    live = ImageGAN(ImageConfig(dataset="mnist", width=8, batch_size=8, data_root=str(data_root), amp="on"))
    assert live.step_config().amp
    assert not ImageGAN(ImageConfig(dataset="mnist", width=8, batch_size=8, data_root=str(data_root),
                                    amp="off")).step_config().amp


def test_the_trainer_draws_g_once_per_step(tmp_path, data_root, monkeypatch):
    from gan_demo.models.dcgan import DCGANGenerator

    calls = []
    forward = DCGANGenerator.forward
    monkeypatch.setattr(DCGANGenerator, "forward", lambda self, *a: calls.append(1) or forward(self, *a))
    train_image_gan(recipe(dataset="mnist", width=8, latent_dim=8, batch_size=32, data_root=str(data_root),
                           device="cpu", max_steps=3, checkpoint_every=1000), tmp_path / "run", progress=False)
    assert len(calls) == 3
