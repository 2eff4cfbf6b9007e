import pytest
import torch

from gan_demo.errors import UserError
from gan_demo.losses import LOSSES, OUTPUT_GRADS, get_loss, gradient_penalty


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_shares_one_signature_and_is_finite_for_huge_logits(name):
    loss = get_loss(name)
    real, fake = torch.tensor([50.0, -50.0]), torch.tensor([-80.0, 80.0])
    assert torch.isfinite(loss(real, fake, "d"))
    assert torch.isfinite(loss(None, fake, "g"))


def test_minimax_saturates_where_nonsaturating_does_not():
    # D rejects the fake confidently: logit -8, D(G(z)) ~ 0.0003
    grads = {}
    for name in ("minimax", "ns"):
        fake = torch.tensor([-8.0], requires_grad=True)
        get_loss(name)(None, fake, "g").backward()
        grads[name] = fake.grad.abs().item()
    assert grads["minimax"] < 1e-3 < 0.9 < grads["ns"]


def test_unknown_loss_is_a_user_error():
    with pytest.raises(UserError, match="Unknown loss"):
        get_loss("nope")


def test_gradient_penalty_is_zero_for_a_unit_slope_critic():
    class Linear1(torch.nn.Module):
        def forward(self, x):
            return x[:, 0] * 1.0
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    assert gradient_penalty(Linear1(), real, fake).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("name", sorted(OUTPUT_GRADS))
@pytest.mark.parametrize("net", ["d", "g"])
def test_written_out_output_gradients_match_autograd(name, net):
    gen = torch.Generator().manual_seed(0)
    real = torch.cat([torch.randn(250, generator=gen) * 5, torch.tensor([1.0, -1.0, 0.0, 30.0, -30.0])])
    fake = torch.cat([torch.randn(250, generator=gen) * 5, torch.tensor([1.0, -1.0, 0.0, 30.0, -30.0])])
    r, f = real.clone().requires_grad_(True), fake.clone().requires_grad_(True)
    loss = LOSSES[name](r if net == "d" else None, f, net)
    wanted = torch.autograd.grad(loss, [r, f] if net == "d" else [f])
    got_loss, got_real, got_fake = OUTPUT_GRADS[name](real if net == "d" else None, fake, net)
    assert torch.equal(got_loss, loss.detach())
    assert torch.allclose(got_fake, wanted[-1], rtol=1e-6, atol=1e-9)
    if net == "d":
        assert torch.allclose(got_real, wanted[0], rtol=1e-6, atol=1e-9)
    else:
        assert got_real is None
    assert "wgan-gp" not in OUTPUT_GRADS  # its penalty needs D's second derivatives
