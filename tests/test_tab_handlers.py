"""The tabs' handlers are module-level classes: called here with plain values, no page built."""

from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from gan_demo import zoo
from gan_demo.errors import UserError
from gan_demo.training.live import TrainerPool
from gan_demo.ui.common import AppContext
from gan_demo.ui.conditional import ConditionalHandlers
from gan_demo.ui.explore import N_SLIDERS, ExploreHandlers
from gan_demo.ui.interpolate import InterpolateHandlers
from gan_demo.ui.sketch import SketchHandlers
from gan_demo.ui.translate import TranslateHandlers

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ctx():
    return AppContext(models=zoo.ModelCache(), pool=TrainerPool(0))


@pytest.fixture(scope="module")
def cards():
    return zoo.list_models()


def test_explore_samples_moves_with_a_slider_and_refuses_bad_values(ctx, cards):
    h = ExploreHandlers(ctx, cards)
    name = "dcgan-fashion"
    zeros = [0.0] * N_SLIDERS
    grid = h.explore(name, 3, 1.0, 4, *zeros)
    assert grid.ndim == 2 and grid.std() > 5  # grey garments on a white grid
    assert np.array_equal(grid, h.explore(name, 3, 1.0, 4, *zeros))  # a seed is a picture
    moved = h.explore(name, 3, 1.0, 4, 2.5, *zeros[1:])
    assert np.abs(moved.astype(int) - grid).mean() > 1
    *sliders, again = h.reset_latents(name, 3, 1.0, 4)
    assert sliders == zeros and np.array_equal(again, grid)
    seed, _ = h.new_seed(name, 1.0, 4, *zeros)
    assert isinstance(seed, int)
    assert "Frechet distance" in h.describe_model(name)
    with pytest.raises(UserError, match="Truncation"):
        h.explore(name, 3, float("nan"), 4, *zeros)
    with pytest.raises(UserError, match="model"):
        h.explore("no-such-model", 3, 1.0, 4)
    with pytest.raises(UserError, match="Fine seeds"):
        h.style_mix("stylegan-fashion", "1, 2", "", 2, 1.0)


def test_interpolate_conditional_and_their_class_pickers(ctx, cards):
    h = InterpolateHandlers(ctx, cards)
    strip, gif, download = h.interpolate("cgan-digits", 0, 1, 4, "slerp", 1.0, "3", "8", 12)
    assert strip.ndim in (2, 3) and Path(gif).suffix == ".gif" and gif == download
    a, b, strip, *_ = h.new_seeds("dcgan-fashion", 0, 1, 3, "lerp", 1.0, None, None, 12)
    assert np.array_equal(strip, h.interpolate("dcgan-fashion", a, b, 3, "lerp", 1.0, None, None, 12)[0])
    with pytest.raises(UserError, match="Steps"):
        h.interpolate("dcgan-fashion", 0, 1, 1000, "slerp", 1.0)

    c = ConditionalHandlers(ctx, cards)
    assert set(c.names) == {"cgan-digits", "cgan-fashion"}
    sevens = c.conditional("cgan-digits", "7", 4, 0, 1.0)
    assert sevens.ndim in (2, 3) and not np.array_equal(sevens, c.conditional("cgan-digits", "1", 4, 0, 1.0))
    assert c.class_grid("cgan-fashion", 0, 2, 1.0).ndim in (2, 3)
    picker, text = c.model_classes("cgan-fashion")
    assert "Sneaker" in text
    with pytest.raises(UserError, match="class"):
        c.conditional("cgan-digits", "eleven", 4, 0, 1.0)


def test_translate_and_sketch_handlers_give_pictures_and_sentences(ctx, tmp_path):
    t = TranslateHandlers(ctx, zoo.list_models(kind="translation"))
    photo = sorted((ROOT / "examples" / "horse2zebra").glob("horse*.jpg"))[0]
    (before, after), rec, err, stats = t.translate("cyclegan-horse2zebra", "AtoB", str(photo))
    assert before.shape == after.shape == rec.shape and "PSNR" in stats
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a photo")
    out = t.translate_on_change("cyclegan-horse2zebra", "AtoB", str(bad))
    assert out[:4] == (None, None, None, None) and isinstance(out[4], str) and out[5][0] == str(bad)
    # the photo box's echo of the same refused file is skipped; the same file later is tried again
    assert all(v == gr.skip() for v in t.translate_on_change("cyclegan-horse2zebra", "AtoB", str(bad), out[5]))
    again = t.translate_on_change("cyclegan-horse2zebra", "AtoB", str(bad), (str(bad), out[5][1] - 60))
    assert again[4] == out[4]
    with pytest.raises(UserError, match="Add one or more photos"):
        t.translate_batch("cyclegan-horse2zebra", "AtoB", [])
    with pytest.raises(UserError, match="direction"):
        t.translate("cyclegan-horse2zebra", "sideways", str(photo))

    s = SketchHandlers(ctx, zoo.list_models(kind="sketch"))
    drawing = sorted((ROOT / "examples" / "sketches").glob("*.png"))[0]
    lines, garment, variations, text = s.draw("pix2pix-fashion-sketch", str(drawing), "no hint", 0, 2)
    assert lines.shape == garment.shape == (224, 224) and len(variations) == 2 and "ink pixels" in text
    blank = tmp_path / "blank.png"
    Image.new("RGB", (64, 64), "white").save(blank)
    assert s.draw("pix2pix-fashion-sketch", str(blank), None, 0, 0)[3].startswith("The canvas is empty")
    with pytest.raises(UserError, match="Variations"):
        s.draw("pix2pix-fashion-sketch", str(drawing), None, 0, 99)
    assert "Test image 5" in s.test_pair("pix2pix-fashion-sketch", 5, 0)[3]


def test_latent_tools_edit_along_a_component_and_do_arithmetic(ctx, cards):
    from gan_demo.ui.latent_tools import N_COMPONENTS, LatentToolsHandlers, toggle_pick

    h = LatentToolsHandlers(ctx, cards)
    still, sweep = h.pca_edit("dcgan-fashion", 0, 1.0, None, *[0.0] * N_COMPONENTS)
    moved, _ = h.pca_edit("dcgan-fashion", 0, 1.0, None, 3.0, *[0.0] * (N_COMPONENTS - 1))
    assert np.abs(moved.astype(int) - still).mean() > 1 and sweep.shape[0] > still.shape[0]
    table, caption, picker, *sliders = h.pca_components("dcgan-fashion")
    assert len(table) == 10 and "PCA of" in caption and len(sliders) == N_COMPONENTS
    gallery, *boxes = h.arithmetic_grid("dcgan-fashion", 0, 1.0)
    assert len(gallery) == 40 and boxes == ["", "", ""]
    assert len(h.vector_arithmetic("dcgan-fashion", 0, 1.0, "1, 2", "3", "4")) >= 4
    assert toggle_pick("B", ("1", "", ""), 5) == ("1", "5", "")
    assert toggle_pick("A", ("1, 5", "", ""), 5) == ("1", "", "")
    with pytest.raises(UserError, match="Component 1"):
        h.pca_edit("dcgan-fashion", 0, 1.0, None, 99.0)


def test_the_image_runs_other_controls_refuse_before_a_run(ctx):
    from gan_demo.ui import train_images

    h = train_images.handlers(ctx)
    with pytest.raises(UserError, match="Nothing to save yet"):
        h.save(None, "mine", [])
    with pytest.raises(UserError, match="Nothing to export yet"):
        h.export_gif(None)
    assert h.view(None)[-1] is not None  # the poll goes quiet instead of failing


def test_before_a_run_the_views_show_step_0_of_the_settings_on_screen(ctx):
    from dataclasses import asdict

    from gan_demo.training.image_config import ImageConfig
    from gan_demo.training.toy import ToyTrainConfig
    from gan_demo.ui import train, train_images
    import gradio as gr

    from gan_demo.ui.versus import VersusHandlers

    toy = train.handlers(ctx)
    values = {k: v for k, v in asdict(ToyTrainConfig()).items() if k in toy.fields}
    ring = toy.preview(None, *values.values(), None)
    green = (ring[..., 1] > ring[..., 0] + 40) & (ring[..., 1] > ring[..., 2] + 10)
    purple = (ring[..., 0] > ring[..., 1] + 30) & (ring[..., 2] > ring[..., 1] + 30)
    assert green.sum() > 100 and purple.sum() > 20  # the real ring and G's first points
    # Another data set draws another picture; a drawing not yet made keeps what is shown.
    assert not np.array_equal(toy.preview(None, *{**values, "dataset": "spiral"}.values(), None), ring)
    assert toy.preview(None, *{**values, "dataset": "custom"}.values(), None) == gr.skip()

    images = train_images.handlers(ctx)
    grid_values = {k: v for k, v in asdict(ImageConfig()).items() if k in images.fields}
    grid = images.preview(None, *grid_values.values())
    assert grid.shape[0] > 200 and 100 < grid.mean() < 250  # 64 grey tiles of an untrained G on white
    assert not np.array_equal(images.preview(None, *{**grid_values, "seed": 1}.values()), grid)

    a, b = VersusHandlers.preview(None, "mbd", "toy", "ring8", "dcgan", 0, "minibatch_disc", "off", "on")
    assert a.shape == b.shape == ring.shape


def test_the_lesson_text_says_when_the_settings_on_screen_are_no_longer_the_lessons():
    from gan_demo.training.lessons import LESSONS
    from gan_demo.ui import train

    key, lesson = next(iter(LESSONS.items()))
    values = {f: getattr(lesson.config(), f) for f in train.FIELDS}
    assert train.lesson_text(key, *values.values()) == lesson.text
    assert train.lesson_text(key, *{**values, "seed": 7}.values()) == lesson.text  # Reset moves the seed
    other = "hinge" if values["loss"] != "hinge" else "ns"
    text = train.lesson_text(key, *{**values, "loss": other, "batch_size": float(values["batch_size"])}.values())
    assert text.startswith("_You changed Loss since this lesson loaded") and text.endswith(lesson.text)
    assert train.lesson_text(None, *values.values()) == train.LESSON_PROMPT


def test_switching_versus_to_images_loads_an_image_preset_with_a_difference_images_take():
    from gan_demo.training.versus import PRESETS, make_pair, base_config
    from gan_demo.ui.versus import VersusHandlers

    key, text, mode, dataset, model, seed, difference, a, b = VersusHandlers.mode_choices("images")
    assert mode == "images" and dataset["value"] in ("fashion", "mnist") and model["visible"]
    assert difference not in ("minibatch_disc", "n_discriminators") and text == PRESETS[key].text
    make_pair(base_config("images", key, dataset["value"], model["value"], seed), difference, a["value"], b["value"])
    assert VersusHandlers.mode_choices("toy")[2] == "toy"


def test_explores_list_keeps_the_hub_models_after_a_save_and_drops_a_fetched_ones_network_mark(ctx, cards,
                                                                                                 monkeypatch, tmp_path):
    from types import SimpleNamespace

    from gan_demo import hub_models
    from gan_demo.ui import train_images
    from gan_demo.ui.explore import Menu

    hub = [hub_models.card(n) for n in hub_models.names("sample")]
    menu = Menu(dropdown=None, saved=None, cards=cards + hub)
    monkeypatch.setattr(hub_models, "is_cached", lambda name: False)
    offline = {value: label for label, value in menu.entries()}
    assert all(offline[c["name"]].endswith("(Hub, needs a network)") for c in hub)
    monkeypatch.setattr(hub_models, "is_cached", lambda name: True)  # fetched since the page opened
    assert all({v: label for label, v in menu.entries()}[c["name"]] == f"{c['name']} (Hub)" for c in hub)

    # Saving a live run adds it to the list, which keeps every model it had (the Hub ones included).
    h = train_images.handlers(ctx)
    h.menu = menu.entries
    weights = tmp_path / "mine.safetensors"
    state = SimpleNamespace(trainer=SimpleNamespace(published=SimpleNamespace(config=SimpleNamespace(model="dcgan"))),
                            save_to_zoo=lambda folder, name: (weights, {}))
    monkeypatch.setattr(ctx.models, "add_file", lambda *a, **k: None)
    files, names, update, note = h.save(state, "mine", [])
    listed = [value for _, value in update["choices"]]
    assert listed[:len(cards) + len(hub)] == [c["name"] for c in cards + hub] and listed[-1] == names[0]
    assert names[0].startswith("mine-") and names[0] in note
