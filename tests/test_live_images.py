"""Train live on images: the ImageGAN engine, the live trainer running it, saving to the zoo, the API."""

import gc
from dataclasses import replace
import re
import weakref

import numpy as np
import pytest
import torch
from gradio_client import Client

from gan_demo import zoo
from gan_demo.errors import UserError
from gan_demo.sampling import explore_grid
from gan_demo.training.image_config import ImageConfig, check_image_config
from gan_demo.training.image_live import ImageGAN
from gan_demo.training.live import LiveTrainer, TrainerPool
from gan_demo.training.session import TrainSession
from gan_demo.training.toy import ToyTrainConfig
from tests.test_live import live_threads, wait_for

TINY = ImageConfig(width=8, batch_size=16, eval_every=20, fid_samples=100)


def test_an_image_run_trains_measures_and_draws_the_same_noise_every_time(data_root):
    gan = ImageGAN(TINY)
    before = gan.fixed_grid()
    assert before.dtype == np.uint8 and before.shape[0] == before.shape[1] > 8 * 28
    assert np.array_equal(before, gan.fixed_grid())  # fixed z, G in eval mode: the same picture
    for _ in range(40):
        gan.step()
    h = gan.history()
    assert list(h["step"][:3]) == [1, 2, 3] and len(h["d_loss"]) == 40
    assert np.isfinite(h["d_loss"]).all() and np.isfinite(h["frechet"][-1])
    # the first measurement comes early (at step 10), so the chart draws within seconds of Start
    assert [e["step"] for e in gan.evals] == [10, 20, 40]
    assert not np.array_equal(before, gan.fixed_grid())  # training changed G
    assert gan.images_per_s() > 0


def test_d_only_and_g_only_steps_update_only_that_network(data_root):
    gan = ImageGAN(TINY)
    g0 = [p.detach().clone() for p in gan.G.parameters()]
    d0 = [p.detach().clone() for p in gan.D.parameters()]
    gan.step("d")
    assert all(torch.equal(a, b) for a, b in zip(g0, gan.G.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d0, gan.D.parameters()))
    d1 = [p.detach().clone() for p in gan.D.parameters()]
    gan.step("g")
    assert all(torch.equal(a, b) for a, b in zip(d1, gan.D.parameters()))
    assert gan.history()["updated"].tolist() == [1.0, 2.0]


def test_conditional_and_wgan_gp_models_train(data_root):
    for model, loss in (("cgan", "hinge"), ("wgan-gp", "wgan-gp")):
        gan = ImageGAN(ImageConfig(model=model, loss=loss, width=8, batch_size=16, dataset="mnist"))
        for _ in range(3):
            gan.step()
        assert np.isfinite(gan.history()["d_loss"]).all()
    assert ImageGAN(ImageConfig(model="cgan", width=8), view_only=True).grid.labels is not None


@pytest.mark.parametrize("changes, message", [
    (dict(lr_d=float("nan")), "(lr_d) must be a finite"), (dict(lr_g=1e9), "(lr_g) must be between"),
    (dict(batch_size=0), "(batch_size) must be between"), (dict(width=10_000), "(width) must be between"),
    (dict(model="biggan"), "Model (model) must be one of: dcgan, cgan, wgan-gp; got 'biggan'"),
    (dict(dataset="cifar"), "Data (dataset) must be one of: fashion, mnist"), (dict(loss="wat"), "Loss (loss)"),
])
def test_absurd_image_settings_get_one_sentence(changes, message):
    with pytest.raises(UserError, match=re.escape(message)):
        check_image_config(replace(TINY, **changes))


def test_a_run_that_goes_nan_says_diverged_and_can_be_reset(data_root):
    trainer = LiveTrainer(TINY, "cpu")
    try:
        trainer.step(2)
        trainer.wait_idle()
        gan = trainer._gan
        with torch.no_grad():
            for p in gan.G.parameters():
                p.fill_(float("nan"))
        trainer.step(1)
        pub = trainer.wait_idle()
        assert pub.status == "diverged" and "Diverged at step 3" in pub.message
        trainer.start()  # refused quietly: a diverged run stays stopped
        assert trainer.wait_idle().status == "diverged"
        trainer.reset()
        pub = trainer.wait_idle(timeout=60)
        assert pub.status == "ready" and pub.step == 0 and pub.config.seed == TINY.seed + 1
    finally:
        trainer.close()


def test_the_live_trainer_runs_images_then_toy_data_and_leaves_no_thread_or_run_behind(data_root):
    base = live_threads()
    trainer = LiveTrainer(TINY, "cpu")
    ref = weakref.ref(trainer._gan)
    for _ in range(50):  # Start pressed 50 times: still one worker
        trainer.start()
    assert wait_for(lambda: trainer.snapshot().step >= 5, timeout=60)
    assert live_threads() == base + 1
    pub = trainer.snapshot()
    assert pub.d_state == {} and pub.g_state  # views draw G only: D is never copied out
    view, pub = trainer.reader()
    assert isinstance(view, ImageGAN) and view.D is None and view.fixed_grid().ndim == 2
    trainer.reset(ToyTrainConfig(width=16, hidden_layers=1, batch_size=32))
    assert isinstance(trainer.wait_idle().config, ToyTrainConfig)
    trainer.close()
    gc.collect()
    assert live_threads() == base and ref() is None  # the image run (and its 47 MB of data) is gone


def test_save_to_zoo_makes_an_entry_that_samples_like_the_run(tmp_path, data_root):
    pool = TrainerPool(2)
    session = TrainSession(pool)
    try:
        trainer = session.ensure(TINY)
        with pytest.raises(UserError, match="Train for a few steps"):
            session.save_to_zoo(tmp_path, "early")
        trainer.step(25)
        trainer.wait_idle()
        weights, card = session.save_to_zoo(tmp_path, "my-live-dcgan")
        assert weights.is_file() and weights.with_suffix(".json").is_file()
        assert card["training"]["steps"] == 25 and card["metrics"]["frechet_live"] > 0
        cache = zoo.ModelCache()
        model = cache.add_file("my-live-dcgan", weights, owner="s1")
        assert cache.added("my-live-dcgan", "s1") is model and cache.added("dcgan-fashion", "s1") is None
        assert cache.added("my-live-dcgan", "someone-else") is None  # another session cannot load it
        grid = explore_grid(model, 4, 0, 1.0, [0.0] * 16)
        assert grid.dtype == np.uint8
        # the saved G is the run's G: same weights, same images for the same noise
        view, _ = trainer.reader()
        z = torch.randn(4, TINY.latent_dim)
        view.G.eval()
        with torch.no_grad():
            assert torch.allclose(view.G(z), model.generator(z), atol=1e-6)
    finally:
        session.close()
        pool.close_all()


def test_a_toy_run_cannot_be_saved_to_the_zoo(tmp_path):
    pool = TrainerPool(1)
    session = TrainSession(pool)
    try:
        session.ensure(ToyTrainConfig(width=16, hidden_layers=1)).step(3)
        session.trainer.wait_idle()
        with pytest.raises(UserError, match="Only image runs"):
            session.save_to_zoo(tmp_path, "toy")
    finally:
        session.close()


IMG_OK = ["fashion", "dcgan", "ns", False, 1, 2e-4, 2e-4, 16, 8, 64, 0, 50]


def test_image_training_through_the_api_with_separate_sessions_and_save_to_explore(app_url):
    a, b = Client(app_url, verbose=False), Client(app_url, verbose=False)
    status = a.predict(10, "both", *IMG_OK, api_name="/train_images_step")
    assert "step 10" in status
    view_b = b.predict(api_name="/train_images_view")  # b has no image run: nothing to show
    assert not isinstance(view_b[0], str)
    view_a = a.predict(api_name="/train_images_view")
    assert isinstance(view_a[0], str) and "step 10" in view_a[1]
    with pytest.raises(Exception, match="Nothing to save"):
        b.predict("", api_name="/train_images_save")
    files, _menu, status = a.predict("class-demo", api_name="/train_images_save")
    name = status.split("Saved as **")[1].split("**")[0]
    assert name.startswith("class-demo-") and any(f.endswith(".safetensors") for f in files)
    # Explore samples the saved model by name
    grid = a.predict(name, 0, 1.0, 4, *([0.0] * 16), api_name="/explore")
    assert isinstance(grid, str)
    assert name in a.predict(name, api_name="/describe_model")
    with pytest.raises(Exception, match="Unknown model"):  # another session cannot see or load it
        b.predict(name, 0, 1.0, 4, *([0.0] * 16), api_name="/explore")
    with pytest.raises(Exception, match="zoo name"):
        a.predict("../../etc/passwd", api_name="/train_images_save")
    a.predict(api_name="/train_images_pause")


@pytest.mark.parametrize("values, message", [
    ('["fashion", "dcgan", "ns", false, 1, NaN, 0.0002, 16, 8, 64, 0, 50, 0.0]', "(lr_d) must be a finite"),
    ('["fashion", "dcgan", "ns", false, 1, 0.0002, 0.0002, 0, 8, 64, 0, 50, 0.0]', "(batch_size) must be between"),
    ('["fashion", "dcgan", "ns", false, 1, 0.0002, 0.0002, 16, 10000, 64, 0, 50, 0.0]', "(width) must be between"),
    ('["cifar", "dcgan", "ns", false, 1, 0.0002, 0.0002, 16, 8, 64, 0, 50, 0.0]', "Data (dataset) must be one of"),
])
def test_image_start_refuses_absurd_settings(app_url, values, message):
    from tests.test_app_api import _raw_call

    stream = _raw_call(app_url, '{"data": [null, ' + values[1:] + '}', "train_images_start")
    assert "event: error" in stream and message in stream, stream


def test_a_session_swaps_a_toy_run_for_an_image_run_and_back(data_root):
    pool = TrainerPool(1)
    session = TrainSession(pool)
    try:
        session.step(ToyTrainConfig(width=16, hidden_layers=1, batch_size=32), 3, "both")
        assert isinstance(session.trainer.published.config, ToyTrainConfig)
        session.step(TINY, 2, "both")  # same trainer and pool slot, now an image run
        pub = session.trainer.published
        assert isinstance(pub.config, ImageConfig) and pub.step == 2 and pool.active == 1
        session.pause()
        assert session.trainer.published.status == "paused"
    finally:
        session.close()


def test_the_live_trainer_refuses_what_only_the_command_line_runs_and_keeps_to_the_web_limits():
    with pytest.raises(UserError, match=r"Decay from epoch \(decay_from\) is a setting of the command line"):
        check_image_config(replace(TINY, decay_from=3.0))
    with pytest.raises(UserError, match=r"Model \(model\) must be one of: dcgan, cgan, wgan-gp"):
        check_image_config(replace(TINY, model="stylegan"))
    with pytest.raises(UserError, match=r"Width .* must be between 4 and 64"):
        check_image_config(replace(TINY, width=128))  # the command line may (settings.check without web)


def test_the_weight_average_is_a_live_setting_the_grid_and_the_frechet_distance_come_from(data_root):
    gan = ImageGAN(replace(TINY, data_root=str(data_root), dataset="mnist", g_average=0.9))
    for _ in range(5):
        gan.step()
    assert gan.output_G is gan.G_avg
    moved = [a for a, b in zip(gan.G_avg.parameters(), gan.G.parameters()) if not torch.equal(a, b)]
    assert moved, "the average lags G after a few steps"
    assert np.array_equal(gan.fixed_grid(), gan.grid.render(gan.G_avg))
    assert not np.array_equal(gan.fixed_grid(), gan.grid.render(gan.G))
    gan.set_hyperparameters(g_average=0.0)  # off at once: G itself again
    assert gan.G_avg is None and np.array_equal(gan.fixed_grid(), gan.grid.render(gan.G))
    gan.set_hyperparameters(g_average=0.99)  # on mid-run: the average starts from G as it is
    assert all(torch.equal(a, b) for a, b in zip(gan.G_avg.parameters(), gan.G.parameters()))


def test_d_and_g_share_one_draw_of_g_per_step():
    # G is nearly all of a step's work at 28 x 28: D's last step and G's step use one G(z).
    from gan_demo.training.image_live import ImageGAN

    for d_steps in (1, 3):
        gan = ImageGAN(replace(TINY, d_steps=d_steps))
        calls = []
        gan.G.register_forward_hook(lambda *a: calls.append(1))
        gan.step()
        assert len(calls) == d_steps
        calls.clear()
        gan.step("g")
        assert len(calls) == 1
