import math
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_demo.data import points_from_sketch, toy_dataset
from gan_demo.errors import UserError
from gan_demo.losses import LOSSES
from gan_demo.metrics import kl_js, mode_coverage
from gan_demo.losses import MinibatchDiscrimination
from gan_demo.training.toy import ToyGAN, ToyTrainConfig

SMALL = dict(width=32, hidden_layers=2, batch_size=64, eval_every=50, eval_samples=500)


def test_ring8_and_grid25_have_the_papers_modes_and_sigmas():
    ring, grid = toy_dataset("ring8"), toy_dataset("grid25")
    assert np.allclose(np.linalg.norm(ring.modes, axis=1), 2.0) and ring.sigma == 0.02
    assert len(grid.modes) == 25 and set(grid.modes[:, 0]) == {-4, -2, 0, 2, 4} and grid.sigma == 0.05
    x = ring.sample(1000, torch.Generator().manual_seed(0))
    assert x.shape == (1000, 2)


def test_real_data_covers_every_mode_at_high_quality():
    for name in ("ring8", "grid25"):
        d = toy_dataset(name)
        report = mode_coverage(d.sample(2500, torch.Generator().manual_seed(1)).numpy(), d.modes, d.sigma)
        assert report.modes_covered == report.modes_total
        assert report.hq_pct > 97  # 1 - exp(-4.5) = 98.9 % of a 2D Gaussian lies within 3 sigma


def test_a_collapsed_generator_covers_one_mode():
    d = toy_dataset("ring8")
    collapsed = np.repeat(d.modes[:1], 2500, 0) + 0.01
    assert mode_coverage(collapsed, d.modes, d.sigma).modes_covered == 1


def test_nan_samples_count_as_low_quality():
    d = toy_dataset("ring8")
    x = d.sample(100, torch.Generator().manual_seed(0)).numpy()
    x[:50] = np.nan
    assert mode_coverage(x, d.modes, d.sigma).hq_pct <= 50


def test_kl_and_js_are_zero_for_equal_and_ln2_for_disjoint_samples():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5000, 2))
    kl, js = kl_js(a, a, (-3, 3))
    assert kl == pytest.approx(0, abs=1e-9) and js == pytest.approx(0, abs=1e-9)
    _, js = kl_js(np.full((100, 2), -2.0), np.full((100, 2), 2.0), (-3, 3))
    assert js == pytest.approx(math.log(2), rel=1e-3)


def test_minibatch_features_are_larger_for_a_collapsed_batch():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(8, 4, 3)
    spread = layer(torch.randn(32, 8))[:, 8:]
    collapsed = layer(torch.randn(1, 8).repeat(32, 1))[:, 8:]
    # identical samples: every other sample is at distance 0, so each feature is exp(0) = 1
    assert collapsed.mean().item() == pytest.approx(1.0)
    assert spread.mean().item() < 0.6


@pytest.mark.parametrize("loss", list(LOSSES))
def test_every_loss_trains_without_nan(loss):
    gan = ToyGAN(ToyTrainConfig(dataset="ring8", loss=loss, **SMALL))
    gan.run(60)
    h = gan.history()
    assert len(h["step"]) == 60 and np.isfinite(h["d_loss"]).all() and np.isfinite(h["g_loss"]).all()
    assert gan.check_divergence() is None


def test_minibatch_discrimination_and_d_steps_train():
    gan = ToyGAN(ToyTrainConfig(dataset="grid25", minibatch_disc=True, d_steps=3, **SMALL))
    gan.run(20)
    assert gan.step_count == 20 and gan.D.mbd is not None


@pytest.mark.parametrize("update, frozen", [("d", "G"), ("g", "D")])
def test_step_can_update_one_network_only(update, frozen):
    gan = ToyGAN(ToyTrainConfig(**SMALL))
    before = [p.clone() for p in getattr(gan, frozen).parameters()]
    gan.step(update)
    assert all(torch.equal(a, b) for a, b in zip(before, getattr(gan, frozen).parameters()))


def test_train_weaker_skips_the_leaders_update_by_d_accuracy():
    import torch as t

    gan = ToyGAN(ToyTrainConfig(train_weaker=True, **SMALL))
    gan.run(200)
    updated = set(np.unique(gan.history()["updated"]))
    assert updated <= {1.0, 2.0, 3.0} and updated != {3.0}  # some steps skipped one side
    assert ToyGAN.d_accuracy(t.tensor([2.0, 3.0]), t.tensor([-1.0, 0.0])) == 1.0
    assert ToyGAN.d_accuracy(t.tensor([0.0, 1.0]), t.tensor([0.0, 1.0])) == 0.5


def test_learning_rate_changes_apply_and_structural_changes_are_refused():
    gan = ToyGAN(ToyTrainConfig(**SMALL))
    gan.set_hyperparameters(lr_d=5e-4, loss="hinge")
    assert gan.opt_d.param_groups[0]["lr"] == 5e-4 and gan.cfg.loss == "hinge"
    with pytest.raises(UserError, match="Reset"):
        gan.set_hyperparameters(width=64)


@pytest.mark.parametrize("bad", [dict(lr_d=float("nan")), dict(lr_g=1e9), dict(batch_size=0),
                                 dict(hidden_layers=10_000), dict(width=-1), dict(loss="nope"),
                                 dict(dataset="nope"), dict(noise_dist="cauchy"), dict(d_steps="many")])
def test_absurd_settings_are_refused_with_a_sentence(bad):
    with pytest.raises(UserError):
        ToyGAN(ToyTrainConfig(**{**SMALL, **bad}))


def test_divergence_is_detected_with_its_step():
    gan = ToyGAN(ToyTrainConfig(**SMALL))
    gan.run(5)
    with torch.no_grad():
        for p in gan.G.parameters():
            p.fill_(float("nan"))
    gan.step()
    assert gan.check_divergence() == 6


def test_seeded_runs_are_identical():
    a, b = ToyGAN(ToyTrainConfig(seed=3, **SMALL)), ToyGAN(ToyTrainConfig(seed=3, **SMALL))
    a.run(30)
    b.run(30)
    assert np.array_equal(a.samples(100), b.samples(100))


def test_views_have_the_right_shapes_for_1d_and_2d():
    gan2 = ToyGAN(ToyTrainConfig(**SMALL))
    assert gan2.decision_grid(32).shape == (32, 32) and gan2.manifold(11).shape == (11, 11, 2)
    gan1 = ToyGAN(ToyTrainConfig(dataset="gauss1d", noise_dim=1, **SMALL))
    assert gan1.decision_grid(50).shape == (50,)


def test_slow_motion_walks_through_six_phases_and_counts_one_step():
    gan = ToyGAN(ToyTrainConfig(**SMALL))
    sentences = [s for s, _ in gan.step_phases()]
    assert len(sentences) == 6 and sentences[0].startswith("1/6") and gan.step_count == 1
    assert len(gan.history()["step"]) == 1


def test_a_drawing_becomes_the_real_distribution():
    canvas = np.zeros((100, 100, 4), np.uint8)
    canvas[10:20, 80:90] = (0, 0, 0, 255)  # ink in the top right corner
    pts = points_from_sketch(canvas)
    assert (pts[:, 0] > 1.5).all() and (pts[:, 1] > 1.5).all()
    gan = ToyGAN(ToyTrainConfig(dataset="custom", points=pts.tolist(), **SMALL))
    gan.run(10)
    with pytest.raises(UserError, match="Draw"):
        points_from_sketch(np.zeros((100, 100, 4), np.uint8))


def test_a_packed_discriminator_judges_pairs_and_still_draws_pointwise_views():
    gan = ToyGAN(ToyTrainConfig(pack=2, **SMALL))
    assert gan.D(torch.zeros(64, 2)).shape == (32,)
    gan.run(20)
    assert gan.decision_grid(16).shape == (16, 16) and gan.g_gradients(gan.samples(10)).shape == (10, 2)
    with pytest.raises(UserError, match=r"multiple of Pack \(pack\) 3"):
        ToyGAN(ToyTrainConfig(**{**SMALL, "pack": 3}))


def test_minibatch_std_feature_is_zero_for_a_collapsed_batch_and_trains():
    from gan_demo.models.toy import ToyConfig, ToyDiscriminator

    torch.manual_seed(0)
    D = ToyDiscriminator(ToyConfig(width=16, hidden_layers=2, minibatch_std=True))
    same = torch.ones(8, 2)
    h = D.body(same)
    assert torch.allclose(h.std(0, unbiased=False).mean(), torch.tensor(0.0))
    assert D(torch.randn(8, 2)).shape == (8,)
    gan = ToyGAN(ToyTrainConfig(minibatch_std=True, **SMALL))
    gan.run(20)
    assert gan.check_divergence() is None


def test_gman_trains_k_discriminators_and_weighs_gs_losses():
    import torch

    from gan_demo.models.toy import DiscriminatorEnsemble
    from gan_demo.training.toy import ToyGAN, ToyTrainConfig

    cfg = ToyTrainConfig(width=16, hidden_layers=1, batch_size=32, n_discriminators=3, eval_every=10_000)
    gan = ToyGAN(cfg)
    assert isinstance(gan.D, DiscriminatorEnsemble) and len(gan.d_members) == 3
    before = [[p.detach().clone() for p in d.parameters()] for d in gan.d_members]
    gan.step("d")
    for d, old in zip(gan.d_members, before):  # every discriminator learns
        assert any(not torch.equal(a, b) for a, b in zip(old, d.parameters()))
    fake = gan.G(gan.noise(64))
    losses = torch.stack([torch.nn.functional.softplus(-d(fake)).mean() for d in gan.d_members])
    assert torch.allclose(gan._g_loss(fake), losses.mean(), atol=1e-6)  # "mean": GMAN-0
    gan.set_hyperparameters(gman="softmax", gman_lambda=0.0)
    assert torch.allclose(gan._g_loss(fake), losses.mean(), atol=1e-6)  # lambda 0 is the mean
    gan.set_hyperparameters(gman_lambda=50.0)
    assert abs(gan._g_loss(fake).item() - losses.max().item()) < 0.05 * losses.max().item() + 1e-3
    gan.run(5)
    h = gan.history()
    assert np.isfinite(h["d_loss"]).all() and len(h["step"]) == 6
    # the views read the K discriminators as one (their mean), from a copy rebuilt from the config
    copy = ToyGAN(gan.cfg)
    copy.D.load_state_dict(gan.D.state_dict())
    assert copy.decision_grid(8).shape == (8, 8)


def test_train_toy_cli_takes_gman_flags(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "g.npz"
    proc = subprocess.run([sys.executable, "-m", "gan_demo", "train-toy", "--dataset", "ring8", "--steps", "50",
                           "--discriminators", "2", "--gman", "softmax", "--gman-lambda", "2", "--quiet",
                           "--out", str(out)], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert proc.returncode == 0, proc.stderr
    f = np.load(out)
    assert f["samples"].shape == (2500, 2) and "modes" in f["history_columns"]


def test_mixture_noise_is_tight_clusters_on_a_grid_with_gaps_and_trains():
    from gan_demo.training.toy import MIXTURE_SIDE, MIXTURE_SIGMA, MIXTURE_SPACING

    gan = ToyGAN(ToyTrainConfig(dataset="grid25", noise_dist="mixture", noise_dim=3, **SMALL))
    z = gan.noise(20_000).numpy()
    assert z.shape == (20_000, 3) and abs(z[:, 2].std() - MIXTURE_SIGMA) < 0.01
    # every point sits near a grid centre, and the space between the centres stays empty
    cell = z[:, :2] / MIXTURE_SPACING + (MIXTURE_SIDE - 1) / 2
    centre = cell.round().clip(0, MIXTURE_SIDE - 1)
    distance = np.abs(cell - centre).max(1) * MIXTURE_SPACING
    assert distance.max() < 6 * MIXTURE_SIGMA
    assert (distance > 3 * MIXTURE_SIGMA).mean() < 0.01  # the gaps between clusters stay (nearly) empty
    assert len(np.unique(centre, axis=0)) == MIXTURE_SIDE**2  # all clusters are used
    gan.run(20)
    assert np.isfinite(gan.samples(100)).all()


@pytest.mark.parametrize("setting", [
    dict(loss="ns"), dict(loss="hinge", activation="leaky_relu", dataset="grid25"),
    dict(loss="minimax", activation="tanh", dataset="gauss1d"), dict(loss="lsgan", activation="elu", pack=2),
    dict(loss="wgan", d_steps=3), dict(loss="ns", train_weaker=True), dict(loss="hinge", optimizer="sgd"),
    # With minibatch std, the last hidden layer's bias gets a gradient that is zero in exact
    # arithmetic (the spread ignores a shift) and ~1e-8 of rounding in either path; Adam scales
    # that to a full step of either sign, so these compare the gradients through SGD.
    dict(loss="hinge", minibatch_std=True, dataset="grid25", d_steps=2, optimizer="sgd", lr_d=0.05, lr_g=0.05),
    dict(loss="ns", minibatch_std=True, activation="leaky_relu", pack=2, train_weaker=True, optimizer="sgd",
         lr_d=0.05, lr_g=0.05),
])
def test_the_hand_written_step_trains_exactly_as_autograd_does(setting):
    """fast_mlp.py's passes replace autograd and Optimizer.step for plain MLPs: after 40 steps every
    weight and every recorded metric matches the autograd path's (float rounding aside)."""
    runs = []
    for hand in (True, False):
        gan = ToyGAN(ToyTrainConfig(**{**SMALL, "eval_every": 10**5, **setting, "hand_written": hand}))
        assert gan._hand is not None
        for update in ["both"] * 30 + ["d"] * 5 + ["g"] * 5:
            gan.step(update)
        runs.append(gan)
    fast, slow = runs
    for p, q in zip(list(fast.G.parameters()) + list(fast.D.parameters()),
                    list(slow.G.parameters()) + list(slow.D.parameters())):
        assert torch.allclose(p, q, atol=1e-5), setting
    h_fast, h_slow = fast.history(), slow.history()
    for column in ("d_loss", "g_loss", "d_real", "d_fake", "updated"):
        assert np.allclose(h_fast[column], h_slow[column], atol=1e-5), column
    if setting.get("train_weaker"):
        assert set(h_fast["updated"]) != {3.0}  # the weaker-network rule did skip updates


def test_hand_written_and_autograd_steps_take_turns_on_one_optimiser_state():
    """Slow motion and WGAN-GP use autograd's step mid-run: Adam's moments and counts carry over."""
    mixed, autograd = (ToyGAN(ToyTrainConfig(**SMALL, hand_written=h)) for h in (True, False))
    for gan in (mixed, autograd):
        gan.run(5)
        list(gan.step_phases())
        gan.run(5)
    for p, q in zip(list(mixed.G.parameters()) + list(mixed.D.parameters()),
                    list(autograd.G.parameters()) + list(autograd.D.parameters())):
        assert torch.allclose(p, q, atol=1e-5)
    assert all(float(s["step"]) == 11 for s in mixed.opt_d.state.values())


def test_the_hand_written_step_stands_aside_where_autograd_is_needed():
    for setting in (dict(minibatch_disc=True), dict(n_discriminators=2)):
        assert ToyGAN(ToyTrainConfig(**SMALL, **setting))._hand is None
    gan = ToyGAN(ToyTrainConfig(**SMALL, loss="wgan-gp"))  # double backward: autograd's step
    gan.run(5)
    assert gan.step_count == 5 and np.isfinite(gan.history()["d_loss"]).all()


def test_the_weight_average_trails_g_by_its_decay_and_the_samples_come_from_it():
    gan = ToyGAN(ToyTrainConfig(g_average=0.9, **SMALL))
    expected = [p.detach().clone() for p in gan.G.parameters()]  # it starts as G
    assert all(torch.equal(a, p) for a, p in zip(expected, gan.G_avg.parameters()))
    for _ in range(15):
        gan.step()
        for a, p in zip(expected, gan.G.parameters()):
            a.mul_(0.9).add_(p.detach(), alpha=0.1)
    for a, p in zip(expected, gan.G_avg.parameters()):
        assert torch.allclose(a, p, atol=1e-6)
    assert not all(torch.equal(a, p) for a, p in zip(gan.G.parameters(), gan.G_avg.parameters()))
    z = gan.noise(50, torch.Generator().manual_seed(gan.eval_gen_seed))
    with torch.no_grad():
        assert np.allclose(gan.samples(50), gan.G_avg(z).numpy())
        assert not np.allclose(gan.samples(50), gan.G(z).numpy())


def test_the_weight_average_switches_on_and_off_mid_run():
    gan = ToyGAN(ToyTrainConfig(**SMALL))
    assert gan.G_avg is None and gan.output_G is gan.G
    gan.run(5)
    gan.set_hyperparameters(g_average=0.99)  # starts from G as it is now, not from the seed's G
    assert all(torch.equal(a, p) for a, p in zip(gan.G.parameters(), gan.G_avg.parameters()))
    gan.run(5)
    assert gan.output_G is gan.G_avg
    gan.set_hyperparameters(g_average=0.0)
    assert gan.G_avg is None and gan.output_G is gan.G
    with pytest.raises(UserError):
        gan.set_hyperparameters(g_average=1.0)  # an average that never moves


def test_grid25_defaults_to_the_recipe_that_covers_it():
    from gan_demo.training.toy import recommended, recommended_steps

    grid, ring = recommended("grid25"), recommended("ring8")
    assert grid["minibatch_std"] and grid["batch_size"] == 256 and grid["g_average"] == 0.999
    assert recommended_steps("grid25") == 24_000 and recommended_steps("ring8") == 12_000
    assert not ring.get("minibatch_std") and ring["g_average"] == 0.0


def test_training_the_weaker_network_skips_all_of_ds_steps_while_d_leads():
    gan = ToyGAN(ToyTrainConfig(d_steps=3, train_weaker=True, batch_size=32, width=16, hidden_layers=1))
    assert gan._extra_d_steps("both") == 2 and gan._extra_d_steps("d") == 2 and gan._extra_d_steps("g") == 0
    gan._d_ahead = True  # D sorted more than WEAKER_HI of the last batch right
    assert gan._extra_d_steps("both") == 0 and gan._extra_d_steps("d") == 2  # a manual D step still runs
    # A run where D pulls ahead: D's Adam counts exactly the steps the rule allows.
    gan = ToyGAN(ToyTrainConfig(dataset="ring8", d_steps=3, train_weaker=True, batch_size=128, lr_g=1e-4))
    gan.run(600)
    do_d = (gan.history()["updated"].astype(int) & 1).astype(bool)
    assert (~do_d).sum() > 100  # D led often
    allowed = sum((2 if i == 0 or do_d[i - 1] else 0) + int(do_d[i]) for i in range(len(do_d)))
    adam_steps = {int(st["step"]) for st in gan.opt_d.state.values()}
    assert adam_steps == {allowed}


def test_a_noise_code_appends_one_hot_categories_and_keeps_the_continuous_noise():
    plain = ToyGAN(ToyTrainConfig(**SMALL))
    coded = ToyGAN(ToyTrainConfig(noise_codes=5, **SMALL))
    z = coded.noise(2000, torch.Generator().manual_seed(4))
    assert z.shape == (2000, 7) and coded.G.net[0].in_features == 7
    code = z[:, 2:]
    assert torch.all(code.sum(1) == 1) and set(code.unique().tolist()) == {0.0, 1.0}
    shares = code.mean(0)
    assert torch.all((shares > 0.15) & (shares < 0.25))  # 1/5 each
    # the continuous part is drawn first, as without a code: switching codes on changes nothing else
    assert torch.equal(z[:, :2], plain.noise(2000, torch.Generator().manual_seed(4)))
    coded.run(20)
    assert np.isfinite(coded.samples(100)).all()


def test_a_coded_run_draws_one_manifold_sheet_per_code_and_needs_a_reset_to_change_it():
    from gan_demo.plots import toy_view

    gan = ToyGAN(ToyTrainConfig(noise_codes=3, **SMALL))
    assert gan.manifold(21).shape == (3, 10, 10, 2)
    with_sheets, without = toy_view(gan, None, True, False), toy_view(gan, None, False, False)
    assert with_sheets.shape == without.shape and not np.array_equal(with_sheets, without)  # sheets drawn
    gan1 = ToyGAN(ToyTrainConfig(dataset="gauss1d", noise_dim=1, noise_codes=4, **SMALL))
    assert gan1.manifold(21).shape == (4, 1, 10, 1)
    with pytest.raises(UserError, match="Reset"):
        gan.set_hyperparameters(noise_codes=4)
    with pytest.raises(UserError, match=r"\(noise_codes\) must be between"):
        ToyGAN(ToyTrainConfig(noise_codes=65, **SMALL))


def test_the_1d_view_numbers_its_axis_and_names_its_colours():
    from gan_demo import plots

    real = np.random.default_rng(0).normal(4, 0.5, 2000)
    img = plots.view_1d((-2.0, 8.0), real, real - 1, np.full(200, 0.5), width=420, height=357)
    assert img.shape == (357, 420, 3)
    legend, axis = img[:24], img[-20:]
    assert (np.abs(legend.astype(int) - plots.REAL).sum(-1) < 10).sum() > 50  # the legend's swatches
    assert (np.abs(legend.astype(int) - plots.FAKE).sum(-1) < 10).sum() > 50
    assert (axis.max(-1) < 120).sum() > 100  # tick numbers under the axis
