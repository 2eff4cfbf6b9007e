"""Every lesson preset shows what its text says (seeded runs of the preset's own length)."""

from dataclasses import replace

import numpy as np
import pytest

from gan_demo.training.lessons import LESSONS, get_lesson
from gan_demo.training.toy import ToyGAN, ToyTrainConfig


def run(key, **changes):
    lesson = get_lesson(key)
    gan = ToyGAN(replace(lesson.config(), eval_every=250, **changes))
    gan.run(lesson.steps)
    return gan


def final_modes(gan, last=4):
    return float(np.mean([e["modes"] for e in gan.evals[-last:]]))


def final_hq(gan, last=4):
    return float(np.mean([e["hq_pct"] for e in gan.evals[-last:]]))


@pytest.fixture(scope="module")
def collapsed():
    return run("collapse")


def test_every_lesson_has_a_title_two_sentences_and_a_valid_config():
    for lesson in LESSONS.values():
        assert lesson.text.count(". ") >= 1 and lesson.title
        ToyGAN(lesson.config())  # validates


def test_the_train_tab_loads_every_setting_a_lesson_uses():
    from gan_demo.ui.train import FIELDS  # the widgets "Load lesson" fills

    for lesson in LESSONS.values():
        cfg = lesson.config()
        from_widgets = ToyTrainConfig(**{f: getattr(cfg, f) for f in FIELDS})
        assert replace(from_widgets, eval_every=cfg.eval_every) == cfg, lesson.key


def test_equilibrium_d_settles_at_one_half():
    gan = run("equilibrium")
    h = gan.history()
    assert abs(h["d_real"][-200:].mean() - 0.5) < 0.05 and abs(h["d_fake"][-200:].mean() - 0.5) < 0.05
    assert abs(gan.samples(2000).mean() - 4.0) < 0.3
    assert abs(gan.samples(2000).std() - 0.5) < 0.2  # G's histogram matches the real one, not a spike at 4


def test_minimax_saturates_where_nonsaturating_takes_off():
    stuck, moving = run("minimax"), run("minimax", loss="ns")
    assert abs(stuck.samples(2000).mean() - 4.0) > 3.0  # fakes still far from N(4, 0.5)
    assert stuck.history()["d_fake"][-50:].mean() < 0.05  # D rejects them confidently
    assert abs(moving.samples(2000).mean() - 4.0) < 0.5


# Seeds 0-4 of each claim are measured by benchmarks/lesson_cures.py; these run the lessons' own seed.
def test_plain_run_collapses_onto_a_few_modes_and_stays(collapsed):
    modes = [e["modes"] for e in collapsed.evals]
    assert final_modes(collapsed) <= 3 and max(modes[len(modes) // 2:]) <= 3


def test_minibatch_discrimination_spreads_the_points_between_the_modes(collapsed):
    mbd = run("cure-mbd")
    assert final_hq(mbd) <= final_hq(collapsed) - 15  # scattered off the modes
    assert final_modes(mbd) <= final_modes(collapsed) + 1  # and no missing mode found


def test_wgan_gp_covers_most_of_the_ring(collapsed):
    cured = run("cure-wgan-gp")
    assert final_modes(cured) >= 6 and final_modes(cured) >= final_modes(collapsed) + 4


def test_training_the_weaker_network_sits_d_out_and_the_collapse_stays():
    # Three seeds and their median: one seed's count moves by a mode or two with the CPU's float
    # rounding (seed 0 ended at 3.25 modes on one machine, 4 on another), the claim does not.
    runs = [run("cure-weaker", seed=seed) for seed in (0, 1, 2)]
    for weaker in runs:
        assert (weaker.history()["updated"] == 2).sum() >= 20  # 2 = G alone: D sat steps out
    assert np.median([final_modes(weaker) for weaker in runs]) <= 3
