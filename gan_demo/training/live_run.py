"""What a run must offer to be trained live: the ``LiveRun`` protocol and the kinds that implement it.

``live.LiveTrainer`` (the worker thread) and ``session.TrainSession`` (one visitor's run) use only
what is written here; they never ask which kind of run they hold. A new kind of live run is a
class with these members and one line in ``RUN_KINDS``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import torch

from .. import settings
from .image_config import ImageConfig
from .image_live import ImageGAN
from .toy import ToyGAN, ToyTrainConfig


@runtime_checkable
class LiveRun(Protocol):
    """One GAN run that a background thread steps and views read.

    The settings it takes while running are the config's ``live`` settings (``settings.live_settings``);
    any other change builds a new run."""

    cfg: Any
    step_count: int
    G: torch.nn.Module
    D: torch.nn.Module | None  # None in a view-only copy
    G_avg: torch.nn.Module | None  # a moving average of G's weights, when the config asks for one
    publishes_d: ClassVar[bool]  # whether views need D's weights (toy views draw D's landscape)
    saves_to_zoo: ClassVar[bool]  # whether Explore can load what it trains

    def __init__(self, cfg: Any, device: str | torch.device = "cpu", view_only: bool = False) -> None: ...

    def step(self, update: str = "both") -> None:
        """One iteration: "both", "d" (D only) or "g" (G only)."""

    def evaluate(self) -> dict[str, float]:
        """Measure now (modes, KL/JS or the Frechet distance) and add a point to the history."""

    def history(self) -> dict[str, np.ndarray]:
        """Per-step and per-evaluation columns, as the charts and the CSV export read them."""

    def check_divergence(self) -> int | None:
        """The step where the run went non-finite, or None."""

    def set_hyperparameters(self, **changes: Any) -> None:
        """Take new values of live settings at the next step; refuse any other change."""

    def step_phases(self):
        """Slow motion: an iterator over one step's phases (``UserError`` where there is none)."""

    def render(self, phase: dict[str, np.ndarray], show_manifold: bool, show_arrows: bool) -> np.ndarray:
        """The view of the run as an RGB image."""


# Each config type and the run it builds.
RUN_KINDS: dict[type, type] = {ToyTrainConfig: ToyGAN, ImageConfig: ImageGAN}
RunConfig = ToyTrainConfig | ImageConfig


def run_kind(cfg) -> type:
    kind = RUN_KINDS.get(type(cfg))
    if kind is None:
        raise TypeError(f"no live run for {type(cfg).__name__}")
    return kind


def check_run_config(cfg: RunConfig) -> RunConfig:
    """``cfg`` validated by its run kind's rules (``UserError`` naming the first bad setting)."""
    return run_kind(cfg).check(cfg)


def build_run(cfg: RunConfig, device: str | torch.device, view_only: bool = False) -> LiveRun:
    """The run a config describes; ``view_only``: a copy to draw from (no optimisers, no data)."""
    return run_kind(cfg)(cfg, device, view_only=view_only)


def rebuild_reason(current: RunConfig, new: RunConfig) -> str:
    """What the status line says when ``new`` needs new networks: the settings that changed, by label."""
    known = settings.specs(type(new))
    live = settings.live_settings(type(new))
    changed = [known[f].label if f in known else f for f in vars(new)
               if f not in live and getattr(current, f, None) != getattr(new, f)]
    if not changed:
        return ""
    return f"New networks from step 0: {', '.join(changed)} changed (a running trainer cannot take that)."


def live_changes(current: RunConfig, new: RunConfig) -> dict[str, Any] | None:
    """The live settings that take ``current`` to ``new``, or None when ``new`` needs a new run."""
    if type(current) is not type(new):
        return None
    live = {f: getattr(new, f) for f in settings.live_settings(type(new))}
    return live if replace(current, **live) == new else None
