"""Sessions that are gone are forgotten: their delete callbacks run and Gradio's copy goes."""

import datetime
import os
from pathlib import Path
import time

import gradio as gr
import pytest

from conftest import free_port
from gan_demo.ui.sessions import SessionSweeper, forget_stale_sessions


def tiny_app(closed: list):
    with gr.Blocks() as demo:
        box = gr.State(None, delete_callback=lambda v: closed.append(v))
        n = gr.Number()
        out = gr.Number()
        n.submit(lambda x, s: (x, x), [n, box], [out, box], api_name="keep")
    return demo


def test_closed_sessions_go_after_the_grace_and_idle_ones_after_the_idle_limit():
    from gradio.state_holder import StateHolder

    closed: list = []
    holder = StateHolder()
    holder.set_blocks(tiny_app(closed))
    state_id = next(k for k, b in holder.blocks.blocks.items() if isinstance(b, gr.State))
    now = datetime.datetime.now()
    for sid, age_s, is_closed in [("fresh", 10, False), ("just-closed", 10, True),
                                  ("closed-long-ago", 400, True), ("idle", 8000, False)]:
        holder[sid][state_id] = sid
        holder[sid].is_closed = is_closed
        holder.time_last_used[sid] = now - datetime.timedelta(seconds=age_s)

    assert forget_stale_sessions(holder, now=now, closed_grace_s=300, idle_s=7200) == 2
    assert set(holder.session_data) == {"fresh", "just-closed"}
    assert set(holder.time_last_used) == {"fresh", "just-closed"}
    assert sorted(closed) == ["closed-long-ago", "idle"]  # their trainers would be stopped
    assert forget_stale_sessions(holder, now=now) == 0


@pytest.fixture
def launched():
    closed: list = []
    demo = tiny_app(closed)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield demo, f"http://127.0.0.1:{port}/", closed
    demo.close()


def test_a_client_that_leaves_is_forgotten_by_the_sweeper(launched):
    from gradio_client import Client

    demo, url, closed = launched
    stays, leaves = Client(url, verbose=False), Client(url, verbose=False)
    stays.predict(1, api_name="/keep")
    leaves.predict(2, api_name="/keep")
    assert {stays.session_hash, leaves.session_hash} <= set(demo.state_holder.session_data)
    leaves.close()  # the heartbeat drops, as when a tab closes
    deadline = time.time() + 20
    while not demo.state_holder.session_data[leaves.session_hash].is_closed:
        assert time.time() < deadline, "Gradio never saw the session close"
        time.sleep(0.2)

    sweeper = SessionSweeper(demo, closed_grace_s=0)
    assert sweeper.sweep() == 1
    assert leaves.session_hash not in demo.state_holder.session_data
    assert stays.session_hash in demo.state_holder.session_data
    assert closed == [2]
    assert stays.predict(3, api_name="/keep") == 3  # the one who stayed is served as before
    stays.close()


def test_the_sweeper_thread_starts_and_stops(launched):
    demo, _, _ = launched
    sweeper = SessionSweeper(demo, every_s=0.05).start()
    time.sleep(0.2)
    sweeper.stop()
    assert not sweeper._thread.is_alive()


def test_an_image_sent_twice_at_once_is_never_served_half_written(tmp_path):
    """Two users asking for the same image: Gradio rewrote its cached copy in place while a page
    was fetching it (soak.py's "peer closed connection"); gradio_patches writes it atomically."""
    import threading

    import numpy as np
    from gradio import processing_utils
    from PIL import Image

    from gan_demo.ui import gradio_patches

    gradio_patches.apply()
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (128, 128, 3), dtype=np.uint8))
    path = processing_utils.save_pil_to_cache(img, str(tmp_path))
    size = len(open(path, "rb").read())
    stop = threading.Event()

    def send_again():
        while not stop.is_set():
            assert processing_utils.save_pil_to_cache(img, str(tmp_path)) == path

    writer = threading.Thread(target=send_again)
    writer.start()
    short, end = 0, time.time() + 1.0
    while time.time() < end:
        with open(path, "rb") as f:
            short += len(f.read()) != size
    stop.set()
    writer.join()
    assert short == 0
    assert Image.open(path).size == (128, 128)
    assert [p.name for p in tmp_path.rglob("*")] == [Path(path).parent.name, "image.webp"]  # no leftovers


def test_freed_memory_goes_back_to_the_system():
    import ctypes

    from gan_demo.process_memory import return_free_memory

    try:
        ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        pytest.skip("not glibc")

    def rss_mb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    return_free_memory()
    before = rss_mb()
    # many small blocks, as sessions and frames leave them: free() alone keeps them in the heap
    blocks = [bytearray(2000) for _ in range(60_000)]
    survivors = blocks[::10]  # a few stay alive between the freed ones, so the heap cannot shrink
    del blocks
    kept = rss_mb()
    return_free_memory()
    after = rss_mb()
    assert kept - before > 80  # 108 MB freed but still resident
    assert after < kept - 50  # malloc_trim gave most of it back
    assert len(survivors) == 6000


ARENA_PROBE = """
import ctypes, sys, threading
from gan_demo.process_memory import limit_malloc_arenas
if sys.argv[1] == "limit":
    assert limit_malloc_arenas(2)
go = threading.Barrier(8)
def work():
    go.wait()  # all eight alive at once, each making its first allocations
    blocks = [bytearray(3000) for _ in range(2000)]
    go.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL("libc.so.6").malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


@pytest.mark.parametrize("mode", ["limit", "default"])
def test_serving_threads_share_two_malloc_arenas(mode):
    import ctypes
    import subprocess
    import sys

    try:
        ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        pytest.skip("not glibc")
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    proc = subprocess.run([sys.executable, "-c", ARENA_PROBE, mode], capture_output=True, text=True,
                          env=env, cwd=Path(__file__).resolve().parents[1], timeout=60)
    assert proc.returncode == 0, proc.stderr
    arenas = proc.stderr.count("Arena ")
    if mode == "limit":
        assert 1 <= arenas <= 2
    else:  # glibc's default: a new arena for each thread (the control, so the probe can fail)
        assert arenas >= 8


def test_an_arena_limit_the_user_set_wins(monkeypatch):
    from gan_demo.process_memory import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
