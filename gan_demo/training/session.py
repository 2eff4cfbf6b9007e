"""One person's Train-tab session: their live trainer, the frames of its timelapse, and exports.

The UI keeps one ``TrainSession`` per browser session (in ``gr.State``); this file holds what
that session does, so the UI file only wires widgets. No Gradio import.
"""

from __future__ import annotations

import io
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import plots
from ..errors import UserError
from .live import LiveTrainer, Published, TrainerPool
from .live_run import RunConfig, build_run, live_changes, rebuild_reason, run_kind

MAX_FRAMES = 240


class SessionRegistry:
    """One object per (browser session, kind): a Train session, an Images session, a Versus race.

    A page's first calls can arrive together (a script, a double click, a reconnect): each then
    finds its ``gr.State`` empty, and without this each built its own session and trainer, so one
    visitor held every slot of the pool while the orphans trained on. Here the concurrent first
    calls get the same object. Entries are weak: the page's state keeps its objects alive, and
    they go when the page does.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._objects: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    def get(self, owner: str | None, kind: str, make):
        """The owner's object of this kind, made by ``make()`` on first use (no owner: a new one)."""
        if not owner:
            return make()
        with self._lock:
            obj = self._objects.get((owner, kind))
            if obj is None:
                obj = make()
                self._objects[(owner, kind)] = obj
            return obj

    def drop_owner(self, owner: str) -> None:
        with self._lock:
            for key in [k for k in list(self._objects.keys()) if k[0] == owner]:
                self._objects.pop(key, None)

    def __len__(self) -> int:
        return len(self._objects)


@dataclass
class Frame:
    image: np.ndarray
    published: Published


@dataclass
class TrainSession:
    pool: TrainerPool
    owner: str | None = None  # the browser session, so the pool can stop its trainer on unload
    client: str | None = None  # the visitor's address, for the pool's per-visitor cap
    trainer: LiveTrainer | None = None
    frames: list[bytes] = field(default_factory=list)  # the timelapse, as fast-compressed PNGs
    _frame_steps: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workdir: Path | None = None
    _last: tuple | None = None  # (publication key, Frame) of the last drawing

    # -- lifecycle -----------------------------------------------------------------------------
    def ensure(self, cfg: RunConfig) -> LiveTrainer:
        """The session's trainer, opened from ``cfg`` on first use (or after it closed); a run of
        the other kind (toy data vs images) is replaced by one from ``cfg``."""
        with self._lock:
            if self.trainer is None or self.trainer.closed:
                self.trainer = self._open(cfg)
                self.frames, self._frame_steps = [], []
            trainer = self.trainer
        if type(trainer.published.config) is not type(cfg):
            self.reset(cfg)
            trainer.wait_idle(timeout=60)
        self.pool.claim(trainer)  # a run that gave its slot back while paused takes one again
        return trainer

    def _open(self, cfg: RunConfig) -> LiveTrainer:
        return self.adopt(self.pool.open(cfg, owner=self.owner, client=self.client))

    def adopt(self, trainer: LiveTrainer) -> LiveTrainer:
        """Make ``trainer`` (opened from the pool) this session's."""
        self.trainer = trainer
        # A visitor who leaves without a goodbye keeps this session in the server's state store
        # for a long while: once the trainer stops (idle timeout), let go of it and the timelapse.
        me = weakref.ref(self)
        trainer.when_closed(lambda t: (s := me()) is not None and s._forget(t))
        return trainer

    def _forget(self, trainer: LiveTrainer) -> None:
        with self._lock:
            if self.trainer is trainer:
                self.trainer, self.frames, self._frame_steps, self._last = None, [], [], None

    def start(self, cfg: RunConfig) -> None:
        """Start (or resume) training with ``cfg`` (see ``apply``)."""
        trainer = self.apply(cfg)
        trainer.start()
        trainer.wait_idle()

    def apply(self, cfg: RunConfig) -> LiveTrainer:
        """The session's trainer, set to ``cfg``. Settings a running trainer takes as they are (the
        loss, D steps, learning rates, batch size...) apply at the next step; any other change (the
        data, the networks, the seed) means new networks from ``cfg``, from step 0: a user who picks
        the spiral and presses Start (or Step) expects the spiral, not the ring going on."""
        trainer = self.ensure(cfg)
        current = trainer.published.config
        if type(current) is type(cfg) and current != cfg:
            live = live_changes(current, cfg)
            if live is not None:
                trainer.set_hyperparameters(**live)
            else:
                self.reset(cfg, rebuild_reason(current, cfg))
        return trainer

    def pause(self) -> None:
        if self.trainer is not None:
            self.trainer.pause()
            self.trainer.wait_idle()

    def step(self, cfg: RunConfig, n: int, update: str, timeout: float = 120.0) -> None:
        """Run ``n`` steps now ("both", "d" or "g") with ``cfg`` (see ``apply``), and wait for them."""
        trainer = self.apply(cfg)
        trainer.step(n, update)
        trainer.wait_idle(timeout=timeout)

    def reset(self, cfg: RunConfig, why: str = "") -> None:
        with self._lock:
            if self.trainer is None or self.trainer.closed:
                self.trainer = self._open(cfg)
            trainer = self.trainer
        trainer.reset(cfg, why)
        with self._lock:
            self.frames, self._frame_steps = [], []

    def close(self) -> None:
        with self._lock:
            trainer, self.trainer = self.trainer, None
            self.frames, self._frame_steps, self._last = [], [], None
        if trainer is not None:
            trainer.close()

    # -- views ---------------------------------------------------------------------------------
    def frame(self, show_manifold: bool = True, show_arrows: bool = False) -> Frame | None:
        """Draw the latest published state; keeps a thinned-out timelapse as it goes."""
        trainer = self.trainer
        if trainer is None:
            return None
        pub = trainer.snapshot()
        key = (pub.version, show_manifold, show_arrows)
        if self._last is not None and self._last[0] == key:
            return self._last[1]  # nothing new was published: don't redraw (saves the trainer's CPU)
        gan, pub = trainer.reader()
        image = gan.render(pub.phase, show_manifold, show_arrows)
        with self._lock:
            if not self._frame_steps or pub.step > self._frame_steps[-1]:
                self.frames.append(_png(image))
                self._frame_steps.append(pub.step)
                if len(self.frames) > MAX_FRAMES:  # keep every other frame: an even, bounded timelapse
                    self.frames, self._frame_steps = self.frames[::2], self._frame_steps[::2]
        frame = Frame(image, pub)
        self._last = ((pub.version, show_manifold, show_arrows), frame)
        return frame

    # -- exports -------------------------------------------------------------------------------
    def _dir(self) -> Path:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="gan_train_"))
        return self._workdir

    def _need(self) -> LiveTrainer:
        if self.trainer is None:
            raise UserError("Nothing to export yet: press Start or Step first.")
        return self.trainer

    def export_csv(self) -> Path:
        pub = self._need().snapshot()
        return plots.history_csv(pub.history, self._dir() / f"history_step{pub.step}.csv")

    def export_png(self, show_manifold: bool = True, show_arrows: bool = False) -> Path:
        frame = self.frame(show_manifold, show_arrows)
        if frame is None:
            raise UserError("Nothing to export yet: press Start or Step first.")
        return plots.save_png(frame.image, self._dir() / f"view_step{frame.published.step}.png")

    def export_gif(self) -> Path:
        self._need()
        with self._lock:
            frames = [_unpng(f) for f in self.frames]
        if len(frames) < 2:
            raise UserError("The timelapse needs a few frames: let training run for a moment first.")
        path = self._dir() / f"timelapse_{len(frames)}frames.gif"
        frames = [f for f in frames if f.shape == frames[-1].shape]  # a reset may change the view's size
        path.write_bytes(plots.gif_bytes(frames, fps=12))
        return path

    def save_to_zoo(self, folder: Path, name: str) -> tuple[Path, dict]:
        """The image run's current G as a zoo entry ``FOLDER/NAME.safetensors`` + ``.json``."""
        pub = self._need().snapshot()
        if not run_kind(pub.config).saves_to_zoo:
            raise UserError("Only image runs can be saved to the zoo; toy runs export a CSV, PNG or GIF.")
        if pub.step == 0:
            raise UserError("Train for a few steps before saving: an untrained G draws noise.")
        # A private copy from the publication: saving never waits for, or races with, the views.
        gan = build_run(pub.config, "cpu", view_only=True)
        gan.G.load_state_dict(pub.g_state)
        if gan.G_avg is not None and pub.g_avg_state:  # what the grid showed is what is saved
            gan.G_avg.load_state_dict(pub.g_avg_state)
        fid = pub.history["frechet"]
        last = float(fid[np.isfinite(fid)][-1]) if np.isfinite(fid).any() else None
        card = gan.save_to_zoo(Path(folder) / name, name, pub.step, pub.elapsed_s, last)
        return Path(folder) / f"{name}.safetensors", card


def _png(image: np.ndarray) -> bytes:
    # About a tenth of the raw pixels (a toy view is 0.5 MB raw) for a few milliseconds per frame.
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _unpng(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
