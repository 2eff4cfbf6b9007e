"""VAE-GAN: the step lowers the reconstruction error; encode/decode through the sampling helpers."""

import numpy as np
import pytest
import torch

from gan_demo import sampling
from gan_demo.errors import UserError
from gan_demo.models.vaegan import VAEGANConfig, VAEGANDiscriminator, VAEGANGenerator
from gan_demo.training.steps import StepConfig, vaegan_step
from gan_demo.zoo import LoadedModel


def tiny():
    torch.manual_seed(0)
    cfg = VAEGANConfig(latent_dim=8, width=8)
    return VAEGANGenerator(cfg), VAEGANDiscriminator(cfg)


def test_vaegan_steps_lower_the_reconstruction_error_on_a_fixed_batch():
    G, D = tiny()
    opt_g = torch.optim.Adam(G.parameters(), 2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    real = torch.zeros(16, 1, 28, 28) - 1
    real[:, :, 8:20, 10:18] = 1  # a light block on black, like a garment
    metrics = [vaegan_step(G, D, opt_g, opt_d, real, torch.randn(16, 8), StepConfig()) for _ in range(40)]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "kl", "feature_rec", "pixel_rec"} <= metrics[0].keys()
    assert metrics[-1]["pixel_rec"] < 0.85 * metrics[0]["pixel_rec"]


def test_encode_then_decode_round_trips_shapes_and_sliders_edit():
    G, _ = tiny()
    model = LoadedModel("tiny-vaegan", G.eval(), {"family": "vaegan", "config": {"latent_dim": 8}})
    image = np.zeros((28, 28), np.uint8)
    image[6:22, 9:19] = 255
    z = sampling.encode(model, image)
    assert z.shape == (8,) and np.isfinite(z).all()
    recon = sampling.decode(model, z)
    edited = sampling.decode(model, z, [3.0, -3.0])
    assert recon.shape == (28, 28, 1) and not np.array_equal(recon, edited)


def test_decoding_a_bad_latent_gets_one_sentence():
    G, _ = tiny()
    model = LoadedModel("tiny-vaegan", G.eval(), {"family": "vaegan", "config": {"latent_dim": 8}})
    for bad in (np.zeros(5), np.full(8, np.nan)):
        with pytest.raises(UserError, match="must be 8 finite numbers"):
            sampling.decode(model, bad)


def test_models_without_an_encoder_say_so():
    from gan_demo import zoo

    with pytest.raises(UserError, match="has no encoder"):
        sampling.encode(zoo.load("dcgan-fashion"), np.zeros((28, 28), np.uint8))
