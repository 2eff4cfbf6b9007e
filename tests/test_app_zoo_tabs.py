"""The Conditional and Interpolate tabs through their public API."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from test_app_api import _raw_call, image_of


def test_new_endpoints_are_named(client):
    names = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert {"/conditional", "/class_grid", "/conditional_new_seed", "/conditional_classes",
            "/interpolate", "/interpolate_new_seeds", "/interpolate_classes"} <= names


def test_conditional_draws_the_asked_class_deterministically(client):
    a = image_of(client.predict("cgan-fashion", "Sneaker", 4, 3, 1.0, api_name="/conditional"))
    b = image_of(client.predict("cgan-fashion", "Sneaker", 4, 3, 1.0, api_name="/conditional"))
    c = image_of(client.predict("cgan-fashion", "Trouser", 4, 3, 1.0, api_name="/conditional"))
    assert a.shape == (62, 62) and np.array_equal(a, b) and not np.array_equal(a, c)


def test_class_grid_has_a_column_per_class(client):
    g = image_of(client.predict("cgan-digits", 0, 3, 1.0, api_name="/class_grid"))
    assert g.shape == (3 * 30 + 2, 10 * 30 + 2)


def test_conditional_classes_follow_the_model(client):
    update, text = client.predict("cgan-digits", api_name="/conditional_classes")
    assert "**0**" in text and "**9**" in text


@pytest.mark.parametrize("args, message", [
    (("cgan-fashion", "Sneakers", 4, 1, 1.0), "Unknown class 'Sneakers'"),
    (("cgan-digits", "10", 4, 1, 1.0), "Unknown class '10'"),
    (("dcgan-fashion", "1", 4, 1, 1.0), "Unknown model"),
    (("cgan-digits", "1", 1000, 1, 1.0), "Number of samples must be between 1 and 64"),
])
def test_conditional_bad_input_gets_one_sentence(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/conditional")


def test_conditional_nan_over_raw_http(app_url):
    stream = _raw_call(app_url, '{"data": ["cgan-digits", "3", NaN, 1, 1.0]}', "conditional")
    assert "event: error" in stream and "finite" in stream and "Traceback" not in stream


def test_interpolate_returns_strip_and_animated_gif(client):
    strip, gif, download = client.predict("dcgan-fashion", 1, 2, 6, "slerp", 1.0, None, None, 10,
                                          api_name="/interpolate")
    assert image_of(strip).shape == (32, 6 * 30 + 2)
    img = Image.open(gif)
    assert img.format == "GIF" and img.n_frames == 6 + 4
    assert open(gif, "rb").read() == open(download, "rb").read()
    assert Path(download).name == "dcgan-fashion_seeds-1-2_slerp.gif"  # what the browser saves it as


def test_interpolate_between_classes_of_a_conditional_model(client):
    strip, _, _ = client.predict("cgan-digits", 4, 4, 2, "lerp", 1.0, "1", "7", 10, api_name="/interpolate")
    s = image_of(strip)
    one = image_of(client.predict("cgan-digits", "1", 1, 4, 1.0, api_name="/conditional"))
    seven = image_of(client.predict("cgan-digits", "7", 1, 4, 1.0, api_name="/conditional"))
    assert np.array_equal(s[:, :32], one) and np.array_equal(s[:, 30:], seven)


@pytest.mark.parametrize("args, message", [
    (("dcgan-fashion", 1, 2, 1, "slerp", 1.0, None, None, 10), "Steps must be between 2 and 64"),
    (("dcgan-fashion", 1, 2, 6, "spline", 1.0, None, None, 10), "Unknown interpolation 'spline'"),
    (("cgan-digits", 1, 2, 6, "slerp", 1.0, "x", "1", 10), "Unknown class 'x'"),
    (("dcgan-fashion", 1, 2, 6, "slerp", 1.0, None, None, 0), "Frames per second must be between"),
])
def test_interpolate_bad_input_gets_one_sentence(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/interpolate")


def test_style_mix_endpoint_lays_out_the_table(client):
    table = image_of(client.predict("stylegan-fashion", "1, 2", "3,4,5", 2, 1.0, api_name="/style_mix"))
    assert table.shape == (3 * 30 + 2, 4 * 30 + 2)
    other = image_of(client.predict("stylegan-fashion", "1, 2", "3,4,5", 5, 1.0, api_name="/style_mix"))
    assert not np.array_equal(table, other)


@pytest.mark.parametrize("args, message", [
    (("stylegan-fashion", "", "3", 2, 1.0), "Coarse seeds: give 1 to 8 seeds"),
    (("stylegan-fashion", "1,2,3,4,5,6,7,8,9", "3", 2, 1.0), "give 1 to 8 seeds"),
    (("stylegan-fashion", "1", "x", 2, 1.0), "Seed must be a number"),
    (("stylegan-fashion", "1", "2", 99, 1.0), "Crossover must be between"),
    (("dcgan-fashion", "1", "2", 2, 1.0), "style mixing needs a StyleGAN"),
])
def test_style_mix_bad_input(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/style_mix")


def _png(tmp_path, arr, name="in.png", mode=None):
    path = tmp_path / name
    Image.fromarray(arr).convert(mode or ("L" if arr.ndim == 2 else "RGB")).save(path)
    return str(path)


def test_encode_image_reconstructs_an_upload_and_the_sliders_edit_it(client, tmp_path):
    from gradio_client import handle_file

    photo = np.full((200, 160, 3), 240, np.uint8)
    photo[40:170, 50:110] = (30, 30, 90)  # a dark "trouser" on a light ground
    zeros = [0.0] * 16
    # The latent itself stays in the session (gr.State); the API returns the strip.
    strip = client.predict("vaegan-fashion", handle_file(_png(tmp_path, photo)), *zeros, api_name="/encode_image")
    s = image_of(strip)
    assert s.shape == (32, 3 * 30 + 2)
    assert s[2:30, 2:30].mean() > 30  # the input as the model sees it: light on black
    shifted = client.predict("vaegan-fashion", handle_file(_png(tmp_path, photo)), *([3.0] + zeros[1:]),
                             api_name="/encode_image")
    e = image_of(shifted)
    assert np.array_equal(e[:, :62], s[:, :62]) and not np.array_equal(e[:, 60:], s[:, 60:])


@pytest.mark.parametrize("content, message", [
    (b"this is not an image", "not an image"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "not an image|truncated or corrupt"),
])
def test_encode_image_refuses_broken_uploads_with_one_sentence(client, tmp_path, content, message):
    from gradio_client import handle_file

    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(Exception, match=message):
        client.predict("vaegan-fashion", handle_file(str(path)), *([0.0] * 16), api_name="/encode_image")
    assert client.predict("dcgan-fashion", 1, 1.0, 1, *([0.0] * 16), api_name="/explore")


def test_encode_image_on_a_model_without_encoder(client, tmp_path):
    from gradio_client import handle_file

    with pytest.raises(Exception, match="has no encoder"):
        client.predict("dcgan-fashion", handle_file(_png(tmp_path, np.zeros((28, 28), np.uint8))),
                       *([0.0] * 16), api_name="/encode_image")


def test_latent_tools_endpoints_are_named(client):
    names = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert {"/pca_edit", "/pca_components", "/arithmetic_grid", "/vector_arithmetic",
            "/latent_new_seed"} <= names


def test_pca_components_table_and_slider_labels(client):
    table, caption, _, *sliders = client.predict("stylegan-fashion", api_name="/pca_components")
    rows = table["data"]
    assert len(rows) == 10 and rows[0][0] == "PC1"
    shares = [r[1] for r in rows]
    assert shares == sorted(shares, reverse=True) and rows[-1][2] <= 100.0
    assert "w = mapping(z)" in caption


def test_pca_edit_at_zero_is_the_explore_sample(client):
    edited, sweep = client.predict("dcgan-fashion", 4, 1.0, None, *([0.0] * 6), api_name="/pca_edit")
    plain = client.predict("dcgan-fashion", 4, 1.0, 1, *([0.0] * 16), api_name="/explore")
    assert np.array_equal(image_of(edited), image_of(plain))
    assert image_of(sweep).shape == (6 * 30 + 2, 5 * 30 + 2)
    moved, _ = client.predict("dcgan-fashion", 4, 1.0, None, 2.0, *([0.0] * 5), api_name="/pca_edit")
    assert not np.array_equal(image_of(moved), image_of(edited))


def test_vector_arithmetic_through_the_api(client):
    gallery, a, b, c = client.predict("cgan-digits", 0, 1.0, api_name="/arithmetic_grid")
    assert len(gallery) == 40 and (a, b, c) == ("", "", "")
    assert [item["caption"] for item in gallery[:3]] == ["0", "1", "2"]
    result = client.predict("cgan-digits", 0, 1.0, "1, 11, 21", "11, 21, 31", "7, 17, 27",
                            api_name="/vector_arithmetic")
    assert [item["caption"] for item in result[:4]] == ["mean(A)", "− mean(B)", "+ mean(C)", "= result"]
    assert len(result) == 12


@pytest.mark.parametrize("args, message", [
    (("dcgan-fashion", 0, 1.0, "", "1", "2"), "Pick at least one sample for A"),
    (("dcgan-fashion", 0, 1.0, "1", "two", "2"), "B must list grid numbers"),
    (("dcgan-fashion", 0, 1.0, "1", "2", "40"), "C: grid numbers go from 0 to 39"),
    (("nope", 0, 1.0, "1", "2", "3"), "Unknown model"),
])
def test_vector_arithmetic_bad_input(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/vector_arithmetic")


def test_pca_edit_bad_input(client):
    with pytest.raises(Exception, match="Component 1 must be between -5 and 5"):
        client.predict("dcgan-fashion", 4, 1.0, None, 9.0, *([0.0] * 5), api_name="/pca_edit")
    with pytest.raises(Exception, match="Unknown class"):
        client.predict("cgan-fashion", 4, 1.0, "Hat", *([0.0] * 6), api_name="/pca_edit")


EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "horse2zebra"


def test_translate_keeps_the_photo_size_and_reports_the_cycle(client, tmp_path):
    from gradio_client import handle_file

    photo = tmp_path / "wide horse.png"
    Image.open(sorted(EXAMPLES.glob("horse_*.jpg"))[0]).resize((300, 180)).save(photo)
    pair, rec, err, stats = client.predict("cyclegan-horse2zebra", "AtoB", handle_file(str(photo)),
                                           api_name="/translate")
    before, after = (Image.open(p["path"] if isinstance(p, dict) else p) for p in pair)
    assert before.size == after.size == (300, 180)
    assert image_of(rec).shape[:2] == image_of(err).shape[:2] == (180, 300)
    assert "300 x 180 input, its change computed at 184 x 112 and laid onto the photo" in stats and "PSNR" in stats


@pytest.mark.parametrize("content, message", [
    (b"this is not an image", "not an image"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "not an image|truncated or corrupt"),
])
def test_translate_refuses_broken_uploads(client, tmp_path, content, message):
    from gradio_client import handle_file

    path = tmp_path / "broken.jpg"
    path.write_bytes(content)
    with pytest.raises(Exception, match=message):
        client.predict("cyclegan-horse2zebra", "AtoB", handle_file(str(path)), api_name="/translate")


def test_translate_batch_skips_what_it_cannot_read(client, tmp_path):
    import zipfile

    from gradio_client import handle_file

    (tmp_path / "junk.png").write_bytes(b"junk")
    files = [handle_file(str(sorted(EXAMPLES.glob("zebra_*.jpg"))[0])), handle_file(str(tmp_path / "junk.png"))]
    gallery, archive = client.predict("cyclegan-horse2zebra", "BtoA", files, api_name="/translate_batch")
    assert Path(archive).name == "cyclegan-horse2zebra_Zebra-horse.zip"
    captions = [item["caption"] for item in gallery]
    assert captions[0].startswith("zebra_") and captions[1].startswith("junk: ")
    with zipfile.ZipFile(archive) as zf:
        assert [n for n in zf.namelist()] == [captions[0] + ".png"]


def test_official_weights_offline_is_one_sentence(client, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path))
    with pytest.raises(Exception, match="Could not download the official CycleGAN weights"):
        client.predict(api_name="/download_official")
    with pytest.raises(Exception, match="not downloaded yet"):
        client.predict("official-horse2zebra", "AtoB", handle_file_example(), api_name="/translate")


def handle_file_example():
    from gradio_client import handle_file

    return handle_file(str(sorted(EXAMPLES.glob("horse_*.jpg"))[0]))


SKETCHES = Path(__file__).resolve().parent.parent / "examples" / "sketches"


def _canvas(path):
    """A Sketchpad value as the browser sends it: the drawing as the composite."""
    from gradio_client import handle_file

    return {"background": None, "layers": [], "composite": handle_file(str(path))}


def test_sketch_draws_a_garment_and_its_variations(client):
    lines, garment, variations, text = client.predict(
        "pix2pix-fashion-sketch", _canvas(SKETCHES / "trouser.png"), "no hint", 5, 3, api_name="/sketch")
    assert image_of(lines).shape[:2] == image_of(garment).shape[:2] == (224, 224)
    assert len(variations) == 3 and "ink pixels" in text
    again = client.predict("pix2pix-fashion-sketch", _canvas(SKETCHES / "trouser.png"), "no hint", 5, 0,
                           api_name="/sketch")
    assert np.array_equal(image_of(again[1]), image_of(garment)) and again[2] == []
    hinted = client.predict("pix2pix-fashion-sketch", _canvas(SKETCHES / "trouser.png"), "Bag", 5, 0,
                            api_name="/sketch")
    assert "hint **Bag**" in hinted[3]


@pytest.mark.parametrize("colour", ["white", "black"])
def test_sketch_on_an_empty_canvas_says_so_in_the_caption(client, tmp_path, colour):
    # An empty canvas is not an error (the page would put an Error badge on every output): the
    # outputs stay empty and the caption says what to do.
    path = tmp_path / "drawing.png"
    Image.new("RGB", (280, 280), colour).save(path)
    lines, garment, variations, text = client.predict(
        "pix2pix-fashion-sketch", _canvas(path), "no hint", 0, 1, api_name="/sketch")
    assert lines is None and garment is None and variations == []
    assert "canvas is empty" in text


@pytest.mark.parametrize("make, args, message", [
    (lambda p: p.write_bytes(b"not an image"), ("no hint", 0, 1), "not an image"),
    (lambda p: Image.open(SKETCHES / "bag.png").save(p), ("Hat", 0, 1), "Unknown class hint"),
    (lambda p: Image.open(SKETCHES / "bag.png").save(p), ("no hint", "x", 1), "Seed"),
    (lambda p: Image.open(SKETCHES / "bag.png").save(p), ("no hint", 0, 50), "Variations"),
])
def test_sketch_refuses_bad_input_with_one_sentence(client, tmp_path, make, args, message):
    path = tmp_path / "drawing.png"
    make(path)
    with pytest.raises(Exception, match=message):
        client.predict("pix2pix-fashion-sketch", _canvas(path), *args, api_name="/sketch")


def test_sketch_shows_a_real_test_pair(client):
    lines, out, real, caption = client.predict("pix2pix-fashion-sketch", 7, 0, api_name="/sketch_test_pair")
    assert image_of(lines).shape[:2] == image_of(out).shape[:2] == image_of(real).shape[:2] == (224, 224)
    assert caption.startswith("Test image 7: a **")
    with pytest.raises(Exception, match="Test image must be between 0 and 9999"):
        client.predict("pix2pix-fashion-sketch", 10_000, 0, api_name="/sketch_test_pair")
