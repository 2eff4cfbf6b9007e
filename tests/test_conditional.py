"""The conditional GAN, its classes, and the shipped cgan models' quality."""

import json

import numpy as np
import pytest
import torch

from gan_demo import sampling, zoo
from gan_demo.errors import UserError
from gan_demo.models.cgan import CGANConfig, CGANDiscriminator, CGANGenerator


def tiny():
    torch.manual_seed(0)
    cfg = CGANConfig(latent_dim=8, width=8, embed_dim=4)
    return CGANGenerator(cfg).eval(), CGANDiscriminator(cfg).eval()


def test_generator_output_depends_on_the_class():
    G, _ = tiny()
    z = torch.randn(2, 8)
    a = G(z, torch.tensor([0, 0]))
    b = G(z, torch.tensor([3, 3]))
    assert a.shape == (2, 1, 28, 28) and not torch.allclose(a, b)


def test_one_hot_class_weights_equal_class_indices():
    G, _ = tiny()
    z = torch.randn(3, 8)
    labels = torch.tensor([1, 5, 9])
    assert torch.allclose(G(z, labels), G(z, torch.eye(10)[labels]), atol=1e-6)


def test_projection_discriminator_scores_depend_on_the_class():
    _, D = tiny()
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        D.embed.weight.normal_()
    assert not torch.allclose(D(x, torch.zeros(4, dtype=torch.long)), D(x, torch.full((4,), 7)))


def test_conditional_nets_refuse_to_run_without_classes():
    G, D = tiny()
    with pytest.raises(ValueError):
        G(torch.randn(1, 8))
    with pytest.raises(ValueError):
        D(torch.randn(1, 1, 28, 28))


@pytest.fixture(scope="module")
def digits():
    return zoo.load("cgan-digits")


@pytest.mark.parametrize("value, index", [("7", 7), (7, 7), ("  3 ", 3)])
def test_digit_classes_by_name_or_index(digits, value, index):
    assert sampling.class_index(digits, value) == index


def test_fashion_classes_by_name_ignore_case():
    fashion = zoo.load("cgan-fashion")
    assert sampling.class_index(fashion, "sneaker") == 7
    assert sampling.class_index(fashion, "Ankle boot") == 9


@pytest.mark.parametrize("value", ["Sneakers", 10, -1, "", None, 2.5, True, "11"])
def test_unknown_classes_get_one_sentence_listing_the_classes(digits, value):
    with pytest.raises(UserError, match=r"Unknown class .* choose one of: 0, 1, 2"):
        sampling.class_index(digits, value)


def test_unconditional_models_take_no_class():
    with pytest.raises(UserError, match="not a conditional model"):
        sampling.class_index(zoo.load("dcgan-fashion"), "Sneaker")


def test_class_grid_keeps_the_latent_along_a_row(digits):
    images = sampling.class_grid(digits, seed=3, n_seeds=2)
    assert images.shape == (20, 28, 28, 1)
    direct = sampling.class_samples(digits, 4, 2, seed=3)
    assert np.array_equal(images[4], direct[0]) and np.array_equal(images[14], direct[1])


def test_interpolation_between_classes_starts_and_ends_at_each_class(digits):
    frames = sampling.interpolate(digits, 5, 5, steps=6, mode="slerp", class_a=1, class_b=8)
    assert frames.shape == (6, 28, 28, 1)
    assert np.array_equal(frames[0], sampling.class_samples(digits, 1, 1, seed=5)[0])
    assert np.array_equal(frames[-1], sampling.class_samples(digits, 8, 1, seed=5)[0])
    assert not np.array_equal(frames[2], frames[3])


# Issue 22's goals: cgan-fashion 88 % (measured 90.2 % after 30 epochs with G's weight average; it was
# 85.0 % after 12), every class 75 %; cgan-digits 97 % is not met yet (96.4 %), so it keeps 95 %.
@pytest.mark.parametrize("name, goal", [("cgan-digits", 0.95), ("cgan-fashion", 0.88)])
def test_shipped_conditional_models_meet_their_class_accuracy_goal(name, goal):
    """Measured by the independent classifier (`python -m gan_demo evaluate NAME --update-card`);
    this re-measures on 1,000 fresh samples so a bad checkpoint cannot hide behind its card."""
    from gan_demo.metrics.classifier import load_classifier, predict

    model = zoo.load(name)
    card = json.loads((zoo.WEIGHTS_DIR / f"{name}.json").read_text())
    assert card["metrics"]["class_accuracy"] >= goal
    clf, _ = load_classifier(card["dataset"])
    labels = sampling.default_labels(model, 1000)
    images, _ = sampling.generate(model, 1000, seed=777, labels=labels)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1
    preds, _ = predict(clf, x)
    assert (preds == labels.numpy()).mean() >= goal - 0.02
    assert card["metrics"]["frechet_distance"] < 0.5 * card["metrics"]["frechet_untrained_generator"]
    if name == "cgan-fashion":
        assert card["metrics"]["frechet_distance"] <= 45
        assert min(card["metrics"]["class_accuracy_per_class"].values()) >= 0.75
