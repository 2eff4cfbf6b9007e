"""Forgetting browser sessions that are gone.

Gradio keeps a ``SessionState`` for every session hash it has seen: a copy of the whole app's
component config (about 0.6 MB for our 350 blocks) plus what the session's handlers stored. It
never drops one except past ``state_session_capacity`` (10,000), so a public Space grows by
every visitor, for good (benchmarks/soak.py measured it). A closed tab's state is only needed
for a short reconnect, and a session that sends nothing for hours is gone, so the sweeper runs
their delete callbacks (which stop live trainers) and drops them.
"""

from __future__ import annotations

import datetime
import logging
import threading

from ..process_memory import return_free_memory

log = logging.getLogger("gan_demo.ui")

CLOSED_GRACE_S = 300.0  # a tab whose heartbeat dropped may reconnect within this
IDLE_S = 7200.0  # a session that never closes (an API client) is gone after this long unused
SWEEP_EVERY_S = 60.0


def forget_stale_sessions(state_holder, now: datetime.datetime | None = None,
                          closed_grace_s: float = CLOSED_GRACE_S, idle_s: float = IDLE_S) -> int:
    """Drop the sessions that closed more than ``closed_grace_s`` ago or sat unused for
    ``idle_s``; returns how many went."""
    now = now or datetime.datetime.now()
    with state_holder.lock:
        stale = []
        for sid, state in state_holder.session_data.items():
            last = state_holder.time_last_used.get(sid)
            unused_s = (now - last).total_seconds() if last else float("inf")
            if unused_s > (closed_grace_s if state.is_closed else idle_s):
                stale.append(sid)
    for sid in stale:
        try:
            state_holder.delete_state(sid)  # delete callbacks first: they close live trainers
        except Exception:
            log.exception("a delete callback failed for a stale session")
        with state_holder.lock:
            state_holder.session_data.pop(sid, None)
            state_holder.time_last_used.pop(sid, None)
    return len(stale)


class SessionSweeper:
    """A daemon thread that calls ``forget_stale_sessions`` on a launched app every minute, then
    returns the freed memory to the system."""

    def __init__(self, demo, every_s: float = SWEEP_EVERY_S, **limits):
        self.demo, self.every_s, self.limits = demo, every_s, limits
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="session-sweeper", daemon=True)

    def start(self) -> "SessionSweeper":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def sweep(self) -> int:
        holder = getattr(self.demo, "state_holder", None)  # set by Gradio when the app launches
        return forget_stale_sessions(holder, **self.limits) if holder is not None else 0

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                if n := self.sweep():
                    log.info("forgot %d stale sessions", n)
                return_free_memory()
            except Exception:
                log.exception("session sweep failed")
