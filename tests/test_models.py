import torch

from gan_demo.models import FAMILIES, get_family
from gan_demo.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator


def test_dcgan_generator_makes_28x28_images_in_tanh_range():
    G = DCGANGenerator(DCGANConfig(latent_dim=16, width=8)).eval()
    x = G(torch.randn(5, 16))
    assert x.shape == (5, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1


def test_dcgan_discriminator_gives_one_logit_per_image():
    D = DCGANDiscriminator(DCGANConfig(width=8))
    assert D(torch.randn(7, 1, 28, 28)).shape == (7,)


def test_generator_is_deterministic_in_eval_mode():
    torch.manual_seed(0)
    G = DCGANGenerator(DCGANConfig(latent_dim=16, width=8)).eval()
    z = torch.randn(4, 16)
    assert torch.equal(G(z), G(z))


def test_dcgan_follows_the_papers_architecture_rules():
    G, D = DCGANGenerator(), DCGANDiscriminator()
    assert not any(isinstance(m, (torch.nn.MaxPool2d, torch.nn.AvgPool2d)) for m in [*G.modules(), *D.modules()])
    assert isinstance(list(G.net)[-1], torch.nn.Tanh)
    assert any(isinstance(m, torch.nn.LeakyReLU) for m in D.modules())
    # no batch norm on D's input layer
    assert isinstance(D.net[1], torch.nn.LeakyReLU)


def test_every_family_is_registered_by_name():
    for name in FAMILIES:
        assert get_family(name).name == name
