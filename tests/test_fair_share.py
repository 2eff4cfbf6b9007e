"""One visitor cannot take more live-trainer slots than their runs need (issue 26)."""

import gc
import time
from dataclasses import asdict

import pytest

from conftest import free_port


@pytest.fixture
def roomy_app():
    """The app with a pool of 8 slots, so a leak shows as more than the 2 one visitor may hold."""
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
    trainers = [*ctx.pool._active, *ctx.pool._parked]
    ctx.pool.close_all()
    demo.close()
    deadline = time.time() + 60  # let them wind down, so later tests count threads from zero
    while any(t._thread.is_alive() for t in trainers) and time.time() < deadline:
        time.sleep(0.2)


def test_fifty_concurrent_first_calls_from_one_session_hold_only_the_slots_its_runs_need(roomy_app):
    from gradio_client import Client

    from gan_demo.training.image_config import ImageConfig
    from gan_demo.training.live import LiveTrainer
    from gan_demo.ui import train_images as image_tab
    from test_app_api import TRAIN_OK

    ctx, url = roomy_app
    client = Client(url, verbose=False)
    images = [asdict(ImageConfig())[f] for f in image_tab.FIELDS]
    calls = [("/train_start", TRAIN_OK), ("/train_reset", TRAIN_OK), ("/train_pause", []),
             ("/train_images_start", images), ("/train_images_pause", []),
             ("/versus_start", ["mbd", "toy", "ring8", "dcgan", 0, "minibatch_disc", "off", "on"])]
    jobs = [client.submit(*args, api_name=name) for name, args in (calls * 9)[:50]]
    deadline = time.time() + 180
    while not all(j.done() for j in jobs) and time.time() < deadline:
        time.sleep(0.5)
    assert all(j.done() for j in jobs), "the calls did not finish within 3 minutes"
    # One visitor's cap (2: a run, or Versus's two), however many calls raced; the rest parked.
    assert ctx.pool.active <= 2, f"one session holds {ctx.pool.active} slots"
    owners = {t.owner for t in ctx.pool._active if not t.closed}
    assert owners == {client.session_hash}
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, LiveTrainer) and not o.closed
             and o.owner == client.session_hash]  # this app's: other test modules' may linger
    held = ctx.pool._active | ctx.pool._parked
    assert all(t in held for t in alive), "a trainer runs outside the pool (an orphan)"
    assert len(alive) <= 4  # a toy run, an image run and Versus's two, at most two of them training
    assert not any(t._running for t in ctx.pool._parked)


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


# ---- the pool's fair sharing, without the app --------------------------------------------------

from gan_demo.errors import UserError  # noqa: E402
from gan_demo.training.live import TrainerPool  # noqa: E402
from gan_demo.training.session import TrainSession  # noqa: E402
from gan_demo.training.toy import ToyTrainConfig  # noqa: E402

SMALL = ToyTrainConfig(width=16, hidden_layers=1, batch_size=32, eval_every=50, eval_samples=200)
INTERNALS = ("0x", "/work", "/root", "/tmp/", "object at", "Traceback")


def _session(pool, owner, client=None):
    return TrainSession(pool, owner=owner, client=client)


def _started(pool, owner, client=None):
    s = _session(pool, owner, client)
    s.start(SMALL)
    return s


def test_one_address_holds_at_most_its_share_and_others_still_get_in():
    pool = TrainerPool(4, per_client=2)
    try:
        a1, a2 = _started(pool, "tab1", "10.0.0.1"), _started(pool, "tab2", "10.0.0.1")
        with pytest.raises(UserError, match="You already run 2 live trainers, and one visitor may run 2") as err:
            _started(pool, "tab3", "10.0.0.1")  # a third tab from the same address
        assert not any(bad in str(err.value) for bad in INTERNALS)
        other = _started(pool, "tab4", "10.0.0.2")
        assert pool.active == 3 and other.trainer.published.status == "running"
        assert a1.trainer.published.status == a2.trainer.published.status == "running"
    finally:
        pool.close_all()


def test_versus_takes_two_slots_or_none():
    pool = TrainerPool(2, per_client=2)
    try:
        _started(pool, "someone", "10.0.0.9")
        with pytest.raises(UserError, match="you need two free slots"):
            pool.open_many([SMALL, SMALL], owner="racer", client="10.0.0.1")
        assert pool.active == 1 and pool.parked == 0
    finally:
        pool.close_all()


def test_a_paused_run_gives_its_slot_back_and_resumes_from_its_step():
    pool = TrainerPool(1, per_client=2, park_after_s=0.5)
    try:
        alice = _started(pool, "alice", "10.0.0.1")
        time.sleep(0.3)
        alice.pause()
        step = alice.trainer.published.step
        assert step > 0
        with pytest.raises(UserError, match=r"The room is full: 1 live trainer is running .* gives its slot back in about 1 s"):
            _started(pool, "bob", "10.0.0.2")  # paused only just now: its slot is still hers
        time.sleep(0.6)
        bob = _started(pool, "bob", "10.0.0.2")
        assert alice.trainer.parked and not alice.trainer.closed and pool.parked == 1
        assert alice.trainer.published.step == step  # parked, not reset and not training
        with pytest.raises(UserError, match="Every run is training now"):
            alice.start(SMALL)  # Bob trains: no slot for her yet, and her run is kept
        assert alice.trainer.parked and alice.trainer.published.step == step
        bob.pause()
        time.sleep(0.6)
        alice.start(SMALL)
        assert not alice.trainer.parked and bob.trainer.parked
        assert alice.trainer.published.status == "running"
        time.sleep(0.3)
        assert alice.trainer.wait_idle().step > step  # on from where she was
    finally:
        pool.close_all()


def test_a_full_room_keeps_the_queue_in_order():
    pool = TrainerPool(1, per_client=2, park_after_s=0.3, queue_keep_s=30)
    try:
        first = _started(pool, "first", "10.0.0.1")
        with pytest.raises(UserError) as bob:
            _started(pool, "bob", "10.0.0.2")
        assert "waiting ahead" not in str(bob.value)
        with pytest.raises(UserError, match="1 visitor is waiting ahead of you"):
            _started(pool, "carol", "10.0.0.3")
        first.pause()
        time.sleep(0.4)
        with pytest.raises(UserError, match="1 visitor is waiting ahead of you"):
            _started(pool, "carol", "10.0.0.3")  # a slot is free, but Bob asked first
        _started(pool, "bob", "10.0.0.2")
        assert first.trainer.parked
    finally:
        pool.close_all()


def test_the_visitor_address_comes_from_the_proxy_only_when_told_so(monkeypatch):
    from types import SimpleNamespace

    from gan_demo import zoo
    from gan_demo.ui import behind_proxy
    from gan_demo.ui.common import AppContext

    request = SimpleNamespace(headers={"x-forwarded-for": "203.0.113.7, 10.0.0.1"},
                              client=SimpleNamespace(host="127.0.0.1"))
    ctx = AppContext(models=zoo.ModelCache(), pool=TrainerPool(1))
    assert ctx.client_of(request) == "127.0.0.1"  # anyone can write the header
    ctx.behind_proxy = True
    assert ctx.client_of(request) == "203.0.113.7"
    assert ctx.client_of(SimpleNamespace(headers={}, client=SimpleNamespace(host="10.1.1.1"))) == "10.1.1.1"
    assert ctx.client_of(None) is None
    assert behind_proxy({"SPACE_ID": "user/space"}) and not behind_proxy({})
    assert not behind_proxy({"SPACE_ID": "x", "GAN_DEMO_BEHIND_PROXY": "0"})
    assert behind_proxy({"GAN_DEMO_BEHIND_PROXY": "1"})
