"""Uploads of every kind become a sane array or one sentence (gan_demo/images.py)."""

import io

import numpy as np
import pytest
from PIL import Image

from gan_demo.errors import UserError
from gan_demo.images import MAX_PIXELS, WORK_PIXELS, open_image, to_mnist_style


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def dark_square_on_white(mode="RGB", size=(80, 60)):
    arr = np.full((size[1], size[0], 3), 255, np.uint8)
    arr[20:40, 30:50] = 0
    return Image.fromarray(arr).convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "CMYK", "LA", "1", "I;16", "I", "F"])
def test_every_mode_opens_as_rgb_rgba_or_grey(mode):
    img = open_image(dark_square_on_white(mode))
    assert img.mode in ("RGB", "RGBA", "L") and img.size == (80, 60)


def test_sixteen_bit_png_keeps_its_contrast():
    arr = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    img = open_image(encode(Image.fromarray(arr), "PNG"))
    a = np.asarray(img)
    assert a.dtype == np.uint8 and a.min() == 0 and a.max() == 255


def test_exif_rotation_is_applied():
    img = dark_square_on_white(size=(80, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    out = open_image(encode(img, "JPEG", exif=exif.tobytes()))
    assert out.size == (40, 80)


def test_huge_images_are_downscaled_to_the_work_budget():
    img = Image.new("L", (5000, 2000), 255)
    out = open_image(encode(img, "PNG"))
    assert out.width * out.height <= WORK_PIXELS and abs(out.width / out.height - 2.5) < 0.01


@pytest.mark.parametrize("data, message", [
    (b"not an image at all", "not an image"),
    (b"", "not an image"),
    (None, "No image given"),
])
def test_garbage_gets_one_sentence(data, message):
    with pytest.raises(UserError, match=message):
        open_image(data)


def test_truncated_jpeg_gets_one_sentence():
    data = encode(Image.new("RGB", (256, 256), (200, 10, 10)), "JPEG")
    with pytest.raises(UserError, match="truncated or corrupt"):
        open_image(data[: len(data) // 3])


def test_decompression_bomb_is_refused_before_decoding():
    # A PNG header claiming 20,000 x 20,000 pixels: refused from the header, nothing is decoded.
    data = encode(Image.new("1", (20_000, 20_000)), "PNG")
    assert len(data) < 200_000
    with pytest.raises(UserError, match="megapixels|too large"):
        open_image(data)
    assert 20_000 * 20_000 > MAX_PIXELS


def test_missing_upload_path_gets_one_sentence(tmp_path):
    with pytest.raises(UserError, match="missing"):
        open_image(str(tmp_path / "gone.png"))


@pytest.mark.parametrize("arr, message", [
    (np.zeros((0, 5)), "must be"),
    (np.zeros((4, 4, 2)), "must be"),
    (np.zeros(7), "must be"),
])
def test_bad_arrays_get_one_sentence(arr, message):
    with pytest.raises(UserError, match=message):
        open_image(arr)


def test_float_and_nan_arrays_are_converted():
    arr = np.full((10, 10), np.nan)
    arr[2:5] = 0.5
    assert np.asarray(open_image(arr)).dtype == np.uint8


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "CMYK", "P"])
def test_a_dark_object_on_white_becomes_a_light_centred_object_on_black(mode):
    out = to_mnist_style(encode(dark_square_on_white(mode if mode != "RGBA" else "RGB").convert(mode),
                                "PNG" if mode != "CMYK" else "JPEG"))
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert out[0].max() < 40 and out[:, 0].max() < 40  # black border
    assert out[10:18, 10:18].mean() > 180  # light object in the middle


def test_a_sketch_on_a_transparent_canvas_reads_as_ink():
    canvas = np.zeros((300, 300, 4), np.uint8)
    canvas[100:200, 140:160] = (0, 0, 0, 255)  # a black vertical stroke, the rest transparent
    out = to_mnist_style(canvas)
    assert out[4:24, 12:16].mean() > 150 and out[:, :6].max() < 40


def test_a_blank_canvas_gives_a_black_image_not_an_error():
    assert to_mnist_style(np.zeros((50, 50, 4), np.uint8)).max() == 0
