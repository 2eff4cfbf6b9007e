"""Lesson presets for the Train tab: a configuration, two sentences, and what the class should see.

Each preset's claim is checked by tests/test_lessons.py, which trains it for ``steps`` and asserts
what the text says, so a preset never promises something it does not show.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .errors import UserError
from .training.toy import ToyTrainConfig


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    text: str
    settings: dict[str, Any] = field(default_factory=dict)
    steps: int = 3000  # how long the effect takes to show on a laptop CPU

    def config(self, base: ToyTrainConfig | None = None) -> ToyTrainConfig:
        return replace(base or ToyTrainConfig(), **self.settings)


# The mode-collapse lessons share one setting, so the cures differ from it in one switch only.
_COLLAPSE = dict(dataset="grid25", loss="ns", batch_size=128, lr_d=1e-3, lr_g=1e-3, noise_dim=2,
                 hidden_layers=3, width=128, minibatch_disc=False, train_weaker=False, d_steps=1,
                 total_steps=0, seed=0)

LESSONS: dict[str, Lesson] = {lesson.key: lesson for lesson in (
    Lesson("equilibrium", "Equilibrium: D(x) and D(G(z)) drift to 0.5",
           "A small GAN learns the 1D Gaussian N(4, 0.5): watch G's histogram (purple) slide onto the "
           "real one (green). Once they match, D cannot tell them apart and both D(x) and D(G(z)) "
           "settle near 0.5, the equilibrium of the game.",
           dict(dataset="gauss1d", loss="ns", batch_size=256, lr_d=1e-3, lr_g=1e-3, width=64,
                hidden_layers=2, noise_dim=1, total_steps=0, minibatch_disc=False, train_weaker=False),
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
    Lesson("collapse", "Mode collapse on the grid",
           "With the plain non-saturating loss, G chases whichever modes D currently rates as real "
           "and gives up on the others, so only part of the 25 Gaussians are ever covered. Watch the "
           "'modes covered' curve stall well below 25.",
           dict(_COLLAPSE), steps=4000),
    Lesson("cure-mbd", "Cure: minibatch discrimination",
           "The same run with minibatch discrimination: D sees how similar each sample is to the rest "
           "of its batch, so a collapsed G is easy to spot. G is pushed to spread out and covers many "
           "more modes.",
           dict(_COLLAPSE, minibatch_disc=True), steps=4000),
    Lesson("cure-wgan-gp", "Cure: WGAN-GP",
           "The same run with a Wasserstein critic, a gradient penalty and five critic steps per G "
           "step. The critic's score keeps giving useful gradients everywhere instead of saturating, "
           "so G is pulled toward the modes it has missed.",
           dict(_COLLAPSE, loss="wgan-gp", gp_weight=0.1, d_steps=5), steps=4000),
    Lesson("cure-weaker", "Cure: train only the weaker network",
           "The same run, but when one player is clearly ahead (D sorts more than 85 % or fewer than "
           "55 % of a batch right) only the other one is updated. Neither side runs away with the "
           "game, the covered modes stop swinging, and G holds more of the grid than the plain run.",
           dict(_COLLAPSE, train_weaker=True), steps=4000),
)}


def get_lesson(key: str) -> Lesson:
    if not isinstance(key, str) or key not in LESSONS:
        raise UserError(f"Unknown lesson {key!r}; choose one of: {', '.join(LESSONS)}.")
    return LESSONS[key]
