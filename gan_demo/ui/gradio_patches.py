"""Work-arounds for Gradio bugs our users hit, applied once when the app is built.

Gradio caches every image it sends under a folder named by the image's hash, and rewrites the file
in place each time the same image is sent again. A class that translates the same example horse,
or asks for the same seed, sends identical images at once: a page fetching the file while another
request rewrites it gets a truncated image ("peer closed connection" in benchmarks/soak.py; 3.5 %
of reads were short in a tight loop). Gradio already writes copied *files* atomically and reuses an
existing copy; ``save_pil_to_cache`` and ``save_bytes_to_cache`` get the same treatment here.

An API call with too few inputs got Gradio's message for a broken JavaScript hook, which lists
the components' reprs with their memory addresses; ``validate_inputs`` here says how many inputs
the endpoint takes, in one sentence. And a file path that was never uploaded was refused with the
server's absolute path in the message (``_check_allowed``); now without it.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

from gradio import processing_utils

from ..errors import shown

_ORIGINAL_BYTES = processing_utils.save_bytes_to_cache
_ORIGINAL_CHECK = processing_utils._check_allowed


def _check_allowed(path, check_in_upload_folder: bool):
    try:
        _ORIGINAL_CHECK(path, check_in_upload_folder)
    except processing_utils.InvalidPathError:
        raise processing_utils.InvalidPathError(
            "That file was not uploaded to this server: upload it first (POST /gradio_api/upload) and "
            "pass the path the upload returns." if check_in_upload_folder else
            "A result file could not be served.") from None


def _publish(data: bytes, path: Path) -> str:
    """Put ``data`` at ``path`` (whose folder is named by the data's hash) without ever exposing
    a partial file; an existing copy is the same bytes, so it is only touched for delete_cache."""
    if path.exists():
        try:
            os.utime(path)
        except OSError:
            pass
        return str(path.resolve())
    fd, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return str(path.resolve())


def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    return _publish(data, folder / f"{name}.{format}")


def save_bytes_to_cache(data: bytes, file_name: str, cache_dir: str) -> str:
    if not Path(file_name).suffix:  # Gradio guesses an audio extension; keep its own path
        return _ORIGINAL_BYTES(data, file_name, cache_dir)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    return _publish(data, folder / Path(file_name).name)


def validate_inputs(self, block_fn, inputs: list) -> None:
    """Too few values: a caller of an older, shorter signature gets its missing trailing parameters'
    defaults (as gradio_client fills them), so appending a parameter with a default breaks no one;
    where a missing parameter has no default, one sentence that lists what the endpoint takes."""
    wanted = len(block_fn.inputs)
    if len(inputs) >= wanted:
        return
    api = [b for b in block_fn.inputs if not b.skip_api]  # what a caller sends: no gr.State values
    missing = api[len(inputs):]
    if len(inputs) <= len(api) and all(getattr(b, "value", None) is not None for b in missing):
        given = iter([*inputs, *(b.value for b in missing)])
        inputs[:] = [None if b.skip_api else next(given) for b in block_fn.inputs]
        return
    labels = [getattr(b, "label", None) or type(b).__name__ for b in block_fn.inputs]
    raise ValueError(f"This endpoint takes {wanted} input value{'s' * (wanted != 1)} and got "
                     f"{len(inputs)}: {', '.join(map(str, labels))[:300]}. See the API page for the order.")


def _get_fn_or_404(original):
    """Gradio answers an unknown ``/gradio_api/call/NAME`` or ``fn_index`` with a 500 (a KeyError
    deep in its routes); a caller's typo is a 404 with one sentence naming what to ask for."""
    from fastapi import HTTPException
    from gradio.route_utils import FnIndexInferError

    @functools.wraps(original)
    def get_fn(blocks, api_name, body):
        try:
            return original(blocks, api_name, body)
        except (KeyError, FnIndexInferError):
            what = f"endpoint {shown(str(api_name))}" if body.fn_index is None else f"function index {body.fn_index}"
            raise HTTPException(status_code=404, detail=f"No {what} here; the app's API page lists the endpoints.") from None
    get_fn._gan_demo_patched = True
    return get_fn


def apply() -> None:
    from gradio import route_utils
    from gradio.blocks import Blocks

    if not getattr(route_utils.get_fn, "_gan_demo_patched", False):
        route_utils.get_fn = _get_fn_or_404(route_utils.get_fn)

    Blocks.validate_inputs = validate_inputs
    processing_utils._check_allowed = _check_allowed
    processing_utils.save_pil_to_cache = save_pil_to_cache
    processing_utils.save_bytes_to_cache = save_bytes_to_cache
