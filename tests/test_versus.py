"""Versus mode: two runs identical but for one setting, started, stepped and closed together."""

import re
import time
from dataclasses import asdict

import pytest
from gradio_client import Client

from gan_demo.errors import UserError
from gan_demo.training.image_config import ImageConfig
from gan_demo.training.live import TrainerPool
from gan_demo.training.toy import ToyTrainConfig
from gan_demo.training.versus import PRESETS, Versus, make_pair, with_difference
from tests.test_live import live_threads

SMALL = ToyTrainConfig(width=16, hidden_layers=1, batch_size=32, eval_every=20, eval_samples=300)


def differing(a, b) -> set[str]:
    da, db = asdict(a), asdict(b)
    return {k for k in da if da[k] != db[k]}


@pytest.mark.parametrize("name, a, b, fields", [
    ("loss", "ns", "minimax", {"loss"}), ("minibatch_disc", "off", "on", {"minibatch_disc"}),
    ("d_steps", "1", "5", {"d_steps"}), ("lr", "1e-3", "1e-2", {"lr_d", "lr_g"}),
    ("train_weaker", False, True, {"train_weaker"}), ("n_discriminators", 1, 3, {"n_discriminators"}),
])
def test_a_pair_differs_in_exactly_the_chosen_setting(name, a, b, fields):
    cfg_a, cfg_b = make_pair(SMALL, name, a, b)
    assert differing(cfg_a, cfg_b) == fields


@pytest.mark.parametrize("base, name, a, b, message", [
    (SMALL, "loss", "ns", "ns", "same loss"),
    (SMALL, "loss", "ns", "wat", "loss"),
    (SMALL, "d_steps", "1", "500", "D steps must be between"),
    (SMALL, "lr", "1e-3", "nan", "finite"),
    (SMALL, "seed", "0", "1", "difference"),
    (ImageConfig(), "minibatch_disc", "off", "on", "toy networks only"),
    (ImageConfig(), "n_discriminators", 1, 3, "toy networks only"),
    (SMALL, "n_discriminators", 1, 9, "discriminators must be between"),
])
def test_a_bad_difference_gets_one_sentence(base, name, a, b, message):
    with pytest.raises(UserError, match=message):
        make_pair(base, name, a, b)


def test_every_preset_makes_a_valid_pair_that_differs_in_one_setting():
    for p in PRESETS.values():
        a, b = make_pair(p.base, p.difference, p.a, p.b)
        assert len(differing(a, b)) == (2 if p.difference == "lr" else 1), p.key
    # each toy lesson has its race
    assert {"minimax", "mbd", "wgan-gp", "weaker", "equilibrium"} <= set(PRESETS)
    assert with_difference(PRESETS["wgan-gp"].base, "loss", "ns").d_steps == 5


def test_both_runs_step_together_and_close_together():
    base = live_threads()
    pool = TrainerPool(2)
    v = Versus(pool, owner="s1")
    cfg_a, cfg_b = make_pair(SMALL, "minibatch_disc", False, True)
    v.open(cfg_a, cfg_b, "minibatch_disc")
    assert pool.active == 2 and live_threads() == base + 2
    v.step(40)
    a, b = (r.trainer.published for r in v.runs.values())
    assert a.step == b.step == 40
    assert not a.config.minibatch_disc and b.config.minibatch_disc
    assert v.labels == {"A": "A: minibatch discrimination off", "B": "B: minibatch discrimination on"}
    v.close()
    assert pool.active == 0 and live_threads() == base


def test_running_races_advance_in_lockstep_though_one_step_costs_five():
    # Five critic steps make B's step about five times A's; without the lockstep A ran ahead and
    # the race compared A at step 3,000 with B at step 600.
    pool = TrainerPool(2)
    v = Versus(pool)
    v.open(*make_pair(SMALL, "d_steps", 1, 5), "d_steps")
    v.start()
    time.sleep(2.0)
    steps = [r.trainer._gan.step_count for r in v.runs.values()]
    v.pause()
    assert min(steps) > 20 and max(steps) - min(steps) <= 3, steps
    a, b = (r.trainer.published.step for r in v.runs.values())
    assert a == b  # Pause levels them
    # A paused partner holds no one back: a lone run keeps going.
    v.runs["B"].trainer.close()
    v.runs["A"].trainer.start()
    time.sleep(1.0)
    assert v.runs["A"].trainer.wait_idle().step > a + 20
    v.close()


def test_a_full_room_refuses_versus_without_leaving_half_a_race():
    base = live_threads()
    pool = TrainerPool(1)
    v = Versus(pool)
    with pytest.raises(UserError, match="Versus needs two live trainers at once. This needs 2 live trainers at "
                                        "once, and this server runs at most 1"):
        v.open(*make_pair(SMALL, "loss", "ns", "hinge"), "loss")
    assert pool.active == 0 and live_threads() == base and not v.is_open


def test_versus_through_the_api_images_and_toy(app_url):
    c = Client(app_url, verbose=False)
    with pytest.raises(Exception, match="Press Start both"):
        c.predict(5, api_name="/versus_step")
    status = c.predict("mbd", "toy", "grid25", "dcgan", 0, "minibatch_disc", "False", "True",
                       api_name="/versus_start")
    assert "A: minibatch discrimination off" in status and "B: minibatch discrimination on" in status
    c.predict(api_name="/versus_pause")
    c.predict(20, api_name="/versus_step")
    view_a, view_b, status, *_ = c.predict(api_name="/versus_view")
    assert isinstance(view_a, (str, dict)) and isinstance(view_b, (str, dict))
    # both at the same step after Pause + Step
    steps = re.findall(r"step ([\d,]+)", status)
    assert len(steps) == 2 and steps[0] == steps[1]
    with pytest.raises(Exception, match="same lr"):
        c.predict("images-loss", "images", "fashion", "dcgan", 0, "lr", "0.001", "1e-3", api_name="/versus_start")
    status = c.predict("images-loss", "images", "mnist", "dcgan", 0, "loss", "ns", "hinge", api_name="/versus_start")
    assert "A: loss ns" in status and "B: loss hinge" in status
    c.predict(api_name="/versus_pause")


def test_a_train_only_the_weaker_run_says_how_often_its_d_sat_out():
    from gan_demo.training.live import TrainerPool
    from gan_demo.training.versus import PRESETS, Versus, base_config, make_pair
    from gan_demo.ui.versus import status_text

    p = PRESETS["weaker"]
    base = base_config("toy", "weaker", p.base.dataset, "dcgan", p.base.seed)
    v = Versus(TrainerPool())
    v.open(*make_pair(base, p.difference, p.a, p.b), p.difference)
    try:
        v.step(300)
        text = status_text(v)
        a_line, b_line = text.split("\n")
        assert "sat out" not in a_line
        sat_out = int(re.search(r"D sat out ([\d,]+) steps", b_line).group(1).replace(",", ""))
        h = v.runs["B"].trainer.published.history
        assert sat_out == int((h["updated"] == 2).sum()) and sat_out > 0
    finally:
        v.close()


def test_the_status_of_a_race_closed_between_two_reads_is_the_idle_sentence():
    """The page polls while a Reset or a closing page takes a run's trainer away: the status said
    "Something went wrong (AttributeError)" once the race was open but a run had no trainer."""
    from types import SimpleNamespace

    from gan_demo.ui.versus import status_text

    half_closed = SimpleNamespace(is_open=True, labels={"A": "A", "B": "B"},
                                  runs={"A": SimpleNamespace(trainer=None), "B": SimpleNamespace(trainer=None)})
    assert status_text(half_closed).startswith("Pick a preset") and status_text(None).startswith("Pick a preset")


def test_versus_charts_tell_the_runs_apart_by_hue():
    """A's lines are blues and B's reds on every shared chart; the two series of a run differ in shade."""
    from gan_demo import plots

    for series in (plots.LOSS_SERIES, plots.SCORE_SERIES):
        colours = plots.versus_series(series)
        rgb = {k: [int(v[i:i + 2], 16) for i in (1, 3, 5)] for k, v in colours.items() if k[:2] in ("A ", "B ")}
        assert all(c[2] > c[0] for k, c in rgb.items() if k.startswith("A "))  # blue over red
        assert all(c[0] > c[2] for k, c in rgb.items() if k.startswith("B "))
        assert len({colours[k] for k in colours}) == len(colours)
        assert colours.get("0.5 (can't tell)", "#9e9e9e") == "#9e9e9e"
