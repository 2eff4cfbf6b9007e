"""PCA directions (GANSpace) and vector arithmetic (Radford et al.) on real zoo models and on a
generator whose answer is known."""

import numpy as np
import pytest
import torch
from torch import nn

from gan_demo import arithmetic, directions, sampling, zoo
from gan_demo.errors import UserError


@pytest.fixture(scope="module")
def models():
    return {name: zoo.load(name, "cpu") for name in
            ("dcgan-fashion", "cgan-digits", "stylegan-fashion", "vaegan-fashion", "cgan-fashion")}


class _KnownFirstLayer(nn.Module):
    """G whose first layer is linear with one dominant input direction ``u`` (an identity "ReLU")."""

    def __init__(self, u: torch.Tensor):
        super().__init__()
        dim = len(u)
        q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=torch.Generator().manual_seed(1)))
        scales = torch.ones(dim)
        scales[0] = 10.0
        # A maps u to 10 * q[:, 0] and everything orthogonal to u with gain 1.
        basis, _ = torch.linalg.qr(torch.cat([u[:, None], torch.randn(dim, dim - 1)], 1))
        self.first = nn.Linear(dim, dim, bias=False)
        self.first.weight.data = q @ torch.diag(scales) @ basis.T
        self.act = nn.LeakyReLU(1.0)
        self.out = nn.Linear(dim, 28 * 28)

    def forward(self, z, labels=None):
        return torch.tanh(self.out(self.act(self.first(z)))).view(-1, 1, 28, 28)


def test_pca_finds_the_direction_the_first_layer_amplifies():
    u = torch.nn.functional.normalize(torch.randn(8, generator=torch.Generator().manual_seed(3)), dim=0)
    model = zoo.LoadedModel("known", _KnownFirstLayer(u), {"config": {"latent_dim": 8}})
    dirs = directions.compute(model, k=4, n=2048)
    assert dirs.space == "z"
    assert abs(float(dirs.vectors[0] @ u)) > 0.99
    # 100 of the 107 units of variance lie along u.
    assert dirs.variance_share[0] == pytest.approx(100 / 107, abs=0.03)
    assert torch.allclose(dirs.vectors.norm(dim=1), torch.ones(4), atol=1e-5)


@pytest.mark.parametrize("name", ["dcgan-fashion", "cgan-digits", "stylegan-fashion", "vaegan-fashion"])
def test_directions_of_every_zoo_family(models, name):
    m = models[name]
    dirs = directions.get(m, 10)
    share = dirs.variance_share
    assert len(dirs) == 10 and np.all(np.diff(share) <= 1e-6) and 0 < share.sum() <= 1.0 + 1e-6
    assert dirs.space == ("w" if name.startswith("stylegan") else "z")
    assert directions.get(m, 10) is dirs  # memoised on the model


@pytest.mark.parametrize("name", ["dcgan-fashion", "cgan-digits", "stylegan-fashion"])
def test_zero_edit_is_the_plain_sample(models, name):
    m = models[name]
    label = 3 if sampling.is_conditional(m) else None
    edited = directions.edit(m, 5, [0.0] * 6, 1.0, label).astype(int)
    plain = sampling.generate(m, 1, 5, labels=None if label is None else torch.tensor([3]))[0][0].astype(int)
    assert np.abs(edited - plain).max() <= 1


def test_the_first_component_changes_images_more_than_the_tenth(models):
    m = models["dcgan-fashion"]
    change = {}
    for k in (0, 9):
        amounts = [0.0] * 10
        amounts[k] = 2.0
        change[k] = np.mean([np.abs(directions.edit(m, s, amounts).astype(float)
                                    - directions.edit(m, s, [0.0]).astype(float)).mean() for s in range(12)])
    assert change[0] > 1.5 * change[9]


@pytest.mark.parametrize("name", ["cgan-digits", "cgan-fashion"])
def test_a_conditional_models_first_slider_visibly_changes_the_sample(models, name):
    """Within one class, walking PC1 from -2 to +2 moves pixels by over a tenth of their range,
    averaged over the classes (centred on all classes at once, PC1 described the class and moved
    3-7 %; centred on each, 14 % for digits, mostly black, and 24 % for garments)."""
    m = models[name]
    moved = []
    for label in range(10):
        sweep = directions.sweep(m, 0, 1, 2.0, 5, label=label).astype(float)
        moved.append(np.abs(sweep[0] - sweep[-1]).mean())
    assert np.mean(moved) > 0.10 * 255
    assert "centred on each class" in directions.get(m, 10).analysed


def test_stylegan_w_space_is_not_collapsed(models):
    """The shipped StyleGAN must spread w over several directions (a collapsed mapping network put
    99.8 % of w's variance into one component and drew three kinds of garment)."""
    share = directions.get(models["stylegan-fashion"], 10).variance_share
    assert share[0] < 0.6


def test_sweep_rows_walk_each_component(models):
    m = models["dcgan-fashion"]
    sweep = directions.sweep(m, 1, 3, 2.0, 5)
    assert sweep.shape == (15, 28, 28, 1)
    middle = directions.edit(m, 1, [0.0])
    for row in range(3):
        assert np.abs(sweep[row * 5 + 2].astype(int) - middle.astype(int)).max() <= 1
        assert not np.array_equal(sweep[row * 5], sweep[row * 5 + 4])


def test_parse_and_toggle_picks():
    assert arithmetic.parse_picks("3, 7 12;3", 40, "A") == [3, 7, 12]
    assert arithmetic.parse_picks([0, 39], 40, "A") == [0, 39]
    assert arithmetic.add_pick("3, 7", 9) == "3, 7, 9"
    assert arithmetic.add_pick("3, 7, 9", 7) == "3, 9"
    assert arithmetic.add_pick("", 0) == "0"
    for bad, message in [("", "Pick at least one"), ("x", "grid numbers like"), ("40", "not on the grid"),
                         ("-1", "grid numbers like"), ([1.5], "whole grid numbers"), ({}, "grid numbers")]:
        with pytest.raises(UserError, match=message):
            arithmetic.parse_picks(bad, 40, "A")


@pytest.mark.parametrize("name", ["dcgan-fashion", "stylegan-fashion"])
def test_a_minus_a_plus_c_is_c(models, name):
    m = models[name]
    grid = arithmetic.pick_grid(m, 40, 7)
    out = arithmetic.combine(m, 40, 7, "1, 2", "2, 1", "5")
    assert out.means.shape == (3, 28, 28, 1) and out.result.shape == (9, 28, 28, 1)
    assert np.array_equal(out.result[0], out.means[2])
    assert np.abs(out.means[2].astype(int) - grid[5].astype(int)).max() <= 1
    # The noisy variants stay near the result without copying it.
    diffs = [np.abs(v.astype(int) - out.result[0].astype(int)).mean() for v in out.result[1:]]
    assert all(0 < d < 40 for d in diffs)


def test_conditional_arithmetic_carries_the_class(models):
    """cgan-digits' grid cycles through the classes: samples 1, 11, 21 are ones, 7, 17, 27 sevens.
    Three per concept, as in the paper: with one each, a quarter of the results read as another digit."""
    m = models["cgan-digits"]
    out = arithmetic.combine(m, 40, 0, "1, 11, 21", "11, 21, 31", "7, 17, 27")
    from gan_demo.metrics.classifier import load_classifier, predict

    clf, _ = load_classifier("mnist")
    x = torch.as_tensor(out.result).permute(0, 3, 1, 2).float() / 127.5 - 1
    assert (predict(clf, x)[0] == 7).mean() >= 0.8


def test_computing_directions_leaves_the_shared_model_alone(models):
    """Another session samples from the same model object while directions are computed."""
    import threading

    m = zoo.load("dcgan-fashion", "cpu")
    errors, done = [], threading.Event()

    def sample_meanwhile():
        while not done.is_set():
            try:
                sampling.generate(m, 8, 0)
            except BaseException as exc:  # the hook's early exit leaking into this thread
                errors.append(exc)

    worker = threading.Thread(target=sample_meanwhile)
    worker.start()
    try:
        for _ in range(5):
            directions.compute(m, k=3, n=1024)
    finally:
        done.set()
        worker.join()
    assert not errors
    assert not any(mod._forward_hooks for mod in m.generator.modules())
