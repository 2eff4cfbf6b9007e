"""The small StyleGAN: modulated convolutions, mapping, truncation in w, style mixing."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from gan_demo import sampling
from gan_demo.errors import UserError
from gan_demo.models.stylegan import (ModulatedConv, StyleGANConfig, StyleGANDiscriminator,
                                      StyleGANGenerator)
from gan_demo.zoo import LoadedModel


def test_modulated_conv_equals_modulating_and_demodulating_the_weights():
    """Our activation-side computation against StyleGAN2's definition (per-sample weights)."""
    torch.manual_seed(0)
    conv = ModulatedConv(4, 3, 3, w_dim=5)
    torch.nn.init.normal_(conv.affine.weight)
    x, w = torch.randn(2, 4, 6, 6), torch.randn(2, 5)
    style = conv.affine(w)
    expected = []
    for n in range(2):
        weight = conv.weight * conv.scale * style[n][None, :, None, None]
        weight = weight * torch.rsqrt(weight.pow(2).sum((1, 2, 3), keepdim=True) + 1e-8)
        expected.append(F.conv2d(x[n:n + 1], weight, padding=1) + conv.bias[None, :, None, None])
    assert torch.allclose(conv(x, w), torch.cat(expected), atol=1e-5)


@pytest.fixture
def G():
    torch.manual_seed(0)
    g = StyleGANGenerator(StyleGANConfig(width=8, w_dim=16, latent_dim=16))
    # At init styles are all 1 and noise is off; give both an effect, as after training.
    for layer in g.synthesis.layers:
        layer.noise_strength.data.fill_(0.5)
    for m in g.modules():
        if isinstance(m, ModulatedConv):
            torch.nn.init.normal_(m.affine.weight, 0, 0.5)
    return g


def test_generator_and_discriminator_shapes(G):
    x = G(torch.randn(3, 16))
    assert x.shape == (3, 1, 28, 28)
    assert StyleGANDiscriminator(StyleGANConfig(width=8)).forward(x).shape == (3,)


def test_sampling_is_deterministic_in_eval_and_noisy_in_training(G):
    z = torch.randn(2, 16)
    G.eval()
    assert torch.equal(G(z), G(z))
    G.train()
    G.config.mixing_prob = 0.0
    assert not torch.equal(G(z), G(z))


def test_training_forward_tracks_the_mean_w(G):
    before = G.w_avg.clone()
    G.train()
    G(torch.randn(8, 16))
    assert not torch.equal(before, G.w_avg)


def test_truncation_zero_gives_the_mean_style_for_every_z(G):
    G.eval()
    G.w_avg.normal_()
    z = torch.randn(3, 16)
    out = G(z, psi=0.0)
    assert torch.allclose(out[0], out[1], atol=1e-6) and torch.allclose(out[1], out[2], atol=1e-6)
    full = G(z)
    assert not torch.allclose(full[0], full[1], atol=1e-3)


def test_style_mixing_ends_equal_the_pure_sources(G):
    G.eval()
    za, zb = torch.randn(1, 16), torch.randn(1, 16)
    with torch.no_grad():
        assert torch.allclose(G.mix(za, zb, 0), G(zb), atol=1e-6)
        assert torch.allclose(G.mix(za, zb, G.num_ws), G(za), atol=1e-6)
        mid = G.mix(za, zb, 3)
    assert not torch.allclose(mid, G(za)) and not torch.allclose(mid, G(zb))


def test_style_mix_table_layout_and_errors(G):
    G.eval()
    model = LoadedModel("tiny-style", G, {"family": "stylegan", "config": {"latent_dim": 16}})
    table = sampling.style_mix(model, [1, 2], [3, 4, 5], crossover=2)
    assert table.shape == (3 * 4, 28, 28, 1)
    assert (table[0] == 255).all()  # the blank corner
    direct = sampling.generate(model, 1, seed=4)[0][0]
    assert np.array_equal(table[2], direct)  # first row: the fine sources
    with pytest.raises(UserError, match="Crossover must be between 0 and 7"):
        sampling.style_mix(model, [1], [2], crossover=9)


def test_style_mixing_needs_a_stylegan():
    from gan_demo import zoo

    with pytest.raises(UserError, match="style mixing needs a StyleGAN"):
        sampling.style_mix(zoo.load("dcgan-fashion"), [1], [2], 1)


def test_the_shipped_stylegan_card_is_honest_and_shows_in_explore():
    """The card holds the 10,000-sample figures, the w spread and its weaknesses, and Explore's
    model summary shows the Frechet distance and the weaknesses to a student."""
    import json
    from pathlib import Path

    from gan_demo.ui.explore import model_summary

    card = json.loads((Path(__file__).parent.parent / "weights" / "stylegan-fashion.json").read_text())
    m = card["metrics"]
    assert m["samples"] == 10_000 and m["frechet_distance"] < 100
    assert min(m["predicted_class_shares"].values()) > 0.05
    assert m["w_pca"]["components_for_90pct"] >= 10 and m["frechet_curve"]["points"]
    text = model_summary({**card, "name": "stylegan-fashion"})
    assert f"Frechet distance {m['frechet_distance']:.0f} on 10,000 samples" in text
    assert f"real images {m['frechet_real_train_vs_test']:.1f}," in text  # under 10: one decimal
    assert f"untrained generator {m['frechet_untrained_generator']:.0f})" in text
    assert "What it still does badly" in text and card["known_weaknesses"][0] in text


def test_w_spread_counts_the_directions_w_uses():
    from gan_demo.metrics.evaluation import w_spread

    class Flat(torch.nn.Module):  # w on one line: one component holds everything
        def w(self, z):
            return z[:, :1] * torch.ones(1, 8)

    z = torch.randn(500, 8)
    assert w_spread(Flat(), z)["components_for_90pct"] == 1
    iso = type("Iso", (torch.nn.Module,), {"w": lambda self, z: z})()
    assert w_spread(iso, z)["components_for_90pct"] >= 7
