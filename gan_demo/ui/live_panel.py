"""What the Train and Images tabs' run controls do: Start, Pause, Reset, Step, a changed setting.

``LiveRunHandlers`` holds these for one kind of live run (its config class, how widget values
become a config, its status line). Its methods take plain values and raise ``UserError``, so tests
call them without building a page; ``endpoint`` turns one into a Gradio handler whose API
parameters carry the settings' names.
"""

from __future__ import annotations

from typing import Any, Callable

import gradio as gr

from .. import settings
from ..errors import UserError
from ..training.session import TrainSession
from ..validate import as_choice, as_int, as_seed
from .common import AppContext


class LiveRunHandlers:
    """One kind of live run's controls, as functions of (session, widget values...)."""

    def __init__(self, ctx: AppContext, kind: str, config_cls: type, make_config: Callable[..., Any],
                 status_text: Callable[[TrainSession | None], str], max_steps: int, step_timeout_s: float,
                 extras: tuple[str, ...] = ()):
        self.ctx, self.kind, self.config_cls = ctx, kind, config_cls
        self.make_config, self.status_text = make_config, status_text
        self.max_steps, self.step_timeout_s = max_steps, step_timeout_s
        self.fields = settings.widget_settings(config_cls)
        self.extras = extras  # inputs after the settings (the toy tab's drawing)
        self.names = (*self.fields, *extras)  # the positional order of every settings endpoint

    # -- helpers ---------------------------------------------------------------------------------
    def session(self, state: TrainSession | None, request=None) -> TrainSession:
        """This browser's session of this kind (concurrent first calls share one)."""
        if state is not None:
            return state
        owner = getattr(request, "session_hash", None)
        return self.ctx.sessions.get(owner, self.kind, lambda: TrainSession(
            self.ctx.pool, owner=owner, client=self.ctx.client_of(request)))

    def config(self, values) -> Any:
        """Widget values (settings, then extras) -> a validated config."""
        if len(values) != len(self.names):
            raise UserError(f"Expected {len(self.names)} values ({', '.join(self.names)}), got {len(values)}.")
        return self.make_config(dict(zip(self.fields, values)), *values[len(self.fields):])

    def config_from_json(self, config) -> Any:
        """A JSON object of settings (any subset; the rest keep their defaults) -> a validated config."""
        return self.make_config(settings.from_json(self.config_cls, config), *([None] * len(self.extras)))

    # -- the handlers --------------------------------------------------------------------------
    def start(self, state, *values, request=None):
        """Start (or resume) live training with these settings. Returns the session and status."""
        state = self.session(state, request)
        state.start(self.config(values))
        return state, self.status_text(state)

    def start_config(self, state, config, request=None):
        """Start (or resume) live training with a JSON object of settings (left out: the default)."""
        state = self.session(state, request)
        state.start(self.config_from_json(config))
        return state, self.status_text(state)

    def pause(self, state):
        """Pause training (Step and slow motion work while paused)."""
        if state is not None:
            state.pause()
        return self.status_text(state)

    def reset(self, state, *values, request=None):
        """New networks from these settings and the next seed. Returns (session, status, seed)."""
        state = self.session(state, request)
        values = list(values)
        at = self.fields.index("seed")
        values[at] = (as_seed(values[at]) + 1) % (2**32)
        cfg = self.config(values)
        state.reset(cfg)
        state.trainer.wait_idle(timeout=60)
        return state, self.status_text(state), cfg.seed

    def step(self, state, n, which, *values, request=None):
        """Run N steps now, updating D and G ("both"), D only ("d") or G only ("g")."""
        n = as_int(n, "Steps", 1, self.max_steps)
        which = as_choice(which, "update", ["both", "d", "g"])
        state = self.session(state, request)
        state.step(self.config(values), n, which, timeout=self.step_timeout_s)
        return state, self.status_text(state)

    def change(self, state, *values):
        """Apply the changed live settings (loss, learning rates, batch...) at the run's next step."""
        if state is None or state.trainer is None or type(state.trainer.published.config) is not self.config_cls:
            return self.status_text(state)
        cfg = self.config(values)  # validates every value before anything is applied
        state.trainer.set_hyperparameters(**{k: getattr(cfg, k) for k in settings.live_settings(self.config_cls)})
        state.trainer.wait_idle()
        return self.status_text(state)

    def preview(self, state, *values):
        """The view at step 0 with these settings, before any run: the data, and where G starts.
        Nothing once a run exists (its own view is polled), or while the settings are incomplete."""
        from ..training.live_run import build_run

        if state is not None and state.trainer is not None:
            return gr.skip()
        try:
            cfg = self.config(values)
        except UserError:  # e.g. "Draw your own" before a drawing: keep what is shown
            return gr.skip()
        return build_run(cfg, "cpu", view_only=True).render(None, True, False)

    @staticmethod
    def exported(state, kind: str, *args) -> str:
        """The session's run exported as ``kind`` (csv, png or gif): the file's path."""
        if state is None:
            raise UserError("Nothing to export yet: press Start or Step first.")
        return str({"csv": state.export_csv, "png": state.export_png, "gif": state.export_gif}[kind](*args))

    def live_widgets(self, widgets: dict[str, gr.Component]) -> list[gr.Component]:
        """The widgets whose change applies to a running trainer at once."""
        return [widgets[f] for f in settings.live_settings(self.config_cls) if f in widgets]
