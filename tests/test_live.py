import threading
import time

import pytest

from gan_demo.errors import UserError
from gan_demo.training.live import LiveTrainer, TrainerPool
from gan_demo.training.session import TrainSession
from gan_demo.training.toy import ToyTrainConfig

SMALL = ToyTrainConfig(width=32, hidden_layers=2, batch_size=64, eval_every=50, eval_samples=500)


def wait_for(cond, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def live_threads() -> int:
    return sum(t.name == "live-trainer" for t in threading.enumerate())


def test_start_pause_step_and_the_thread_returns_to_baseline():
    base = live_threads()
    trainer = LiveTrainer(SMALL, "cpu")
    try:
        trainer.start()
        assert wait_for(lambda: trainer.snapshot().step > 20)
        trainer.pause()
        paused = trainer.wait_idle().step
        time.sleep(0.3)
        assert trainer.wait_idle().step == paused and trainer.published.status == "paused"
        trainer.step(5, "d")
        assert trainer.wait_idle().step == paused + 5
    finally:
        trainer.close()
    assert live_threads() == base and trainer.closed


def test_a_stepped_run_reports_its_speed_and_training_time():
    trainer = LiveTrainer(SMALL, "cpu")
    try:
        trainer.step(30, "both")
        pub = trainer.wait_idle()
        assert pub.step == 30 and pub.steps_per_sec > 0 and pub.elapsed_s > 0
        before = pub.elapsed_s
        trainer.step(30, "both")
        assert trainer.wait_idle().elapsed_s > before
    finally:
        trainer.close()


def test_pressing_start_fifty_times_runs_one_thread():
    base = live_threads()
    trainer = LiveTrainer(SMALL, "cpu")
    for _ in range(50):
        trainer.start()
    trainer.wait_idle()
    assert live_threads() == base + 1
    trainer.close()
    assert live_threads() == base


def test_hyperparameters_change_while_running():
    trainer = LiveTrainer(SMALL, "cpu")
    try:
        trainer.start()
        trainer.set_hyperparameters(lr_g=3e-4, loss="lsgan")
        pub = trainer.wait_idle()
        assert pub.config.lr_g == 3e-4 and pub.config.loss == "lsgan" and "Applied" in pub.message
        with pytest.raises(UserError):
            trainer.set_hyperparameters(lr_d=float("inf"))
    finally:
        trainer.close()


def test_a_diverged_run_says_where_and_can_be_reset():
    trainer = LiveTrainer(SMALL, "cpu")
    try:
        trainer.step(3)
        trainer.wait_idle()
        gan = trainer._gan  # poison the worker's nets from the worker's own queue order
        for p in gan.G.parameters():
            p.data.fill_(float("nan"))
        trainer.step(2)
        pub = trainer.wait_idle()
        assert pub.status == "diverged" and "Diverged at step 4" in pub.message
        trainer.start()  # refuses to run on
        assert trainer.wait_idle().status == "diverged"
        trainer.reset()
        pub = trainer.wait_idle()
        assert pub.status == "ready" and pub.step == 0 and pub.config.seed == SMALL.seed + 1
    finally:
        trainer.close()


def test_slow_motion_publishes_a_sentence_per_phase():
    trainer = LiveTrainer(SMALL, "cpu")
    try:
        seen = []
        for _ in range(6):
            trainer.slow_motion_next()
            seen.append(trainer.wait_idle().message)
        assert [s[:3] for s in seen] == [f"{i}/6" for i in range(1, 7)]
        assert trainer.published.step == 1 and "arrows" in trainer.published.phase
    finally:
        trainer.close()


def test_the_room_is_full_after_the_cap_and_frees_up_when_one_closes():
    pool = TrainerPool(capacity=2)
    a, b = pool.open(SMALL, "cpu", owner="s1"), pool.open(SMALL, "cpu", owner="s2")
    with pytest.raises(UserError, match="room is full"):
        pool.open(SMALL, "cpu")
    assert pool.close_owner("s1") == 1
    c = pool.open(SMALL, "cpu")
    pool.close_all()
    assert a.closed and b.closed and c.closed and pool.active == 0


def test_an_unwatched_trainer_stops_by_itself():
    trainer = LiveTrainer(SMALL, "cpu", idle_timeout_s=0.5)
    trainer.start()
    assert wait_for(lambda: trainer.closed, timeout=10)
    # its own thread, not a count: trainers of earlier tests may still be winding down
    assert wait_for(lambda: not trainer._thread.is_alive())


def test_session_frames_exports_and_timelapse(tmp_path):
    pool = TrainerPool(capacity=1)
    session = TrainSession(pool)
    with pytest.raises(UserError, match="Nothing to export"):
        session.export_csv()
    trainer = session.ensure(SMALL)
    trainer.step(30)
    trainer.wait_idle()
    assert session.frame() is not None
    trainer.step(30)
    trainer.wait_idle()
    frame = session.frame(show_arrows=True)
    assert frame.image.shape == (420, 420, 3)
    csv = session.export_csv().read_text().splitlines()
    assert csv[0].startswith("step,d_loss,g_loss") and len(csv) == 61
    assert session.export_png().stat().st_size > 1000
    assert session.export_gif().read_bytes()[:3] == b"GIF"
    session.close()
    assert pool.active == 0


def test_an_abandoned_session_lets_go_of_its_trainer_and_timelapse_when_the_trainer_idles_out():
    # A visitor who leaves without a goodbye keeps their TrainSession in the server's state store;
    # the soak benchmark saw the server grow with every such visitor before this.
    import gc
    import weakref

    pool = TrainerPool(capacity=2, idle_timeout_s=1.0)
    session = TrainSession(pool)
    session.start(SMALL)
    for _ in range(5):
        time.sleep(0.1)
        session.frame()
    assert len(session.frames) >= 2 and isinstance(session.frames[0], bytes)  # compact PNGs
    gone = weakref.ref(session.trainer)
    assert wait_for(lambda: session.trainer is None, timeout=15)  # nobody looked for 1 s
    assert session.frames == [] and session.frame() is None and pool.active == 0
    gc.collect()
    assert wait_for(lambda: gone() is None)  # the nets and data went with it
    session.start(SMALL)  # Start again simply opens a new run
    assert session.trainer is not None and not session.trainer.closed
    session.close()


def test_the_views_draw_from_the_weight_average_when_it_is_on():
    import numpy as np
    import torch

    trainer = LiveTrainer(ToyTrainConfig(**{**SMALL.__dict__, "g_average": 0.9}), "cpu")
    try:
        trainer.step(10)
        pub = trainer.wait_idle()
        gan, _ = trainer.reader()
        assert gan.G_avg is not None and np.allclose(gan.samples(50), trainer._gan.samples(50))
        z = gan.noise(50, torch.Generator().manual_seed(gan.eval_gen_seed))
        assert not np.allclose(gan.samples(50), gan.G(z).detach().numpy())  # G itself draws elsewhere
        trainer.set_hyperparameters(g_average=0.0)
        trainer.step(1)
        trainer.wait_idle()
        gan, _ = trainer.reader()
        assert gan.G_avg is None and pub.g_avg_state
    finally:
        trainer.close()


def test_a_metric_that_has_not_changed_since_its_first_evaluation_still_draws_a_line():
    import numpy as np

    from gan_demo import plots

    nan = float("nan")
    h = {"step": np.arange(1, 8), "kl": np.array([nan, nan, 2.0, 2.0, 2.0, 2.0, 2.0])}
    points = plots.at_evaluations(h, "kl")
    assert list(points["step"]) == [3, 7] and list(points["kl"]) == [2.0, 2.0]
    h["kl"] = np.array([nan, 3.0, 3.0, 1.0, 1.0, 1.0, nan])
    assert list(plots.at_evaluations(h, "kl")["step"]) == [2, 4, 6]


def test_quality_charts_count_modes_only_on_data_with_several_modes():
    import numpy as np

    from gan_demo import plots

    h = {"step": np.arange(1, 5), "modes": np.array([1.0, 1, 1, 1]), "hq_pct": np.array([90.0, 95, 99, 99]),
         "kl": np.array([0.5, 0.4, 0.3, 0.3]), "js": np.array([0.1, 0.05, 0.02, 0.02])}
    ring = plots.quality_curves(h, "ring8")
    assert [t for t, _ in ring] == ["Modes covered", "High-quality samples %"]
    assert list(ring[1][1]["value"]) == [90.0, 95.0, 99.0, 99.0]
    gauss = plots.quality_curves(h, "gauss1d")  # one "mode": KL and JS say more
    assert [t.split()[0] for t, _ in gauss] == ["KL(real", "JS"]
    h["modes"] = np.full(4, np.nan)  # the spiral: no modes at all
    assert plots.quality_curves(h, "spiral")[0][0].startswith("KL")


def test_a_reset_run_keeps_its_data_sets_quality_charts_and_axes():
    # A reset grid run has measured nothing yet: its charts stay "Modes covered" / "High-quality %"
    # (they once turned into KL and JS, with the old run's line left on them).
    import numpy as np

    from gan_demo import plots

    empty = {c: np.zeros(0) for c in ("step", "modes", "hq_pct", "kl", "js")}
    grid = plots.quality_curves(empty, "grid25")
    assert [t for t, _ in grid] == ["Modes covered", "High-quality samples %"]
    assert plots.quality_axis(grid[0][0], "grid25")["y_lim"] == [0, 25]
    assert plots.quality_axis(grid[0][0], "ring8")["y_lim"] == [0, 8]
    assert plots.quality_axis(grid[1][0], "grid25")["y_lim"] == [0, 100]
    assert plots.quality_axis(plots.QUALITY_TITLES["js"], "moons")["y_lim"][1] >= np.log(2)
    frame = grid[0][1]  # nothing to draw, over steps 0-100 (one step made an axis tick read "NaN")
    assert frame["value"].isna().all() and sorted(set(frame["step"])) == [0, 100]


def test_every_series_is_in_every_chart_frame_even_before_it_has_a_value():
    # Gradio's LinePlot takes its legend and colours from the first frame it is sent: a series
    # missing from that frame (a reset run) was drawn with no legend entry for the rest of the run.
    import numpy as np

    from gan_demo import plots

    empty = {"step": np.zeros(0, np.int64), "d_loss": np.zeros(0), "g_loss": np.zeros(0)}
    frame = plots.with_level(plots.curves_frame(empty, ["d_loss", "g_loss"], {"d_loss": "D loss", "g_loss": "G loss"},
                                                smooth=9), 0.5, "0.5")
    assert set(frame["series"]) == {"D loss", "G loss", "0.5"}
    assert frame.loc[frame["series"] != "0.5", "value"].isna().all()  # present, drawing nothing
    h = {"step": np.arange(1, 4), "d_loss": np.array([1.0, 0.9, 0.8]), "g_loss": np.full(3, np.nan)}
    frame = plots.curves_frame(h, ["d_loss", "g_loss"], {"d_loss": "D loss", "g_loss": "G loss"})
    assert list(frame["series"]).count("D loss") == 3 and list(frame["series"]).count("G loss") == 1


def test_the_half_line_is_drawn_only_where_ds_score_drifts_to_a_half():
    import numpy as np

    from gan_demo import plots
    from gan_demo.ui.common import score_chart
    from gan_demo.ui.versus import shared_curves

    def series(update):  # the chart update's plotted series, and its legend
        value = update.value
        return {row[value["columns"].index("series")] for row in value["data"]}, set(update.color_map)

    h = {"step": np.arange(1, 4), "d_real": np.array([3.0, 2.5, 2.0]), "d_fake": np.array([-3.0, -2.0, -1.5])}
    frame = plots.curves_frame(h, ["d_real", "d_fake"], {"d_real": "D(x)", "d_fake": "D(G(z))"})
    for losses in (["ns"], ["lsgan", "minimax"]):
        drawn, legend = series(score_chart(frame, losses))
        assert "0.5 (can't tell)" in drawn and "0.5 (can't tell)" in legend
    for losses in (["wgan-gp"], ["hinge"], ["ns", "wgan"]):  # a critic's raw score has no 0.5
        drawn, legend = series(score_chart(frame, losses))
        assert "0.5 (can't tell)" not in drawn | legend and {"D(x)", "D(G(z))"} <= legend
    full = {**h, "d_loss": h["d_real"], "g_loss": h["d_fake"], "modes": np.full(3, np.nan),
            "kl": np.full(3, np.nan), "js": np.full(3, np.nan)}
    _, scores, _ = shared_curves("ring8", {"A": full, "B": full}, ("ns", "wgan-gp"))
    drawn, legend = series(scores)
    assert not any(s.startswith("0.5") for s in drawn | legend) and "A D(x)" in legend


def test_start_after_picking_other_data_trains_on_that_data_and_live_settings_carry_on():
    from dataclasses import replace

    pool = TrainerPool(capacity=1)
    session = TrainSession(pool)
    try:
        ring = replace(SMALL, dataset="ring8")
        session.step(ring, 20, "both")
        session.pause()
        faster = replace(ring, lr_d=ring.lr_d * 2)
        session.start(faster)  # a live setting: the same run goes on
        session.pause()
        pub = session.trainer.published
        assert pub.step >= 20 and pub.config.lr_d == faster.lr_d and pub.config.dataset == "ring8"
        generation = pub.generation
        spiral = replace(faster, dataset="spiral")
        session.start(spiral)  # other data: new nets on the spiral, from step 0
        session.pause()
        pub = session.trainer.published
        assert pub.config.dataset == "spiral" and pub.generation > generation
    finally:
        session.close()


def test_a_live_trainer_thread_runs_below_the_request_threads_priority():
    import os
    import sys

    from gan_demo.training.live import TRAINER_NICENESS

    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread niceness is Linux's")
    pool = TrainerPool(capacity=1)
    trainer = pool.open(SMALL)
    try:
        deadline = time.time() + 10
        while trainer._thread.native_id is None and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the thread lowers itself as its loop starts
        assert os.getpriority(os.PRIO_PROCESS, trainer._thread.native_id) == TRAINER_NICENESS
        assert os.getpriority(os.PRIO_PROCESS, 0) < TRAINER_NICENESS  # this (request) thread is not lowered
    finally:
        trainer.close()
