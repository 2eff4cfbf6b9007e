"""The Explore tab through its public API, as gradio_client (and any other tool) calls it."""

import json
import urllib.request

import numpy as np
import pytest
from gradio_client import Client
from PIL import Image

ZEROS = [0.0] * 16


def image_of(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_api_lists_named_endpoints(client):
    names = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert {"/explore", "/new_seed", "/reset_latents", "/describe_model"} <= names


def test_explore_is_deterministic_and_the_sliders_change_the_image(client):
    a = image_of(client.predict("dcgan-fashion", 5, 1.0, 4, *ZEROS, api_name="/explore"))
    b = image_of(client.predict("dcgan-fashion", 5, 1.0, 4, *ZEROS, api_name="/explore"))
    shifted = [2.5] + ZEROS[1:]
    c = image_of(client.predict("dcgan-fashion", 5, 1.0, 4, *shifted, api_name="/explore"))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_grid_size_sets_the_number_of_tiles(client):
    one = image_of(client.predict("dcgan-fashion", 1, 1.0, 1, *ZEROS, api_name="/explore"))
    many = image_of(client.predict("dcgan-fashion", 1, 1.0, 64, *ZEROS, api_name="/explore"))
    # native resolution: 28 px tiles with 2 px gutters (the page scales it up)
    assert one.shape == (32, 32) and many.shape == (8 * 30 + 2, 8 * 30 + 2)


def test_new_seed_returns_a_seed_and_its_image(client):
    seed, path = client.predict("dcgan-fashion", 1.0, 1, *ZEROS, api_name="/new_seed")
    direct = client.predict("dcgan-fashion", seed, 1.0, 1, *ZEROS, api_name="/explore")
    assert np.array_equal(image_of(path), image_of(direct))


def test_reset_latents_zeroes_every_slider(client):
    *values, path = client.predict("dcgan-fashion", 3, 1.0, 1, api_name="/reset_latents")
    assert values == ZEROS and image_of(path).ndim == 2


@pytest.mark.parametrize("args, message", [
    (("no-such-model", 1, 1.0, 1), "no-such-model"),
    (("dcgan-fashion", -1, 1.0, 1), "Seed must be between 0 and 4294967295"),
    (("dcgan-fashion", 2**40, 1.0, 1), "Seed must be between"),
    (("dcgan-fashion", 1, 1.0, 0), "Grid size must be between 1 and 64"),
    (("dcgan-fashion", 1, 1.0, 10_000), "Grid size must be between 1 and 64"),
    (("dcgan-fashion", 1, 9.0, 1), "Truncation must be between 0 and 2"),
    (("dcgan-fashion", 1.5, 1.0, 1), "whole number"),
])
def test_bad_values_get_one_clear_message(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, *ZEROS, api_name="/explore")


def _raw_call(app_url, payload: str, endpoint: str = "explore"):
    """POST a hand-written JSON body (NaN and strings that no well-behaved client sends)."""
    req = urllib.request.Request(f"{app_url}gradio_api/call/{endpoint}", data=payload.encode(),
                                 headers={"Content-Type": "application/json"})
    event = json.loads(urllib.request.urlopen(req, timeout=30).read())["event_id"]
    with urllib.request.urlopen(f"{app_url}gradio_api/call/{endpoint}/{event}", timeout=60) as r:
        return r.read().decode()


@pytest.mark.parametrize("values, message", [
    ('["dcgan-fashion", NaN, 1.0, 1', "Seed must be a finite number"),
    ('["dcgan-fashion", 1, Infinity, 1', "finite"),
    ('["dcgan-fashion", "seven", 1.0, 1', "number"),
    ('["dcgan-fashion", 1, 1.0, null', "Grid size must be a number"),
])
def test_nan_inf_and_wrong_types_through_raw_http_are_refused_clearly(app_url, client, values, message):
    body = '{"data": ' + values + ', ' + ", ".join(["0.0"] * 16) + "]}"
    stream = _raw_call(app_url, body)
    assert "event: error" in stream and message in stream, stream
    assert "Traceback" not in stream
    # and the app keeps serving
    assert client.predict("dcgan-fashion", 1, 1.0, 1, *ZEROS, api_name="/explore")


def test_sessions_do_not_share_state(app_url):
    a, b = Client(app_url, verbose=False), Client(app_url, verbose=False)
    ia = image_of(a.predict("dcgan-fashion", 1, 1.0, 1, *([3.0] + ZEROS[1:]), api_name="/explore"))
    ib = image_of(b.predict("dcgan-fashion", 1, 1.0, 1, *ZEROS, api_name="/explore"))
    ia2 = image_of(a.predict("dcgan-fashion", 1, 1.0, 1, *ZEROS, api_name="/explore"))
    assert np.array_equal(ib, ia2) and not np.array_equal(ia, ib)


TRAIN_OK = ["ring8", "ns", False, False, 1, "adam", 1e-3, 1e-3, 64, 2, "gaussian", 2, 32, 0, 1, "mean", 0]


@pytest.mark.parametrize("values, message", [
    ('["ring8", "ns", false, false, 1, "adam", NaN, 0.001, 64, 2, "gaussian", 2, 32, 0, 1, "mean", 0]', "(lr_d) must be a finite"),
    ('["ring8", "ns", false, false, 1, "adam", 1e9, 0.001, 64, 2, "gaussian", 2, 32, 0, 1, "mean", 0]', "(lr_d) must be between"),
    ('["ring8", "ns", false, false, 1, "adam", 0.001, 0.001, 0, 2, "gaussian", 2, 32, 0, 1, "mean", 0]', "(batch_size) must be between"),
    ('["ring8", "ns", false, false, 1, "adam", 0.001, 0.001, 64, 2, "gaussian", 10000, 32, 0, 1, "mean", 0]', "hidden_layers"),
    ('["ring8", "ns", "yes", false, 1, "adam", 0.001, 0.001, 64, 2, "gaussian", 2, 32, 0, 1, "mean", 0]', "true or false"),
    ('["ring8", "ns", false, false, 1, "adam", 0.001, 0.001, 64, 2, "gaussian", 2, 32, NaN, 1, "mean", 0]', "(seed) must be a finite"),
    ('["custom", "ns", false, false, 1, "adam", 0.001, 0.001, 64, 2, "gaussian", 2, 32, 0, 1, "mean", 0]', "Draw"),
    ('["ring8", "ns", false, false, 1, "adam", 0.001, 0.001, 64, 2, "gaussian", 2, 32, 0, 99, "mean", 0]',
     "(n_discriminators) must be between"),
    ('["ring8", "ns", false, false, 1, "adam", 0.001, 0.001, 64, 2, "gaussian", 2, 32, 0, 2, "max", 0]', "gman"),
    ('["ring8", "ns", false, false, 1, "adam", 0.001, 0.001, 64, 2, "gaussian", 2, 32, 0, 1, "mean", -3]',
     "(noise_codes) must be between"),
])
def test_train_start_refuses_absurd_settings_with_one_sentence(app_url, values, message):
    stream = _raw_call(app_url, '{"data": ' + values + '}', "train_start")
    assert "event: error" in stream and message in stream, stream


def test_a_trainer_runs_through_the_api_and_sessions_are_separate(app_url):
    a, b = Client(app_url, verbose=False), Client(app_url, verbose=False)
    status = a.predict(*TRAIN_OK, api_name="/train_start")
    assert "running" in status or "step" in status
    view_b = b.predict(True, False, api_name="/train_view")  # b has no trainer: nothing to show
    assert not isinstance(view_b[0], str)
    a.predict(api_name="/train_pause")
    view_a = a.predict(True, False, api_name="/train_view")
    assert isinstance(view_a[0], str) and "paused" in view_a[1]
    csv = a.predict(api_name="/train_export_csv")
    assert open(csv).readline().startswith("step,d_loss")
    with pytest.raises(Exception, match="Nothing to export"):
        b.predict(api_name="/train_export_csv")


def test_named_handlers_receive_the_request_gradio_injects():
    # Gradio injects gr.Request into positional parameters only; a handler with *values still
    # gets it as its `request` keyword (a session's trainers and saved models are keyed by it).
    import gradio as gr

    from gan_demo.ui.common import user_errors, with_param_names

    @user_errors
    def handler(state, *values, request: gr.Request = None):
        return values, request

    with_param_names(handler, ["state", "a", "b"])
    marker = object()
    assert handler(1, 2, 3, marker) == ((2, 3), marker)  # Gradio's call: the request comes last
    assert handler(1, 2, 3) == ((2, 3), None)  # a direct call with no request


def test_live_views_poll_fast_while_running_then_keep_a_slow_heartbeat():
    import gradio as gr

    from gan_demo.ui.common import HEARTBEAT_S, keep_polling

    off, running, paused = keep_polling(None), keep_polling("running"), keep_polling("paused")
    assert isinstance(off, gr.Timer) and off.active is False  # no run: the page sends nothing
    assert not isinstance(running, gr.Timer)  # running: the timer keeps its fast interval
    # paused (or diverged): a tick every HEARTBEAT_S keeps the idle timeout from taking the trainer
    assert isinstance(paused, gr.Timer) and paused.active and paused.value == HEARTBEAT_S
    assert keep_polling("diverged").value == HEARTBEAT_S


def test_every_output_on_the_api_page_has_a_readable_name(app_url):
    import json
    import urllib.request

    info = json.load(urllib.request.urlopen(app_url + "gradio_api/info"))
    unnamed = [(name, r["component"]) for name, ep in info["named_endpoints"].items() for r in ep["returns"]
               if r["label"].startswith("value_") and r["component"] != "Timer"]  # a timer has no label
    assert unnamed == []


def test_a_lesson_loads_its_settings_and_says_to_press_start(client):
    from gan_demo.training.lessons import LESSONS

    key = next(iter(LESSONS))
    text, *values, status = client.predict(key, api_name="/train_lesson")
    assert text and "Press **Start**" in status and "steps" in status
    assert len(values) >= 10  # the settings, in the Train tab's widget order
