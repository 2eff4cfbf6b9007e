"""A seeded, bounded fuzz of every API endpoint: hundreds of bad requests, each answered in one clear
sentence or a sane result within 5 s, and the app still serving a normal request afterwards.

Requests go over raw HTTP (``/gradio_api/call/NAME``), so they can carry what no well-behaved client
sends: NaN, Infinity, wrong types, missing or extra fields, paths outside the app's folders. The app
here has its own trainer pool of capacity 0, so fuzzing the Train endpoints never starts a thread.
"""

from __future__ import annotations

import io
import json
import re
import random
import struct
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
N_REQUESTS = 320
SECONDS = 5.0

NUMBERS = ["NaN", "Infinity", "-Infinity", "1e308", "-1e308", "-1", "-1000000000", "0", "3.5", "1e9",
           "123456789012345678901234567890"]
WRONG = ['""', '"x"', '"../../../../etc/passwd"', '"' + "A" * 5000 + '"', "null", "true", "[]", "{}",
         "[1, 2, 3]", '{"path": "/etc/passwd"}', '"dcgan-fashion\\u0000"', '"Sneakers"', '"owner/../repo"']


def _png_bomb() -> bytes:
    """A PNG whose header claims 60,000 x 60,000 pixels (3.6 gigapixels) in a few hundred bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 60_001)) + chunk(b"IEND", b"")


def _image_bytes(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _uploads() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees
    good_png = _image_bytes(photo, "PNG")
    return {
        "text.png": b"this is not an image at all",
        "truncated.jpg": _image_bytes(photo, "JPEG")[:300],
        "truncated.png": good_png[: len(good_png) // 2],
        "bomb.png": _png_bomb(),
        "sixteen.png": _image_bytes(Image.fromarray((rng.random((64, 64)) * 65535).astype(np.uint16)), "PNG"),
        "cmyk.jpg": _image_bytes(photo.convert("CMYK"), "JPEG"),
        "rgba.png": _image_bytes(photo.convert("RGBA"), "PNG"),
        "palette.gif": _image_bytes(photo.convert("P"), "GIF"),
        "rotated.jpg": _image_bytes(photo, "JPEG", exif=exif.tobytes()),
        "one.png": _image_bytes(Image.new("RGB", (1, 1), "white"), "PNG"),
        "grey.png": _image_bytes(photo.convert("L"), "PNG"),
        "empty.png": b"",
    }


@pytest.fixture(scope="module")
def fuzz_app():
    from gan_demo import zoo
    from gan_demo.training.live import TrainerPool
    from gan_demo.ui import build_app, launch_kwargs
    from gan_demo.ui.common import AppContext

    demo = build_app(AppContext(models=zoo.ModelCache(), pool=TrainerPool(0)))
    port = free_port()
    demo.launch(**{**launch_kwargs(), "server_name": "127.0.0.1", "server_port": port,
                   "prevent_thread_lock": True, "quiet": True})
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def _upload(url: str, name: str, data: bytes) -> dict | str:
    """POST a file to Gradio's upload route; returns the FileData dict, or the refusal's text."""
    boundary = "fuzzboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{url}gradio_api/upload", data=body,
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        path = json.loads(urllib.request.urlopen(req, timeout=30).read())[0]
    except urllib.error.HTTPError as exc:
        return exc.read().decode(errors="replace")
    except urllib.error.URLError as exc:  # the server may cut an oversized body off mid-way
        return f"connection closed: {exc.reason}"
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def _call(url: str, endpoint: str, body: str) -> tuple[str, str]:
    """One raw API call: (outcome, message) where outcome is complete, error or refused."""
    req = urllib.request.Request(f"{url}gradio_api/call/{endpoint}", data=body.encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        event = json.loads(urllib.request.urlopen(req, timeout=30).read())["event_id"]
    except urllib.error.HTTPError as exc:  # refused before it reached a handler (malformed body)
        return "refused", exc.read().decode(errors="replace")
    with urllib.request.urlopen(f"{url}gradio_api/call/{endpoint}/{event}", timeout=30) as r:
        stream = r.read().decode(errors="replace")
    if "event: complete" in stream:
        return "complete", stream
    if "event: error" in stream:
        return "error", stream.split("event: error", 1)[1].split("data:", 1)[1].strip()
    return "other", stream


# Values that make the baseline request valid where the API page's example (a slider's minimum,
# "Hello!!") would already be refused, so each fuzzed field is the one that is wrong.
VALID = {"lr_d": 1e-3, "lr_g": 1e-3, "batch_size": 64, "width": 32, "hidden_layers": 2, "noise_dim": 2,
         "truncation": 1.0, "coarse_seeds": "1, 2", "fine_seeds": "3", "a": "1", "b": "2", "c": "3",
         "steps": 8, "grid_size": 4, "n": 4, "rows": 2, "fps": 4, "crossover": 3}


ENDPOINT_VALID = {"/encode_image": {"model": "vaegan-fashion"}}
FILE_COMPONENTS = ("image", "file", "imageeditor")


def _baseline(name: str, params: list[dict], files: dict[str, dict]) -> list[str]:
    """A plausible request: the API page's example values, real uploads instead of web URLs."""
    values = []
    valid = {**VALID, **ENDPOINT_VALID.get(name, {})}
    for p in params:
        comp = p["component"].lower()
        if valid.get(p["parameter_name"]) is not None:
            value = valid[p["parameter_name"]]
        elif comp == "image":
            value = files["photo"]
        elif comp == "imageeditor":
            value = {"background": None, "layers": [], "composite": files["sketch"]}
        elif comp == "file":
            value = [files["photo"]]
        else:
            value = p.get("example_input")
        values.append(json.dumps(value))
    return values


def _internals(text: str) -> list[str]:
    """Server internals a message must not show: a component repr or memory address, the app's
    folder, the home folder (and so the user the server runs as), the temp folder."""
    found = [s for s in (str(ROOT), str(Path.home()), "/tmp/", "object at") if s in text]
    return found + re.findall(r"0x[0-9a-fA-F]{6,}", text)


def _is_clear(message: str) -> bool:
    """A sentence for a person: not empty, no traceback, not our catch-all apology, no internals."""
    try:
        parsed = json.loads(message)
    except json.JSONDecodeError:
        parsed = message
    if isinstance(parsed, dict):
        parsed = parsed.get("error") or parsed.get("detail")
    text = json.dumps(parsed) if not isinstance(parsed, str) else parsed
    return (bool(parsed) and "Traceback" not in text and "Something went wrong" not in text and "root:" not in text
            and not _internals(text))


def _bad_value(rng: random.Random, comp: str, bad_files: dict[str, dict]) -> str:
    if comp not in FILE_COMPONENTS:
        return rng.choice(NUMBERS + WRONG)
    f = rng.choice([bad_files[rng.choice(sorted(bad_files))]] * 3
                   + [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}])
    if comp == "file":
        return json.dumps([f])
    if comp == "imageeditor":
        return json.dumps({"background": None, "layers": [], "composite": f})
    return json.dumps(f)


def test_hundreds_of_bad_requests_get_clear_answers_and_the_app_keeps_serving(fuzz_app, artifacts):
    from gradio_client import Client

    client = Client(fuzz_app, verbose=False)
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    sample_photo = sorted((ROOT / "examples" / "horse2zebra").glob("horse_*.jpg"))[0]
    files = {"photo": _upload(fuzz_app, "photo.jpg", sample_photo.read_bytes()),
             "sketch": _upload(fuzz_app, "sketch.png", (ROOT / "examples" / "sketches" / "bag.png").read_bytes())}
    bad_files = {name: _upload(fuzz_app, name, data) for name, data in _uploads().items()}
    assert all(isinstance(f, dict) for f in [*files.values(), *bad_files.values()])
    huge = _upload(fuzz_app, "huge.png", b"\x00" * (50 * 1024 * 1024))
    assert isinstance(huge, str)  # 50 MB: refused at the door (max_file_size)

    rng = random.Random(20261124)
    endpoints = sorted(api)
    log, failures = [], []
    for i in range(N_REQUESTS):
        name = endpoints[i % len(endpoints)]
        params = api[name]["parameters"]
        values = _baseline(name, params, files)
        file_params = [j for j, p in enumerate(params) if p["component"].lower() in FILE_COMPONENTS]
        if not params or rng.random() < 0.08:  # missing, extra or malformed fields
            body = rng.choice(['{"data": []}', '{"data": 5}', '{"dat": []}', "not json", '{"data": null}',
                               '{"data": [' + ", ".join(values + ["1", '"extra"']) + "]}"])
        else:
            # endpoints that take files get a bad file in half their requests
            k = rng.choice(file_params) if file_params and rng.random() < 0.5 else rng.randrange(len(params))
            values[k] = _bad_value(rng, params[k]["component"].lower(), bad_files)
            body = '{"data": [' + ", ".join(values) + "]}"
        start = time.perf_counter()
        outcome, message = _call(fuzz_app, name.strip("/"), body)
        took = time.perf_counter() - start
        log.append({"endpoint": name, "body": body[:300], "outcome": outcome, "message": message[:300],
                    "seconds": round(took, 3)})
        clear = outcome == "complete" or (outcome in ("error", "refused") and _is_clear(message))
        if not clear or took > SECONDS:
            failures.append(log[-1])
    (artifacts / "fuzz_log.json").write_text(json.dumps(log, indent=1))
    assert not failures, json.dumps(failures[:8], indent=1)
    # a file outside the uploads is never read
    assert all(e["outcome"] != "complete" for e in log if '"path": "/etc/passwd"' in e["body"])
    assert sum(e["outcome"] != "complete" for e in log) > N_REQUESTS // 2  # most of them really were bad
    # and a normal request still works
    assert client.predict("dcgan-fashion", 1, 1.0, 1, *([0.0] * 16), api_name="/explore")


@pytest.mark.parametrize("endpoint, body, says", [
    ("translate", '{"data": ["cyclegan-horse2zebra", "AtoB", {"path": "file:/etc/passwd", '
                  '"meta": {"_type": "gradio.FileData"}}]}', "not uploaded"),
    # A missing value with no default (the photo) is named; missing values with defaults are filled
    # (test_a_short_call_takes_the_missing_parameters_defaults).
    ("translate", '{"data": ["cyclegan-horse2zebra"]}', "input values and got 1"),
    ("download_official", '{"data": []}', "cache"),
])
def test_refusals_name_no_server_path_component_or_address(fuzz_app, endpoint, body, says, monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_DEMO_CACHE", str(tmp_path))  # the official weights are never there
    outcome, message = _call(fuzz_app, endpoint, body)
    assert outcome in ("error", "refused") and says in message
    assert not _internals(message), message


def test_a_short_call_takes_the_missing_parameters_defaults(fuzz_app):
    # Explore's model alone: seed, truncation, grid size and the 16 sliders take their defaults.
    outcome, message = _call(fuzz_app, "explore", '{"data": ["dcgan-fashion"]}')
    assert outcome == "complete", message


@pytest.mark.parametrize("path, body, says", [
    ("gradio_api/call/no_such_endpoint", {"data": []}, "No endpoint 'no_such_endpoint' here"),
    ("gradio_api/queue/join", {"data": [], "fn_index": 99999, "session_hash": "fuzz"}, "No function index 99999"),
])
def test_an_unknown_endpoint_or_function_index_is_a_404_with_one_sentence(fuzz_app, path, body, says):
    req = urllib.request.Request(f"{fuzz_app}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=30)
    assert info.value.code == 404 and says in info.value.read().decode()
