import numpy as np
import pytest
import torch

from gan_demo.latent import lerp, slerp
from gan_demo.metrics import frechet_distance


def test_lerp_and_slerp_start_at_a_and_end_at_b():
    a, b = torch.randn(8), torch.randn(8)
    t = torch.linspace(0, 1, 5)
    for f in (lerp, slerp):
        path = f(a, b, t)
        assert path.shape == (5, 8)
        assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-5)


def test_slerp_keeps_the_norm_of_gaussian_latents_where_lerp_shrinks_it():
    torch.manual_seed(0)
    a, b = torch.randn(64), torch.randn(64)
    b = b / b.norm() * a.norm()  # equal norms: slerp stays on that sphere
    mid = torch.tensor([0.5])
    assert slerp(a, b, mid)[0].norm() == pytest.approx(a.norm().item(), rel=1e-4)
    assert lerp(a, b, mid)[0].norm() < 0.8 * a.norm()  # nearly orthogonal in 64-D: about 1/sqrt(2)


def test_slerp_of_parallel_vectors_falls_back_to_a_straight_line():
    a = torch.ones(4)
    path = slerp(a, 2 * a, torch.tensor([0.0, 0.5, 1.0]))
    assert torch.isfinite(path).all() and torch.allclose(path[1], 1.5 * a)


def test_frechet_distance_is_zero_for_one_set_and_the_squared_mean_shift_for_a_translated_one():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 6))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    shift = np.array([3.0, 0, 0, 0, 0, 0])
    assert frechet_distance(x, x + shift) == pytest.approx(9.0, rel=1e-6)


def test_frechet_distance_sees_a_change_of_spread():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5000, 3))
    # N(0, I) vs N(0, 4I): trace terms 3 + 12 - 2 * trace(sqrt(4 I)) = 15 - 12 = 3
    assert frechet_distance(x, 2 * rng.normal(size=(5000, 3))) == pytest.approx(3.0, rel=0.1)
