"""Hub models: the registry's architectures have the released files' key layout and size, and the
loader fetches once, loads strictly, and answers a bad file or no network with one sentence.

No network here: each model is fetched from a local folder laid out like the Hub (OWNER/REPO/FILE)
holding a state dict built with the real architecture (random weights, the right keys and shapes)."""

import time

import pytest
import torch

from gan_demo import hub_models
from gan_demo.errors import UserError
from gan_demo.models.huggan import GeneratorUNet, HugGANDCGAN, PGGANGenerator

# Parameter counts that reproduce the released pytorch_model.bin sizes (float32): pix2pix-edge2shoes
# 218 MB, dcgan-mnist 14.3 MB; and their numbers of tensors (hub_research: keys read from the source).
RELEASED = {"hub-pix2pix-edges2shoes": (54_404_099, 17), "hub-dcgan-mnist": (3_578_624, 25),
            # pggan-celebahq-1024: 92.3 MB; 23,079,115 weights and the scalar `lod` (sefa's buffer)
            "hub-pggan-celebahq": (23_079_116, 55),
            # fastgan-few-shot-*: 117 MB; 29,176,512 weights plus batch norm's statistics and spectral
            # norm's u and v vectors (the legacy spectral_norm's keys)
            "hub-fastgan-anime-face": (29_255_438, 142), "hub-fastgan-shells": (29_255_438, 142)}


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(hub_models.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(hub_models.MIRROR_ENV, raising=False)
    return tmp_path / "cache"


def _stand_in(folder, name, edit=None):
    """A mirror folder holding the model's file: the real architecture's state dict, random weights."""
    model = hub_models.get(name)
    torch.manual_seed(0)
    state = hub_models.ARCHITECTURES[model.architecture]().state_dict()
    if edit:
        state = edit(state)
    path = folder / model.repo / model.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return folder


@pytest.mark.parametrize("name", list(hub_models.REGISTRY))
def test_each_architecture_matches_its_released_files_layout(name):
    model = hub_models.get(name)
    net = hub_models.ARCHITECTURES[model.architecture]()
    params, tensors = RELEASED[name]
    assert sum(v.numel() for v in net.state_dict().values() if v.is_floating_point()) == params
    assert len(net.state_dict()) == tensors
    assert abs(params * 4 / 1e6 - model.size_mb) / model.size_mb < 0.02
    assert len(model.revision) == 40 and model.licence and model.source


def test_a_model_loads_from_a_hub_shaped_folder_once_and_draws(cache, tmp_path):
    mirror = _stand_in(tmp_path / "hub", "hub-dcgan-mnist")
    G = hub_models.load_weights("hub-dcgan-mnist", mirror=mirror)
    assert isinstance(G, HugGANDCGAN) and not G.training
    saved = torch.load(mirror / "huggan/dcgan-mnist/pytorch_model.bin", weights_only=True)
    assert torch.equal(G.state_dict()["model.0.weight"], saved["model.0.weight"])
    with torch.no_grad():
        out = G(torch.randn(2, 100))
    assert out.shape == (2, 3, 64, 64) and float(out.abs().max()) <= 1
    assert hub_models.is_cached("hub-dcgan-mnist")
    (mirror / "huggan/dcgan-mnist/pytorch_model.bin").unlink()  # fetched once: the cache serves now
    assert isinstance(hub_models.load_weights("hub-dcgan-mnist", mirror=mirror), HugGANDCGAN)


def test_the_pix2pix_unet_takes_a_256_pixel_drawing(cache, tmp_path):
    mirror = _stand_in(tmp_path / "hub", "hub-pix2pix-edges2shoes")
    G = hub_models.load_weights("hub-pix2pix-edges2shoes", mirror=mirror)
    assert isinstance(G, GeneratorUNet)
    with torch.no_grad():
        out = G(torch.zeros(1, 3, 256, 256))
    assert out.shape == (1, 3, 256, 256) and float(out.abs().max()) <= 1


@pytest.mark.parametrize("edit, why", [
    (lambda s: {("model.0.kernel" if k == "model.0.weight" else k): v for k, v in s.items()}, "model.0"),
    (lambda s: {**s, "model.0.weight": torch.zeros(100, 256, 4, 4)}, "size mismatch"),
    (lambda s: [1, 2, 3], "not a state dict"),
])
def test_a_file_of_another_layout_is_one_sentence_and_leaves_the_cache(cache, tmp_path, edit, why):
    mirror = _stand_in(tmp_path / "hub", "hub-dcgan-mnist", edit)
    with pytest.raises(UserError, match="does not load as its architecture") as err:
        hub_models.load_weights("hub-dcgan-mnist", mirror=mirror)
    assert why in str(err.value) and "\n" not in str(err.value)
    assert not hub_models.is_cached("hub-dcgan-mnist")


def test_a_corrupt_download_is_refused_and_removed(cache, tmp_path):
    model = hub_models.get("hub-dcgan-mnist")
    path = tmp_path / "hub" / model.repo / model.filename
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x80\x04not really a pickle" * 50)
    with pytest.raises(UserError, match="does not load"):
        hub_models.load_weights("hub-dcgan-mnist", mirror=tmp_path / "hub")
    assert not hub_models.is_cached("hub-dcgan-mnist")


def test_offline_a_model_not_in_the_cache_is_one_sentence_within_seconds(cache, monkeypatch):
    from gan_demo import zoo

    monkeypatch.setattr(zoo, "hub_reachable", lambda timeout_s=3.0: False)
    t = time.perf_counter()
    with pytest.raises(UserError, match="needs a network"):
        hub_models.load_weights("hub-pix2pix-edges2shoes")
    assert time.perf_counter() - t < 5
    assert not list(cache.rglob("*.part"))
    with pytest.raises(UserError, match="Unknown Hub model"):
        hub_models.get("no-such-model")


def test_a_hub_model_is_explored_and_interpolated_like_ours(cache, tmp_path, monkeypatch):
    from gan_demo import zoo
    from gan_demo.training.live import TrainerPool
    from gan_demo.ui.common import AppContext
    from gan_demo.ui.explore import ExploreHandlers, choices
    from gan_demo.ui.interpolate import InterpolateHandlers

    cards = [hub_models.card("hub-dcgan-mnist")]
    assert choices(cards) == [("hub-dcgan-mnist (Hub, needs a network)", "hub-dcgan-mnist")]
    ctx = AppContext(models=zoo.ModelCache(), pool=TrainerPool(0))
    h = ExploreHandlers(ctx, cards)
    monkeypatch.setattr(zoo, "hub_reachable", lambda timeout_s=3.0: False)
    # Offline: a warning, and no picture (not the previous model's samples under the Hub card)
    with pytest.warns(UserWarning, match="needs a network"):
        assert h.explore("hub-dcgan-mnist", 0, 1.0, 4) is None
    with pytest.warns(UserWarning, match="needs a network"):
        seed, grid = h.new_seed("hub-dcgan-mnist", 1.0, 4)
    assert grid is None and isinstance(seed, int)
    with pytest.warns(UserWarning, match="needs a network"):
        assert InterpolateHandlers(ctx, cards).interpolate("hub-dcgan-mnist", 0, 1, 3, "slerp", 1.0) == (None,) * 3
    monkeypatch.setenv(hub_models.MIRROR_ENV, str(_stand_in(tmp_path / "hub", "hub-dcgan-mnist")))
    grid = h.explore("hub-dcgan-mnist", 0, 1.0, 4, 1.5)
    assert grid.shape[-1] == 3 and grid.shape[0] > 64  # 2 x 2 tiles of 64 x 64 RGB
    summary = h.describe_model("hub-dcgan-mnist")
    assert "licence" in summary and "in this server's cache" in summary and "ms a picture" in summary
    strip, gif, _ = InterpolateHandlers(ctx, cards).interpolate("hub-dcgan-mnist", 0, 1, 3, "slerp", 1.0)
    assert strip.shape[-1] == 3 and gif.endswith(".gif")


def test_the_hub_pix2pix_draws_a_shoe_from_a_drawing_in_the_sketch_tab(cache, tmp_path, monkeypatch):
    from pathlib import Path

    import numpy as np
    from PIL import Image, ImageDraw

    from gan_demo import zoo
    from gan_demo.training.live import TrainerPool
    from gan_demo.ui.common import AppContext
    from gan_demo.ui.sketch import SketchHandlers

    thick = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(thick).line([(40, 60), (40, 200), (240, 200), (200, 120), (120, 100), (100, 60)],
                               fill="black", width=14)
    x = hub_models.edge_image(thick)
    assert x.shape == (1, 3, 256, 256) and set(torch.unique(x).tolist()) == {-1.0, 1.0}
    ink = float((x[0, 0] < 0).float().mean())
    assert 0.005 < ink < 0.05  # the 14-pixel brush reads as a pen line, not a band
    with pytest.raises(UserError, match="canvas is empty"):
        hub_models.edge_image(Image.new("RGB", (100, 100), "white"))

    ctx = AppContext(models=zoo.ModelCache(), pool=TrainerPool(0))
    cards = [*zoo.list_models(kind="sketch"), hub_models.card("hub-pix2pix-edges2shoes")]
    h = SketchHandlers(ctx, cards)
    drawing = Path(__file__).resolve().parent.parent / "examples" / "sketches" / "sneaker.png"
    with monkeypatch.context() as offline:  # the sentence in the caption, the pictures cleared
        offline.setattr(zoo, "hub_reachable", lambda timeout_s=3.0: False)
        with pytest.warns(UserWarning, match="needs a network"):
            assert h.draw("hub-pix2pix-edges2shoes", str(drawing), None, 0, 0)[:3] == (None, None, [])
        with pytest.warns(UserWarning, match="needs a network"):  # said on picking it, before any drawing
            assert "needs a network" in h.draw_when_inked("hub-pix2pix-edges2shoes", None, None, 0, 0)[3]
    monkeypatch.setenv(hub_models.MIRROR_ENV, str(_stand_in(tmp_path / "hub", "hub-pix2pix-edges2shoes")))
    lines, photo, variations, text = h.draw("hub-pix2pix-edges2shoes", str(drawing), "no hint", 0, 2)
    assert lines.shape == photo.shape == (256, 256, 3) and variations == [] and "256 x 256" in text
    assert np.array_equal(photo, h.draw("hub-pix2pix-edges2shoes", str(drawing), None, 5, 0)[1])  # no noise
    with pytest.raises(UserError, match="edges2shoes"):
        h.test_pair("hub-pix2pix-edges2shoes", 0, 0)
    assert h.draw("pix2pix-fashion-sketch", str(drawing), None, 0, 0)[1].shape == (224, 224)  # ours as before
    # The controls fit the model: a shoe at 256 x 256, no hint, noise, variations or training pairs.
    hint, seed, extra, button, read, result, gallery, pairs = h.widgets("hub-pix2pix-edges2shoes")
    assert not any(w.visible for w in (hint, seed, extra, gallery, pairs))
    assert button.value == "Draw the shoe" and "256 x 256" in read.label and result.label == "Shoe"
    hint, seed, extra, button, read, result, gallery, pairs = h.widgets("pix2pix-fashion-sketch")
    assert all(w.visible for w in (hint, seed, extra, gallery, pairs)) and result.label == "Garment"


def test_pggan_has_sefas_keys_and_draws_faces_at_256_with_truncation_in_its_first_features(cache, tmp_path,
                                                                                          monkeypatch):
    from gan_demo import sampling, zoo
    from gan_demo.training.live import TrainerPool
    from gan_demo.ui.common import AppContext
    from gan_demo.ui.explore import ExploreHandlers

    keys = list(PGGANGenerator().state_dict())
    assert keys[:3] == ["lod", "layer0.weight", "layer0.bias"] and keys[-2:] == ["output8.weight", "output8.bias"]
    assert PGGANGenerator().state_dict()["layer0.weight"].shape == (512, 512, 4, 4)  # the 4 x 4 "Dense"
    monkeypatch.setenv(hub_models.MIRROR_ENV, str(_stand_in(tmp_path / "hub", "hub-pggan-celebahq")))
    m = hub_models.load("hub-pggan-celebahq")
    assert isinstance(m.generator, PGGANGenerator) and m.latent_dim == 512
    z = sampling.latents(m, 2, 0, psi=0.5)
    assert torch.equal(z, sampling.latents(m, 2, 0))  # z is not scaled: G truncates inside
    full, half, none = (sampling.render(m, z, psi=p) for p in (1.0, 0.5, 0.0))
    assert full.shape == (2, 256, 256, 3)
    assert not (full == half).all() and (none[0] == none[1]).all()  # psi 0: every z the mean face
    # The 256 x 256 picture is the 1024 x 1024 one, averaged down.
    G = m.generator
    with torch.no_grad():
        G.display_res = None
        big = G(z)
        G.display_res = 256
        assert torch.allclose(torch.nn.functional.avg_pool2d(big, 4), G(z), atol=1e-5)
    # Explore draws at most max_grid faces a request, and says so in the model's summary.
    h = ExploreHandlers(AppContext(models=zoo.ModelCache(), pool=TrainerPool(0)), [hub_models.card("hub-pggan-celebahq")])
    grid = h.explore("hub-pggan-celebahq", 0, 0.7, 16)
    assert grid.shape[0] < 2 * 256 + 20 and grid.shape[1] < 2 * 256 + 20  # 2 x 2 faces, not 4 x 4
    summary = h.describe_model("hub-pggan-celebahq")
    assert "CC BY-NC" in summary and "up to 4 at a time" in summary


def test_fastgan_has_the_few_shot_repos_keys_and_the_same_seed_gives_the_same_picture(cache, tmp_path, monkeypatch):
    import warnings

    from gan_demo import sampling
    from gan_demo.models.huggan import FastGANGenerator

    keys = list(FastGANGenerator().state_dict())
    assert keys[:3] == ["_init._layers.0._conv.weight_orig", "_init._layers.0._conv.weight_u",
                        "_init._layers.0._conv.weight_v"]
    assert "_upsample_8._layers.2._weight" in keys and "_out_1024.0._conv.weight_orig" in keys
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        monkeypatch.setenv(hub_models.MIRROR_ENV, str(_stand_in(tmp_path / "hub", "hub-fastgan-shells")))
        m = hub_models.load("hub-fastgan-shells")
    assert isinstance(m.generator, FastGANGenerator) and m.latent_dim == 256 and not m.generator.training
    z = sampling.latents(m, 2, 0)
    a, b = sampling.render(m, z), sampling.render(m, z)
    assert a.shape == (2, 256, 256, 3) and (a == b).all()  # the noise maps are fixed, not redrawn
    assert not (a[0] == a[1]).all()


def test_hub_models_work_through_the_api(app_url, cache, tmp_path, monkeypatch):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    mirror = tmp_path / "hub"
    for name in ("hub-dcgan-mnist", "hub-fastgan-shells"):
        _stand_in(mirror, name)
    monkeypatch.setenv(hub_models.MIRROR_ENV, str(mirror))
    import numpy as np
    from PIL import Image

    for name, side in (("hub-dcgan-mnist", 64), ("hub-fastgan-shells", 256)):
        path = client.predict(model=name, seed=3, truncation=1.0, grid_size=4, api_name="/explore")
        grid = np.asarray(Image.open(path))
        assert grid.shape[0] >= 2 * side and grid.shape[-1] == 3, (name, grid.shape)
        assert name in client.predict(name, api_name="/describe_model")
    strip, gif, _ = client.predict(model="hub-dcgan-mnist", seed_a=0, seed_b=1, steps=3, mode="slerp",
                                   truncation=1.0, api_name="/interpolate")
    assert np.asarray(Image.open(strip)).shape[-1] == 3 and str(gif).endswith(".gif")
    # Latent tools: GANSpace directions and a sweep (FastGAN's smaller one) through the API.
    table, caption, *_ = client.predict("hub-fastgan-shells", api_name="/pca_components")
    assert len(table["data"]) == 10 and "first 2 components in 3 steps" in caption
    edited, sweep = client.predict("hub-fastgan-shells", 0, 1.0, None, 1.5, *([0.0] * 5), api_name="/pca_edit")
    assert np.asarray(Image.open(sweep)).shape[:2] >= (2 * 256, 3 * 256)


def test_latent_tools_find_pca_directions_in_hub_models_with_a_smaller_sweep_for_slow_ones(cache, tmp_path,
                                                                                            monkeypatch):
    import warnings

    from gan_demo import zoo
    from gan_demo.training.live import TrainerPool
    from gan_demo.ui.common import AppContext
    from gan_demo.ui.latent_tools import N_COMPONENTS, SLOW, LatentToolsHandlers

    import gradio as gr

    names = ["hub-dcgan-mnist", "hub-pggan-celebahq", "hub-fastgan-shells"]
    h = LatentToolsHandlers(AppContext(models=zoo.ModelCache(), pool=TrainerPool(0)),
                            [hub_models.card(n) for n in names])
    # Offline: the caption says so (one warning), and the other controls draw nothing.
    monkeypatch.setattr(zoo, "hub_reachable", lambda timeout_s=3.0: False)
    with pytest.warns(UserWarning, match="needs a network"):
        table, caption, *_ = h.pca_components("hub-fastgan-shells")
    assert len(table) == 0 and "needs a network" in caption
    assert h.pca_edit("hub-fastgan-shells", 0, 1.0, None, *[0.0] * N_COMPONENTS) == (None, None)
    assert h.arithmetic_grid("hub-fastgan-shells", 0, 1.0) == ([], "", "", "")
    mirror = tmp_path / "hub"
    for name in names:
        _stand_in(mirror, name)
    monkeypatch.setenv(hub_models.MIRROR_ENV, str(mirror))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy spectral-norm keys of FastGAN's files
        # PGGAN: PCA on its first 4 x 4 features (LeakyReLU); FastGAN: after its first GLU.
        for name, width in (("hub-pggan-celebahq", 4 * 4 * 512), ("hub-fastgan-shells", None)):
            table, caption, *_ = h.pca_components(name)
            assert len(table) == 10 and (table["share of variance %"] > 0).all()
            assert "first hidden layer" in caption and "first 2 components in 3 steps" in caption
            if width:
                assert f"{width} activations" in caption
        assert h.budget("hub-fastgan-shells") == SLOW and h.budget("hub-dcgan-mnist")["grid"] == 40
        edited, sweep = h.pca_edit("hub-fastgan-shells", 0, 1.0, None, 2.0, *[0.0] * (N_COMPONENTS - 1))
        plain, _ = h.pca_edit("hub-fastgan-shells", 0, 1.0, None, *[0.0] * N_COMPONENTS)
        assert 256 <= edited.shape[0] < 270 and not (edited == plain).all()  # the slider moves the picture
        # A slider moved on a slow model redraws the sample alone; the sweep stays.
        slid, kept = h.pca_slide("hub-fastgan-shells", 0, 1.0, None, 2.0, *[0.0] * (N_COMPONENTS - 1))
        assert (slid == edited).all() and kept == gr.skip()
        assert 2 * 256 <= sweep.shape[0] < 2 * 256 + 30 and 3 * 256 <= sweep.shape[1] < 3 * 256 + 30  # 2 x 3
        grid, *_ = h.arithmetic_grid("hub-fastgan-shells", 0, 1.0)
        assert len(grid) == SLOW["grid"]
        result = h.vector_arithmetic("hub-fastgan-shells", 0, 1.0, "0, 1", "2", "3")
        assert [cap for _, cap in result][3] == "= result" and len(result) == 4 + SLOW["variants"]
