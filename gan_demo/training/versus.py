"""Versus mode: two live runs with the same data, seed and networks and exactly one difference.

``Versus`` owns the pair of ``TrainSession``s a browser session races; ``make_pair`` turns a base
config plus one chosen difference into the two configs (so nothing else can differ), and
``PRESETS`` pit each Train-tab lesson against its counterpart. No Gradio import.
"""

from __future__ import annotations

import threading

from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import UserError
from .lessons import LESSONS
from .image_config import LIVE_MODELS, ImageConfig
from .live import Lockstep, TrainerPool
from .live_run import RunConfig, check_run_config
from .session import TrainSession
from .toy import ToyTrainConfig

TOY_DATASETS = ["ring8", "grid25", "gauss1d", "spiral", "moons"]
IMAGE_DATASETS = ["fashion", "mnist"]

# The one thing that may differ between the two runs, and how a typed value is read.
DIFFERENCES = {
    "loss": "the loss (ns, minimax, wgan, wgan-gp, hinge, lsgan)",
    "minibatch_disc": "minibatch discrimination (on/off; toy data only)",
    "d_steps": "D steps per G step",
    "lr": "the learning rate of both networks",
    "train_weaker": "train only the weaker network (on/off)",
    "n_discriminators": "the number of discriminators (GMAN, 1-8; toy data only)",
}


# How a run's label names its difference: "A: D steps 5", "B: minibatch discrimination on".
SHORT_NAMES = {"loss": "loss", "minibatch_disc": "minibatch discrimination", "d_steps": "D steps",
               "lr": "learning rate", "train_weaker": "train only the weaker network",
               "n_discriminators": "discriminators"}


# The values offered for each difference (a user may type another one: it is validated as typed).
VALUE_CHOICES = {
    "loss": ["ns", "minimax", "wgan", "wgan-gp", "hinge", "lsgan"],
    "minibatch_disc": ["off", "on"],
    "d_steps": ["1", "2", "3", "5", "10"],
    "lr": ["1e-4", "2e-4", "5e-4", "1e-3", "2e-3", "5e-3", "1e-2"],
    "train_weaker": ["off", "on"],
    "n_discriminators": ["1", "2", "3", "5", "8"],
}


def value_text(name: str, value: Any) -> str:
    """A difference's value as its choice reads: on/off for switches, 1e-3 for a learning rate."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if name == "lr":
        return f"{float(value):.0e}".replace("e-0", "e-")
    return str(value)


def _parse(name: str, value: Any) -> Any:
    from ..validate import as_bool, as_float, as_int

    if name == "loss":
        return str(value).strip()
    if name in ("minibatch_disc", "train_weaker"):
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("on", "true", "yes", "1"):
                return True
            if text in ("off", "false", "no", "0"):
                return False
        return as_bool(value, name)
    if name == "d_steps":
        return as_int(value, "D steps", 1, 20)
    if name == "n_discriminators":
        return as_int(value, "discriminators", 1, 8)
    return as_float(value, "learning rate", 1e-6, 1.0)


def with_difference(cfg: RunConfig, name: str, value: Any) -> RunConfig:
    """``cfg`` with the difference ``name`` set to ``value``, validated."""
    from ..validate import as_choice

    name = as_choice(name, "difference", list(DIFFERENCES))
    value = _parse(name, value)
    if isinstance(cfg, ImageConfig) and name in ("minibatch_disc", "n_discriminators"):
        raise UserError(f"{DIFFERENCES[name].split(' (')[0].capitalize()} is built into the toy networks only; "
                        "pick another difference for images.")
    changes = {"lr_d": value, "lr_g": value} if name == "lr" else {name: value}
    return check_run_config(replace(cfg, **changes))


def current_value(cfg: RunConfig, name: str) -> Any:
    return cfg.lr_d if name == "lr" else getattr(cfg, name)


def make_pair(base: RunConfig, name: str, value_a: Any, value_b: Any) -> tuple[RunConfig, RunConfig]:
    """Two configs identical but for ``name``; refuses a "difference" that differs in nothing."""
    a, b = with_difference(base, name, value_a), with_difference(base, name, value_b)
    if current_value(a, name) == current_value(b, name):
        raise UserError(f"A and B have the same {name} ({current_value(a, name)}): give B another value.")
    return a, b


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    text: str
    base: RunConfig
    difference: str
    a: Any
    b: Any
    steps: int = 3000


def _lesson(key: str, **changes) -> ToyTrainConfig:
    return replace(LESSONS[key].config(), eval_every=100, **changes)


PRESETS: dict[str, Preset] = {p.key: p for p in (
    Preset("minimax", "Minimax vs non-saturating",
           LESSONS["minimax"].text + " Here both run at once: A keeps minimax, B switches to ns.",
           _lesson("minimax"), "loss", "minimax", "ns", LESSONS["minimax"].steps),
    Preset("mbd", "Mode collapse vs minibatch discrimination", LESSONS["cure-mbd"].text,
           _lesson("collapse"), "minibatch_disc", False, True, LESSONS["cure-mbd"].steps),
    # WGAN-GP trains its critic five times per G step; A does too, so the loss is the one difference.
    Preset("wgan-gp", "Mode collapse vs WGAN-GP", LESSONS["cure-wgan-gp"].text
           + " A also takes five D steps per G step, so the loss is the only difference.",
           _lesson("cure-wgan-gp", loss="ns"), "loss", "ns", "wgan-gp", LESSONS["cure-wgan-gp"].steps),
    Preset("weaker", "Mode collapse vs training the weaker network", LESSONS["cure-weaker"].text
           + " A also takes three D steps per G step, so the rule is the only difference.",
           _lesson("cure-weaker", train_weaker=False), "train_weaker", False, True,
           LESSONS["cure-weaker"].steps),
    Preset("equilibrium", "Equilibrium: learning rate 1e-3 vs 1e-2",
           LESSONS["equilibrium"].text + " B learns ten times faster: watch whether its D(x) and D(G(z)) "
           "settle at 0.5 as calmly as A's.",
           _lesson("equilibrium"), "lr", 1e-3, 1e-2, LESSONS["equilibrium"].steps),
    Preset("images-loss", "Images: non-saturating vs hinge loss",
           "Two DCGANs learn Fashion-MNIST from the same seed; only the loss differs. Compare how fast "
           "the garments in the fixed grids sharpen and which Frechet distance falls faster.",
           ImageConfig(), "loss", "ns", "hinge", 2000),
)}


def get_preset(key: str) -> Preset:
    if not isinstance(key, str) or key not in PRESETS:
        raise UserError(f"Unknown preset {key!r}; choose one of: {', '.join(PRESETS)}.")
    return PRESETS[key]


def base_config(mode: str, preset_key: str | None, dataset: str, model: str, seed) -> RunConfig:
    """The settings both runs share: the preset's (hidden ones too), then the visible choices."""
    from ..validate import as_choice, as_seed

    mode = as_choice(mode, "mode", ["toy", "images"])
    preset = PRESETS.get(preset_key) if isinstance(preset_key, str) else None
    if mode == "toy":
        base = preset.base if preset is not None and isinstance(preset.base, ToyTrainConfig) else ToyTrainConfig(
            eval_every=100)
        return replace(base, dataset=as_choice(dataset, "toy data set", TOY_DATASETS), seed=as_seed(seed))
    base = preset.base if preset is not None and isinstance(preset.base, ImageConfig) else ImageConfig()
    return replace(base, dataset=as_choice(dataset, "image data set", IMAGE_DATASETS),
                   model=as_choice(model, "model", list(LIVE_MODELS)), seed=as_seed(seed))



@dataclass
class Versus:
    """One browser session's race: two trainers that start, pause and reset together."""

    pool: TrainerPool
    owner: str | None = None
    client: str | None = None
    runs: dict[str, TrainSession] = field(default_factory=dict)
    difference: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # "A" -> "A: loss ns"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start_with(self, cfg_a: RunConfig, cfg_b: RunConfig, difference: str) -> None:
        """Start both runs; new settings open a new race from step 0 first. One call at a time, so
        two Start presses at once cannot open two races and orphan the first."""
        with self._lock:
            if self.configs() != (cfg_a, cfg_b):
                self.open(cfg_a, cfg_b, difference)
            self.start()

    def open(self, cfg_a: RunConfig, cfg_b: RunConfig, difference: str) -> None:
        """Start from fresh nets for both (both count against the pool; all or nothing)."""
        self.close()
        try:
            trainers = self.pool.open_many([cfg_a, cfg_b], owner=self.owner, client=self.client)
        except UserError as exc:
            raise UserError(f"Versus needs two live trainers at once. {exc}") from None
        a, b = (TrainSession(self.pool, owner=self.owner, client=self.client) for _ in range(2))
        a.adopt(trainers[0])
        b.adopt(trainers[1])
        self.runs = {"A": a, "B": b}
        lockstep = Lockstep()  # equal steps, not equal luck: the slower run sets the pace
        for run in self.runs.values():
            run.trainer.keep_pace(lockstep)
        self.difference = difference
        self.labels = {k: f"{k}: {SHORT_NAMES[difference]} {value_text(difference, current_value(c, difference))}"
                       for k, c in (("A", cfg_a), ("B", cfg_b))}

    @property
    def is_open(self) -> bool:
        return bool(self.runs) and all(r.trainer is not None and not r.trainer.closed for r in self.runs.values())

    def configs(self) -> tuple[RunConfig, RunConfig] | None:
        if not self.is_open:
            return None
        return self.runs["A"].trainer.published.config, self.runs["B"].trainer.published.config

    def _each(self, command: str, *args) -> None:
        if not self.is_open:
            raise UserError("Press Start first: there is no race yet.")
        for run in self.runs.values():
            getattr(run.trainer, command)(*args)
        for run in self.runs.values():
            run.trainer.wait_idle(timeout=300)

    def start(self) -> None:
        self._claim()
        self._each("start")

    def pause(self) -> None:
        """Pause both, then bring the one behind level, so the views compare the same step."""
        self._each("pause")
        self._level(0)

    def step(self, n: int) -> None:
        """Both runs to the same step: ``n`` past the one ahead."""
        self._claim()
        self._each("pause")
        self._level(n)

    def _claim(self) -> None:
        """Runs that gave their slots back while paused take two again, or neither."""
        if self.is_open:
            try:
                self.pool.claim(*(run.trainer for run in self.runs.values()))
            except UserError as exc:
                raise UserError(f"This race was paused and gave its two slots back. {exc}") from None

    def _level(self, n: int) -> None:
        target = max(run.trainer.published.step for run in self.runs.values()) + n
        for run in self.runs.values():
            if target > run.trainer.published.step:
                run.trainer.step(target - run.trainer.published.step, "both")
        for run in self.runs.values():
            run.trainer.wait_idle(timeout=300)

    def close(self) -> None:
        for run in self.runs.values():
            run.close()
        self.runs = {}

