"""The Conditional and Interpolate tabs through their public API."""

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

