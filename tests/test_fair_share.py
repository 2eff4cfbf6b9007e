"""One visitor cannot take more live-trainer slots than their runs need (issue 26)."""

import gc
import time
from dataclasses import asdict

import pytest

from conftest import free_port


@pytest.fixture
def roomy_app():
    """The app with a pool of 8 slots, so a leak shows as more than the 4 one session needs."""
    from gan_demo import zoo
    from gan_demo.training.live import TrainerPool
    from gan_demo.ui import build_app, launch_kwargs
    from gan_demo.ui.common import AppContext

    ctx = AppContext(models=zoo.ModelCache(), pool=TrainerPool(8))
    demo = build_app(ctx)
    port = free_port()
    demo.launch(**{**launch_kwargs(), "server_name": "127.0.0.1", "server_port": port,
                   "prevent_thread_lock": True, "quiet": True})
    yield ctx, f"http://127.0.0.1:{port}/"
    trainers = list(ctx.pool._active)
    ctx.pool.close_all()
    demo.close()
    deadline = time.time() + 60  # let them wind down, so later tests count threads from zero
    while any(t._thread.is_alive() for t in trainers) and time.time() < deadline:
        time.sleep(0.2)


def test_fifty_concurrent_first_calls_from_one_session_hold_only_the_slots_its_runs_need(roomy_app):
    from gradio_client import Client

    from gan_demo.training.image_live import ImageLiveConfig
    from gan_demo.training.live import LiveTrainer
    from gan_demo.ui import train_images as image_tab
    from test_app_api import TRAIN_OK

    ctx, url = roomy_app
    client = Client(url, verbose=False)
    images = [asdict(ImageLiveConfig())[f] for f in image_tab.FIELDS]
    calls = [("/train_start", TRAIN_OK), ("/train_reset", TRAIN_OK), ("/train_pause", []),
             ("/train_images_start", images), ("/train_images_pause", []),
             ("/versus_start", ["mbd", "toy", "ring8", "dcgan", 0, "minibatch_disc", "off", "on"])]
    jobs = [client.submit(*args, api_name=name) for name, args in (calls * 9)[:50]]
    deadline = time.time() + 180
    while not all(j.done() for j in jobs) and time.time() < deadline:
        time.sleep(0.5)
    assert all(j.done() for j in jobs), "the calls did not finish within 3 minutes"
    # A toy run, an image run and Versus's two: what this session's runs need, never more.
    assert ctx.pool.active <= 4, f"one session holds {ctx.pool.active} slots"
    owners = {t.owner for t in ctx.pool._active if not t.closed}
    assert owners == {client.session_hash}
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, LiveTrainer) and not o.closed]
    assert all(t in ctx.pool._active for t in alive), "a trainer runs outside the pool (an orphan)"
    assert len(alive) <= 4


def test_the_registry_gives_concurrent_callers_one_object_and_lets_it_go_with_the_page():
    import threading

    from gan_demo.training.session import SessionRegistry

    class Box:
        pass

    reg, made, got = SessionRegistry(), [], []

    def make():
        time.sleep(0.01)  # widen the race a lock must close
        made.append(Box())
        return made[-1]

    threads = [threading.Thread(target=lambda: got.append(reg.get("s1", "toy", make))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and all(g is made[0] for g in got)
    assert reg.get("s1", "images", Box) is not made[0]  # another kind, another object
    assert reg.get(None, "toy", Box) is not reg.get(None, "toy", Box)  # no session: nothing shared
    reg.drop_owner("s1")
    assert reg.get("s1", "toy", Box) is not made[0]
    del made[:], got[:]
    gc.collect()
    assert len(reg) == 0  # weak: nothing kept once the page's state lets go
