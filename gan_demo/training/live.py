"""The live trainer: a ``LiveRun`` (toy or image GAN) trained by a background thread that views can watch at any rate.

One worker thread owns the GAN; every command (start, pause, step, reset, a changed learning rate,
the next slow-motion phase) is queued to it, so training code never needs a lock. About ten times
a second the worker publishes a ``Published`` record (a copy of the weights and the history); the
views rebuild their own copy of the nets from it, so drawing a frame never stops training
(GAN Lab's split of model and views). ``TrainerPool`` caps how many run at once on the machine.
"""

from __future__ import annotations

import copy
import os
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
import torch

from .. import settings
from ..errors import UserError
from .live_run import LiveRun, RunConfig, build_run, check_run_config


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class Published:
    """What the worker hands to readers; never mutated after publication."""

    version: int
    generation: int  # bumped by every reset: new nets, maybe new data
    status: str  # "ready", "running", "paused", "diverged", "closed"
    step: int
    steps_per_sec: float
    elapsed_s: float
    config: RunConfig
    g_state: dict[str, torch.Tensor]
    d_state: dict[str, torch.Tensor]
    history: dict[str, np.ndarray]
    message: str = ""
    phase: dict[str, np.ndarray] = field(default_factory=dict)  # slow-motion highlights
    g_avg_state: dict[str, torch.Tensor] = field(default_factory=dict)  # G's weight average, when on


class LiveTrainer:
    PUBLISH_EVERY_S = 0.1

    def __init__(self, cfg: RunConfig, device: str | None = None, idle_timeout_s: float = 900.0,
                 on_close: Callable[["LiveTrainer"], None] | None = None):
        self.device = device or default_device()
        self.owner: str | None = None
        self.client: str | None = None  # the owner's address, for the pool's per-visitor cap
        self.parked = False  # its slot was given back (TrainerPool); Start claims one again
        self._idle_since: float | None = time.monotonic()  # when it last stopped training
        self.idle_timeout_s = idle_timeout_s
        self._on_close = on_close
        self._close_listeners: list[Callable[["LiveTrainer"], None]] = []
        self._commands: queue.Queue = queue.Queue()
        self._gan = build_run(cfg, self.device)
        self._running = False
        self._closed = threading.Event()
        self._phases = None
        self._phase: dict[str, np.ndarray] = {}
        self._message = ""
        self._reset_note = ""  # why the last reset built new networks, until a Start or Step shows it
        self._steps_per_sec = 0.0
        self._elapsed = 0.0
        self._max_rate = 0.0  # steps per second; 0 = as fast as it goes
        self._last_read = time.monotonic()
        self._version = 0
        self._generation = 0
        self.published = self._make_published()
        self._reader_lock = threading.Lock()
        self._reader_nets: tuple[LiveRun, int, int] | None = None  # (nets, generation, version)
        self._lockstep: Lockstep | None = None
        self._thread = threading.Thread(target=self._loop, name="live-trainer", daemon=True)
        self._thread.start()

    # -- commands (any thread) -----------------------------------------------------------------
    def _send(self, name: str, *args) -> None:
        if self._closed.is_set():
            raise UserError("This trainer has stopped (idle too long or the session ended); reload the page.")
        self._commands.put((name, args))

    def start(self) -> None:
        self._send("start")

    def pause(self) -> None:
        self._send("pause")

    def step(self, n: int = 1, update: str = "both") -> None:
        """Run ``n`` steps now (while paused): ``update`` "both", "d" (D only) or "g" (G only)."""
        if update not in ("both", "d", "g"):
            raise UserError(f"update must be 'both', 'd' or 'g', got {update!r}.")
        self._send("step", int(n), update)

    def reset(self, cfg: RunConfig | None = None, why: str = "") -> None:
        """New nets from ``cfg`` (validated here, so a bad value is refused before anything stops);
        ``why`` is what the status line says instead of "Reset."."""
        self._send("reset", check_run_config(cfg) if cfg is not None else None, why)

    def set_hyperparameters(self, **changes: Any) -> None:
        check_run_config(replace(self.published.config, **changes))
        self._send("set", changes)

    def set_speed(self, steps_per_sec: float) -> None:
        self._send("speed", float(steps_per_sec))

    def slow_motion_next(self) -> None:
        """Advance one phase of a step in slow motion (pauses normal training)."""
        self._send("phase")

    def keep_pace(self, lockstep: "Lockstep") -> None:
        """Advance together with the other trainers of ``lockstep`` (see ``Lockstep``)."""
        self._lockstep = lockstep
        lockstep.report(self, self._gan.step_count, self._running)

    def wait_idle(self, timeout: float = 30.0) -> Published:
        """Block until every queued command ran and the result was published (tests, CLI)."""
        done = threading.Event()
        self._commands.put(("signal", (done,)))
        if not done.wait(timeout):
            raise TimeoutError("live trainer did not answer")
        return self.published

    def close(self) -> None:
        if not self._closed.is_set():
            self._commands.put(("close", ()))
        self._thread.join(timeout=10)

    def when_closed(self, listener: Callable[["LiveTrainer"], None]) -> None:
        """Call ``listener(trainer)`` from the trainer's thread once it has stopped for good (idle
        timeout, close, or the session ending), so its owner can let go of what it holds."""
        self._close_listeners.append(listener)
        if self.closed:
            listener(self)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def mark_busy(self) -> None:
        """A command is on its way: until it has run, this is not a paused run (the pool must not
        park it between its owner's claim and the Start that follows)."""
        self._idle_since = None

    @property
    def idle_since(self) -> float | None:
        """``time.monotonic()`` when it stopped training (paused, never started, diverged); None
        while it trains."""
        return self._idle_since

    # -- reading (any thread) ------------------------------------------------------------------
    def snapshot(self) -> Published:
        self._last_read = time.monotonic()
        return self.published

    def reader(self) -> tuple[LiveRun, Published]:
        """A private copy of the nets at the latest publication, for drawing views.

        Reused between frames (one per trainer, guarded by a lock) and never touched by the worker.
        """
        pub = self.snapshot()
        with self._reader_lock:
            if self._reader_nets is None or self._reader_nets[1] != pub.generation:
                self._reader_nets = (build_run(replace(pub.config), "cpu", view_only=True), pub.generation, -1)
            gan, generation, version = self._reader_nets
            if version != pub.version:
                gan.G.load_state_dict(pub.g_state)
                if pub.d_state:
                    gan.D.load_state_dict(pub.d_state)
                if pub.g_avg_state:  # the config may have switched it on since this copy was built
                    if gan.G_avg is None:
                        gan.G_avg = copy.deepcopy(gan.G)
                    gan.G_avg.load_state_dict(pub.g_avg_state)
                else:
                    gan.G_avg = None
                gan.cfg = pub.config
                self._reader_nets = (gan, generation, pub.version)
            return gan, pub

    # -- the worker ----------------------------------------------------------------------------
    def _make_published(self) -> Published:
        gan = self._gan
        div = gan.check_divergence()
        status = ("diverged" if div is not None else "running" if self._running else
                  "slow motion" if self._phases is not None else "paused" if gan.step_count else "ready")
        if self._closed.is_set():
            status = "closed"
        message = f"Diverged at step {div}: losses became NaN/inf. Press Reset." if div is not None else self._message
        self._version += 1
        return Published(
            version=self._version, generation=self._generation, status=status, step=gan.step_count,
            steps_per_sec=self._steps_per_sec, elapsed_s=self._elapsed, config=gan.cfg,
            g_state={k: v.detach().to("cpu", copy=True) for k, v in gan.G.state_dict().items()},
            d_state=({k: v.detach().to("cpu", copy=True) for k, v in gan.D.state_dict().items()}
                     if gan.publishes_d else {}),
            history=gan.history(), message=message, phase=self._phase,
            g_avg_state=({k: v.detach().to("cpu", copy=True) for k, v in gan.G_avg.state_dict().items()}
                         if gan.G_avg is not None else {}))

    def _publish(self) -> None:
        self.published = self._make_published()
        if self._lockstep is not None and not self._closed.is_set():
            self._lockstep.report(self, self._gan.step_count, self._running)

    def _take_reset_note(self) -> str:
        note, self._reset_note = self._reset_note, ""
        return note

    def _handle(self, name: str, args: tuple) -> None:
        gan = self._gan
        if name == "start":
            if self.parked:  # its slot went to someone else meanwhile: TrainerPool.claim first
                self._message = "Its slot went to another visitor while it was paused; press Start again."
            elif gan.check_divergence() is None:
                # "New networks: ... changed" stays on screen while the new run starts
                self._running, self._phases, self._phase, self._message = True, None, {}, self._take_reset_note()
        elif name == "pause":
            self._running = False
        elif name == "step":  # an ordinary step also ends a slow-motion walk-through
            self._running, self._phases, self._phase = False, None, {}
            n, update = args
            t0, first = time.perf_counter(), gan.step_count
            for _ in range(max(1, min(n, 10_000))):
                if gan.check_divergence() is not None:
                    break
                gan.step(update)
            spent = time.perf_counter() - t0
            # Stepped runs count in the status too: their speed and their time of training.
            self._elapsed += spent
            self._steps_per_sec = (gan.step_count - first) / max(1e-6, spent)
            gan.evaluate()
            self._message = (self._take_reset_note() + " " if self._reset_note else "") + \
                f"Ran {n} step(s) updating {'D and G' if update == 'both' else update.upper()}."
        elif name == "reset":
            cfg, why = args[0] or replace(gan.cfg, seed=gan.cfg.seed + 1), args[1]
            try:
                self._gan = build_run(cfg, self.device)
            except UserError as exc:  # e.g. the image data set is missing: keep the old run
                self._message = str(exc)
                self._publish()
                return
            self._generation += 1
            self._running, self._phases, self._phase, self._message = False, None, {}, why or "Reset."
            self._reset_note = why
            self._steps_per_sec, self._elapsed = 0.0, 0.0
        elif name == "set":
            changed = {k: v for k, v in args[0].items() if getattr(gan.cfg, k) != v}
            try:
                gan.set_hyperparameters(**args[0])
                if changed:  # by the labels on the page: "Applied: G weight average 0.999."
                    self._message = "Applied: " + ", ".join(
                        f"{settings.spec(type(gan.cfg), k).label} {f'{v:g}' if isinstance(v, float) else v}"
                        for k, v in changed.items()) + "."
                    if not self._running and gan.step_count:  # paused: nothing has run with it yet
                        self._message += " It takes effect from the next step; the readouts are the last step's."
            except UserError as exc:
                self._message = str(exc)
        elif name == "speed":
            self._max_rate = max(0.0, args[0])
        elif name == "phase":
            self._running = False
            if self._phases is None:
                self._phases = gan.step_phases()
            try:
                self._message, self._phase = next(self._phases)
            except StopIteration:
                self._phases = gan.step_phases()
                self._message, self._phase = next(self._phases)
        elif name == "signal":
            self._publish()
            args[0].set()
            return
        self._mark_idle()
        self._publish()

    def _mark_idle(self) -> None:
        if self._running:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = time.monotonic()

    def _loop(self) -> None:
        torch.set_grad_enabled(True)
        lower_thread_priority()
        last_pub = time.monotonic()
        rate_t, rate_steps = time.monotonic(), self._gan.step_count
        try:
            while True:
                try:
                    name, args = (self._commands.get_nowait() if self._running
                                  else self._commands.get(timeout=0.2))
                    if name == "close":
                        break
                    self._handle(name, args)
                    continue
                except queue.Empty:
                    pass
                now = time.monotonic()
                if now - self._last_read > self.idle_timeout_s:
                    break  # nobody has looked for a long time: the tab is gone
                if not self._running:
                    continue
                if self._lockstep is not None and not self._lockstep.wait_turn(self, self._gan.step_count):
                    continue  # a step ahead of the other run: wait for it (and keep answering commands)
                t0 = time.perf_counter()
                self._gan.step()
                self._elapsed += time.perf_counter() - t0
                if self._lockstep is not None:
                    self._lockstep.report(self, self._gan.step_count, True)
                if self._gan.check_divergence() is not None:
                    self._running = False
                    self._mark_idle()
                    self._publish()
                    continue
                if self._max_rate > 0:
                    time.sleep(max(0.0, 1.0 / self._max_rate - (time.perf_counter() - t0)))
                if now - last_pub >= self.PUBLISH_EVERY_S:
                    self._steps_per_sec = (self._gan.step_count - rate_steps) / max(1e-6, now - rate_t)
                    rate_t, rate_steps = now, self._gan.step_count
                    self._publish()
                    last_pub = now
        finally:
            self._running = False
            self._closed.set()
            if self._lockstep is not None:
                self._lockstep.leave(self)
            self._publish()
            if self._on_close is not None:
                self._on_close(self)
            for listener in self._close_listeners:
                listener(self)


class Lockstep:
    """Trainers that advance together, as Versus's two runs do: while both run, neither gets more
    than ``slack`` steps ahead, so at every moment the two views and curves compare the same step.
    Without it a WGAN-GP run with five critic steps made a third of the other run's steps, and a
    cure looked worse only because it had trained less. A run that is paused, closed or diverged
    holds no one back."""

    def __init__(self, slack: int = 2):
        self.slack = slack
        self._cond = threading.Condition()
        self._runs: dict[int, tuple[int, bool]] = {}  # id(trainer) -> (step, running)

    def report(self, trainer: LiveTrainer, step: int, running: bool) -> None:
        with self._cond:
            self._runs[id(trainer)] = (step, running)
            self._cond.notify_all()

    def leave(self, trainer: LiveTrainer) -> None:
        with self._cond:
            self._runs.pop(id(trainer), None)
            self._cond.notify_all()

    def wait_turn(self, trainer: LiveTrainer, step: int, timeout: float = 0.05) -> bool:
        """True when ``trainer`` (at ``step``) may take its next step; otherwise wait a little for
        the run behind and return False, so the caller can look at its commands first."""
        with self._cond:
            behind = [s for key, (s, running) in self._runs.items() if key != id(trainer) and running]
            if not behind or step - min(behind) < self.slack:
                return True
            self._cond.wait(timeout)
            return False


# A live trainer's thread runs at this nice value (Linux: niceness is per thread), so a page's
# request (Explore, a view) gets the CPU before the runs: beside a hog, a race and 20 users,
# Explore's p95 went from 1.10 s to 0.70 s on the 2-core CPU (benchmarks/load.py --hostile, one
# run each). The runs still take all the CPU that no request wants.
TRAINER_NICENESS = 10


def lower_thread_priority(niceness: int = TRAINER_NICENESS) -> bool:
    """Lower the calling thread's CPU priority; False where the OS has no per-thread niceness."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
        return True
    except (AttributeError, OSError):
        return False


class TrainerPool:
    """The app-wide cap on live trainers, shared fairly.

    ``capacity`` trainers (default 4) hold a slot at once; one owner (a browser session) or one
    client (an address) holds at most ``per_client`` of them (default 2: a run, or Versus' two). A
    trainer paused for ``park_after_s`` (default 2 min) is *parked* when someone needs its slot: it
    keeps its nets and step and takes a slot again when its owner presses Start. Visitors refused
    for a full room queue in order (a place is kept ``queue_keep_s`` after each try) and are told
    how many are ahead and when a slot frees.
    """

    def __init__(self, capacity: int = 4, idle_timeout_s: float = 900.0, per_client: int = 2,
                 park_after_s: float = 120.0, queue_keep_s: float = 90.0):
        self.capacity = capacity
        self.idle_timeout_s = idle_timeout_s
        self.per_client = per_client
        self.park_after_s = park_after_s
        self.queue_keep_s = queue_keep_s
        self._lock = threading.Lock()
        self._active: set[LiveTrainer] = set()  # holding a slot
        self._parked: set[LiveTrainer] = set()  # alive, slot given back
        self._waiting: dict[str, float] = {}  # who was refused for a full room -> last try (in order)

    # -- opening and claiming ------------------------------------------------------------------
    def open(self, cfg: RunConfig, device: str | None = None, owner: str | None = None,
             client: str | None = None) -> LiveTrainer:
        """A new trainer for ``owner`` (a browser session id) at ``client`` (its address), or a
        sentence saying why not and when to try again."""
        return self.open_many([cfg], device, owner, client)[0]

    def open_many(self, cfgs: list[RunConfig], device: str | None = None, owner: str | None = None,
                  client: str | None = None) -> list[LiveTrainer]:
        """Trainers for every config or none (Versus: two slots or none)."""
        with self._lock:
            self._make_room(len(cfgs), owner, client)
            trainers = []
            try:
                for cfg in cfgs:
                    trainer = LiveTrainer(cfg, device, self.idle_timeout_s, on_close=self._release)
                    trainer.owner, trainer.client = owner, client
                    trainer.mark_busy()  # its first command (Start, Step) is on its way
                    trainers.append(trainer)
            except BaseException:
                for t in trainers:
                    t.close()
                raise
            self._active.update(trainers)
            return trainers

    def claim(self, *trainers: LiveTrainer) -> None:
        """Give parked trainers their slots back (their owner pressed Start or Step), all or none."""
        with self._lock:
            for t in trainers:  # about to get a command: not a paused run to park meanwhile
                t.mark_busy()
            parked = [t for t in trainers if t in self._parked and not t.closed]
            if not parked:
                return
            self._make_room(len(parked), parked[0].owner, parked[0].client, exclude=set(parked))
            self._parked.difference_update(parked)
            for t in parked:
                t.parked = False
            self._active.update(parked)

    def _make_room(self, n: int, owner: str | None, client: str | None, exclude: set = frozenset()) -> None:
        """Under the lock: free ``n`` slots for this owner, or raise the sentence that says why not."""
        now = time.monotonic()
        self._prune()
        if n > min(self.capacity, self.per_client):
            limit, who = ((self.capacity, "this server runs") if self.capacity < self.per_client
                          else (self.per_client, "one visitor may run"))
            raise UserError(f"This needs {n} live trainers at once, and {who} at most {limit}.")
        mine = [t for t in self._active if (owner and t.owner == owner) or (client and t.client == client)]
        # Asking for more is a sign the owner's own paused runs can wait: they give way first.
        for t in sorted((t for t in mine if t.idle_since is not None), key=lambda t: t.idle_since):
            if len(mine) + n <= self.per_client and len(self._active) + n <= self.capacity:
                break
            self._park(t)
            mine.remove(t)
        if len(mine) + n > self.per_client:
            raise UserError(
                f"You already run {len(mine)} live trainer{'s' * (len(mine) != 1)}, and one visitor may run "
                f"{self.per_client} at once so that everyone gets a turn: pause or reset one of yours (in Train "
                "live, Images or Versus) and press Start again.")
        # Others' runs paused long enough give their slots back, the longest paused first.
        stale = sorted((t for t in self._active if t.idle_since is not None and t not in exclude
                        and now - t.idle_since >= self.park_after_s), key=lambda t: t.idle_since)
        for t in stale:
            if self.capacity - len(self._active) >= n + self._ahead(owner, now):
                break
            self._park(t)
        ahead = self._ahead(owner, now)
        if self.capacity - len(self._active) >= n + ahead:
            if owner:
                self._waiting.pop(owner, None)
            return
        if owner:
            self._waiting.setdefault(owner, now)
            self._waiting[owner] = now  # refreshes the place without moving it (dicts keep order)
        raise UserError(self._full_message(n, ahead, now))

    def _ahead(self, owner: str | None, now: float) -> int:
        """How many refused visitors, still trying, came before ``owner``."""
        for who, seen in list(self._waiting.items()):
            if now - seen > self.queue_keep_s:
                del self._waiting[who]
        order = list(self._waiting)
        return order.index(owner) if owner in order else len(order)

    def _full_message(self, n: int, ahead: int, now: float) -> str:
        k = len(self._active)
        runs = f"{k} live trainer{'s are' if k != 1 else ' is'} running on this server"
        queue = (f"; {ahead} visitor{'s are' if ahead != 1 else ' is'} waiting ahead of you" if ahead else "")
        need = "two free slots (one per run)" if n == 2 else "a free slot"
        paused = [self.park_after_s - (now - t.idle_since) for t in self._active if t.idle_since is not None]
        if paused:
            when = (f"The first paused run gives its slot back in about {_duration(max(0.0, min(paused)))}")
        else:
            when = (f"Every run is training now; a run gives its slot back {_duration(self.park_after_s)} after "
                    "it is paused, or when its page closes")
        return (f"The room is full: {runs}{queue}, and you need {need}. {when}: press Start again then "
                f"(your place in the queue is kept for {_duration(self.queue_keep_s)} after each try).")

    def _park(self, trainer: LiveTrainer) -> None:
        self._active.discard(trainer)
        self._parked.add(trainer)
        trainer.parked = True

    def _prune(self) -> None:
        self._active = {t for t in self._active if not t.closed}
        self._parked = {t for t in self._parked if not t.closed}

    def _release(self, trainer: LiveTrainer) -> None:
        with self._lock:
            self._active.discard(trainer)
            self._parked.discard(trainer)

    # -- stopping ------------------------------------------------------------------------------
    def close_owner(self, owner: str) -> int:
        """Stop every trainer of one browser session (it closed its tab); returns how many."""
        with self._lock:
            mine = [t for t in (*self._active, *self._parked) if t.owner == owner]
            self._waiting.pop(owner, None)
        for t in mine:
            t.close()
        return len(mine)

    @property
    def active(self) -> int:
        """Trainers holding a slot."""
        with self._lock:
            return sum(not t.closed for t in self._active)

    @property
    def parked(self) -> int:
        with self._lock:
            return sum(not t.closed for t in self._parked)

    def close_all(self) -> None:
        with self._lock:
            trainers = [*self._active, *self._parked]
        for t in trainers:
            t.close()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{max(seconds, 1)} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min" + (f" {rest} s" if rest else "")
