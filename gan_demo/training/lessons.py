"""Lesson presets for the Train tab: a configuration, two sentences, and what the class should see.

Each preset's claim is checked by tests/test_lessons.py, which trains it for ``steps`` and asserts
what the text says, so a preset never promises something it does not show.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import UserError
from .toy import ToyTrainConfig


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    text: str
    settings: dict[str, Any] = field(default_factory=dict)
    steps: int = 3000  # how long the effect takes to show on a laptop CPU

    def config(self, base: ToyTrainConfig | None = None) -> ToyTrainConfig:
        return replace(base or ToyTrainConfig(), **self.settings)

    def changed(self, values: dict[str, Any]) -> list[str]:
        """The settings among ``values`` (as widgets hold them: 256.0 for 256) that are no longer
        the lesson's; the seed may differ (Reset moves it)."""
        cfg = self.config()
        return [f for f, v in values.items() if f != "seed" and not _same(v, getattr(cfg, f))]


def _same(a, b) -> bool:
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


# The mode-collapse lessons share one setting, so each one differs from it in one switch only: the
# ring, with D learning ten times faster than G. G then settles on 2 or 3 of the 8 modes (5 on one
# seed of five; benchmarks/lesson_cures.py). On the grid, or with equal learning rates, the plain
# run covered anything from 3 to 7 ring modes or 11 to 15 grid modes depending on the seed, too
# chaotic to teach from, and minibatch discrimination did not cure either.
_COLLAPSE = dict(dataset="ring8", loss="ns", batch_size=128, lr_d=1e-3, lr_g=1e-4, noise_dim=2,
                 hidden_layers=3, width=128, minibatch_disc=False, minibatch_std=False, pack=1,
                 train_weaker=False, d_steps=1, total_steps=0, seed=0, g_average=0.0)

LESSONS: dict[str, Lesson] = {lesson.key: lesson for lesson in (
    Lesson("equilibrium", "Equilibrium: D(x) and D(G(z)) drift to 0.5",
           "A small GAN learns the 1D Gaussian N(4, 0.5): watch G's histogram (purple) slide onto the "
           "real one (green). Once they match, D cannot tell them apart and both D(x) and D(G(z)) "
           "settle near 0.5, the equilibrium of the game. (D also sees each batch's spread, the "
           "minibatch-std feature: without it G can settle as a narrow spike at 4 while D, fooled "
           "point by point, still says 0.5.)",
           # Without minibatch_std G shrank to a spike (std 0.09-0.2 against 0.5 on seeds 0 and 2
           # by step 4,000) while D sat at 0.5; with it the std stays 0.31-0.60 on seeds 0-3.
           dict(dataset="gauss1d", loss="ns", batch_size=256, lr_d=1e-3, lr_g=1e-3, width=64,
                hidden_layers=2, noise_dim=1, total_steps=0, minibatch_disc=False, train_weaker=False,
                minibatch_std=True),
           steps=2000),
    Lesson("minimax", "Minimax saturates",
           "With the original minimax loss G minimises log(1 - D(G(z))), which is flat where D "
           "confidently rejects the fakes, so plain gradient descent gives G almost nothing and its "
           "points barely move. Switch the loss to non-saturating (ns) and the same fakes take off "
           "toward the data.",
           dict(dataset="gauss1d", loss="minimax", optimizer="sgd", d_steps=10, batch_size=256,
                lr_d=0.05, lr_g=0.005, width=64, hidden_layers=2, noise_dim=1, total_steps=0,
                minibatch_disc=False, train_weaker=False),
           steps=600),
    Lesson("collapse", "Mode collapse on the ring",
           "D learns ten times faster than G, so G keeps chasing whichever modes D currently rates as "
           "real and gives up on the others: its points gather on one or a few of the eight Gaussians "
           "(often a single one) and stay there. Watch the 'modes covered' curve stall far below 8.",
           dict(_COLLAPSE), steps=3000),
    Lesson("cure-mbd", "Minibatch discrimination: spotted, not cured",
           "The same run with minibatch discrimination: D sees how alike the samples of a batch are, "
           "so a collapsed batch is easy to spot, and G answers by spreading its points out. On a ring "
           "this tight they scatter between the modes instead of finding the missing ones: the "
           "high-quality share falls and the covered modes stay few. Compare it with WGAN-GP.",
           dict(_COLLAPSE, minibatch_disc=True), steps=3000),
    Lesson("cure-wgan-gp", "Cure: WGAN-GP",
           "The same run with a Wasserstein critic, a gradient penalty and five critic steps per G "
           "step. The critic's score keeps giving useful gradients everywhere instead of saturating, "
           "so G is pulled toward the modes it has missed and spreads over most of the ring.",
           dict(_COLLAPSE, loss="wgan-gp", gp_weight=1.0, d_steps=5), steps=3000),
    Lesson("cure-weaker", "Train only the weaker network: not when G is slower",
           "D takes three steps per G step, and whenever it sorts more than 85 % of a batch right it "
           "sits the step out while G alone trains. But G, with a tenth of D's learning rate, still "
           "cannot find the missing modes, so the collapse stays: balancing the updates does not "
           "help when one player is simply slower.",
           dict(_COLLAPSE, d_steps=3, train_weaker=True), steps=3000),
)}


def get_lesson(key: str) -> Lesson:
    if not isinstance(key, str) or key not in LESSONS:
        raise UserError(f"Unknown lesson {key!r}; choose one of: {', '.join(LESSONS)}.")
    return LESSONS[key]
