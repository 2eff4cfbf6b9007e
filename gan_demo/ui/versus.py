"""Versus: two live runs side by side, identical but for one setting, with their curves on shared axes."""

from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from .. import plots, settings
from ..errors import UserError
from ..losses import LOSS_TITLES
from ..training.image_config import LIVE_MODELS, MODEL_TITLES, ImageConfig
from ..training.toy import ToyTrainConfig
from ..training.versus import (DIFFERENCES, IMAGE_DATASETS, PRESETS, TOY_DATASETS, VALUE_CHOICES, Versus,
                                base_config, get_preset, make_pair, value_text)
from ..validate import as_int
from .common import (NARROW_STEP_AXIS, STEP_AXIS, AppContext, charts_note, edits, endpoint, keep_polling, live_timer,
                     score_chart, show_charts, wake_after)

# Data sets titled as in the Train tabs (the configs' choice labels).
TOY_TITLES = settings.spec(ToyTrainConfig, "dataset").choice_labels
IMAGE_TITLES = settings.spec(ImageConfig, "dataset").choice_labels

REFRESH_S = 0.5  # two views to draw per tick: half the toy tab's rate leaves the CPU to the runs


def dataset_choices(mode: str) -> list[tuple[str, str]]:
    """The mode's data sets as (title, key) pairs, titled as in the Train tabs."""
    keys, titles = (IMAGE_DATASETS, IMAGE_TITLES) if mode == "images" else (TOY_DATASETS, TOY_TITLES)
    return [(title, key) for title, key in titles if key in keys]


def value_choices(difference: str) -> list[tuple[str, str]]:
    """A difference's values as (title, value) pairs: losses by name, numbers and switches as they are."""
    titles = LOSS_TITLES if difference == "loss" else {}
    return [(titles.get(v, v), v) for v in VALUE_CHOICES[difference]]


def status_text(v: Versus | None) -> str:
    # The trainers are read once: a Reset or a closing page between two reads leaves a run without one.
    trainers = {key: run.trainer for key, run in v.runs.items()} if v is not None and v.is_open else {}
    if not trainers or any(t is None for t in trainers.values()):
        return ("Pick a preset (or a mode, a difference and B's value) and press **Start both**. The two runs "
                "share data, seed and networks; only the difference differs.")
    lines = []
    for key, trainer in trainers.items():
        pub = trainer.published
        h = pub.history
        line = f"**{v.labels[key]}**: {pub.status}, step {pub.step:,}, {pub.steps_per_sec:,.0f} steps/s"
        if len(h["step"]):
            line += f", D(x) {h['d_real'][-1]:.2f}, D(G(z)) {h['d_fake'][-1]:.2f}"
            if "modes" in h and np.isfinite(h["modes"]).any():
                line += f", modes {int(h['modes'][-1])}, HQ {h['hq_pct'][-1]:.1f} %"
            if getattr(pub.config, "train_weaker", False) and "updated" in h:
                line += f", D sat out {int((h['updated'] == 2).sum()):,} steps"  # "train only the weaker"
            if "frechet" in h and np.isfinite(h["frechet"]).any():
                line += f", Frechet {h['frechet'][np.isfinite(h['frechet'])][-1]:.1f}"
        if pub.message and pub.status == "diverged":
            line += f" · _{pub.message}_"
        lines.append(line)
    if any(trainer.parked for trainer in trainers.values()):
        lines.append("_Paused long enough that its slots went to other visitors; **Start both** takes two again._")
    return "  \n".join(lines)


def shared_curves(dataset: str, histories: dict[str, dict], losses: tuple[str, ...] = ("ns",)
                  ) -> tuple[pd.DataFrame, gr.LinePlot, list[tuple[str, Any]]]:
    """Both runs' curves in one frame per plot, series named by run, so the axes are shared: the
    losses, D's scores (a chart update, see common.score_chart), and the quality charts (title, frame)
    with one series per run, each metric on its own chart (modes covered and HQ %; KL and JS; the
    Frechet distance for images)."""
    def both(columns, names, smooth=1, hs=histories):
        parts = [plots.curves_frame(h, columns, {c: f"{key} {names[c]}" for c in columns}, smooth=smooth)
                 for key, h in hs.items()]
        return pd.concat(parts, ignore_index=True)

    def per_run(column):
        parts = [plots.curves_frame(plots.at_evaluations(h, column), [column], {column: key})
                 for key, h in histories.items()]
        return pd.concat(parts, ignore_index=True)

    losses = both(["d_loss", "g_loss"], {"d_loss": "D loss", "g_loss": "G loss"}, smooth=9)
    scores = score_chart(both(["d_real", "d_fake"], {"d_real": "D(x)", "d_fake": "D(G(z))"}, smooth=9), losses,
                            plots.versus_series(plots.SCORE_SERIES))
    first = next(iter(histories.values()))
    if "frechet" in first:
        quality = [("Frechet distance (lower is better)", per_run("frechet"))]
    else:
        quality = [(plots.QUALITY_TITLES[c], per_run(c))
                   for c in (("modes", "hq_pct") if np.isfinite(first["modes"]).any() and
                             dataset != "gauss1d" else ("kl", "js"))]
    return losses, scores, quality


class VersusHandlers:
    """What the Versus tab's controls do, as plain methods (``UserError`` for bad input)."""

    kind = "versus"  # MCP tool names: versus_start, versus_pause...

    def __init__(self, ctx: AppContext):
        self.ctx = ctx

    @staticmethod
    def preset(key):
        """Load a preset: its text, mode, data, seed, difference and the two values."""
        p = get_preset(key)
        is_img = isinstance(p.base, ImageConfig)
        return (p.text, "images" if is_img else "toy",
                gr.update(choices=dataset_choices("images" if is_img else "toy"), value=p.base.dataset),
                gr.update(visible=is_img, value=getattr(p.base, "model", "dcgan")), p.base.seed, p.difference,
                *(gr.update(choices=value_choices(p.difference), value=value_text(p.difference, v))
                  for v in (p.a, p.b)))

    @staticmethod
    def difference_values(diff):
        """Offer the values the new difference takes: its first two choices for A and B."""
        if diff not in VALUE_CHOICES:
            return gr.skip(), gr.skip()
        choices = value_choices(diff)
        return tuple(gr.update(choices=choices, value=v) for _, v in choices[:2])

    @classmethod
    def mode_choices(cls, m):
        """Switch to a mode (toy or images) by loading its first preset: its data, model, difference
        and values, all valid for that mode (a toy-only difference left in place refused Start).
        Returns (preset, and what ``preset`` returns)."""
        images = m == "images"
        key = next(k for k, p in PRESETS.items() if isinstance(p.base, ImageConfig) == images)
        return key, *cls.preset(key)

    def start(self, v, preset_key, mode_value, dataset_value, model_value, seed_value, diff, a, b,
              request: gr.Request = None):
        """Start both runs: fresh nets from the shared settings, A and B differing in `diff` only."""
        base = base_config(mode_value, preset_key, dataset_value, model_value, seed_value)
        cfg_a, cfg_b = make_pair(base, diff, a, b)
        owner = getattr(request, "session_hash", None)
        v = v or self.ctx.sessions.get(owner, "versus", lambda: Versus(self.ctx.pool, owner=owner,
                                                                        client=self.ctx.client_of(request)))
        v.start_with(cfg_a, cfg_b, diff)
        return v, status_text(v)

    @staticmethod
    def preview(v, preset_key, mode_value, dataset_value, model_value, seed_value, diff, a, b):
        """A's and B's views at step 0, before any race: the same start, but for the difference.
        Nothing once a race exists (its views are polled), or while a value is not valid."""
        from ..training.live_run import build_run

        if v is not None and v.is_open:
            return gr.skip(), gr.skip()
        try:
            base = base_config(mode_value, preset_key, dataset_value, model_value, seed_value)
            pair = make_pair(base, diff, a, b)
        except UserError:
            return gr.skip(), gr.skip()
        return tuple(build_run(cfg, "cpu", view_only=True).render(None, True, False) for cfg in pair)

    @staticmethod
    def pause(v):
        """Pause both runs."""
        if v is None or not v.is_open:
            raise UserError("Nothing to pause: press Start both first.")
        v.pause()
        return status_text(v)

    @staticmethod
    def step(v, n):
        """Pause both and run them to the same step: N steps past the one ahead."""
        if v is None or not v.is_open:
            raise UserError("Press Start both (then Pause) before stepping.")
        v.step(as_int(n, "Steps", 1, 5000))
        return status_text(v)

    @staticmethod
    def view(v):
        """Both views, the status and the shared curves (what the page polls)."""
        if v is None or not v.is_open:
            return (gr.skip(),) * 7 + (keep_polling(None),)
        frames = {key: run.frame() for key, run in v.runs.items()}
        if sorted(frames) != ["A", "B"] or any(f is None for f in frames.values()):  # closed meanwhile
            return (gr.skip(),) * 7 + (keep_polling("running"),)
        # From the frames, not the race: a Reset or close between the two reads leaves the frames whole.
        dataset = frames["A"].published.config.dataset
        losses, scores, quality = shared_curves(dataset, {k: f.published.history for k, f in frames.items()},
                                                tuple(f.published.config.loss for f in frames.values()))
        charts = [gr.LinePlot(frame, title=title, **plots.quality_axis(title, dataset), visible=True)
                  for title, frame in quality]
        charts += [gr.LinePlot(visible=False)] * (2 - len(charts))  # images: the Frechet chart alone
        running = any(f.published.status == "running" for f in frames.values())
        return (gr.update(value=frames["A"].image, label=v.labels["A"]),
                gr.update(value=frames["B"].image, label=v.labels["B"]), status_text(v), losses, scores,
                *charts, keep_polling("running" if running else "paused"))


def build(demo: gr.Blocks, ctx: AppContext) -> None:
    h = VersusHandlers(ctx)
    choice = ["v", "preset", "mode", "dataset", "model", "seed", "difference", "a", "b"]
    on_preset = endpoint(h.preset, ["preset"])
    on_difference = endpoint(h.difference_values, ["difference"])
    on_mode = endpoint(h.mode_choices, ["mode"])
    on_start = endpoint(h.start, choice, request=True)
    on_pause = endpoint(h.pause, ["v"])
    on_step = endpoint(h.step, ["v", "n"])
    on_tick = h.view  # polled: nothing a person typed, and a skip is no error
    race = gr.State(None, delete_callback=lambda v: v.close() if v is not None else None)
    first = PRESETS["mbd"]

    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            preset = gr.Dropdown([(p.title, p.key) for p in PRESETS.values()], value=first.key, label="Preset")
            preset_text = gr.Markdown(first.text, label="Preset")
            mode = gr.Radio([("Toy data", "toy"), ("Images", "images")], value="toy", label="Mode")
            dataset = gr.Dropdown(dataset_choices("toy"), value=first.base.dataset, label="Data")
            model = gr.Dropdown([(MODEL_TITLES[k], k) for k in LIVE_MODELS], value="dcgan",
                                label="Model (images)", visible=False)
            seed = gr.Number(first.base.seed, label="Seed (both runs)", precision=0)
            difference = gr.Dropdown([(text, key) for key, text in DIFFERENCES.items()], value=first.difference,
                                     label="The one difference")
            with gr.Row():
                value_a, value_b = (
                    gr.Dropdown(value_choices(first.difference), value=value_text(first.difference, v),
                                label=f"{k}'s value", allow_custom_value=True, elem_id=f"versus-value-{k.lower()}")
                    for k, v in (("A", first.a), ("B", first.b)))
        with gr.Column(scale=4):
            status = gr.Markdown(status_text(None), elem_id="versus-status")
            with gr.Row():
                start = gr.Button("Start both", variant="primary", elem_id="versus-start")
                pause = gr.Button("Pause both", elem_id="versus-pause")
                n_steps = gr.Number(100, label="Steps", precision=0, minimum=1, maximum=5000, min_width=80)
                step_btn = gr.Button("Step both", elem_id="versus-step")
            with gr.Row():
                view_a = gr.Image(label="A", type="numpy", format="png", interactive=False, height=360,
                                  elem_id="versus-a", elem_classes=["pixelated"])
                view_b = gr.Image(label="B", type="numpy", format="png", interactive=False, height=360,
                                  elem_id="versus-b", elem_classes=["pixelated"])
            # Hidden until the race has a step to plot (show_charts); the note stands in their place.
            note = charts_note("**The charts draw here from the first step**, A and B on shared axes: the "
                               "losses, D's mean scores, and how well each run covers the data. The two "
                               "pictures show where both start. Press **Start both**.", "versus-charts-note")
            losses_plot = gr.LinePlot(**STEP_AXIS, color="series", visible=False,
                                      title="Losses (A and B)", height=220,
                                      color_map=plots.versus_series(plots.LOSS_SERIES), y_title="loss",
                                      color_title="", elem_id="versus-losses-plot")
            d_plot = gr.LinePlot(**STEP_AXIS, color="series", visible=False,
                                 title="D(x) and D(G(z)) (A and B)",
                                 height=220, color_map=plots.versus_series(plots.SCORE_SERIES),
                                 y_title="D's mean score", y_axis_format="~g", color_title="", elem_id="versus-d-plot")
            with gr.Row():  # one metric per chart, A and B on the same axis
                quality_plot = gr.LinePlot(**NARROW_STEP_AXIS, color="series", visible=False,
                                           title="Modes covered",
                                           height=220, color_map=plots.RUN_SERIES, color_title="run",
                                           label="Modes covered, KL or Frechet distance", show_label=False,
                                           elem_id="versus-quality-plot")
                quality2_plot = gr.LinePlot(**NARROW_STEP_AXIS, color="series", visible=False,
                                            title="High-quality samples %",
                                            height=220, color_map=plots.RUN_SERIES, color_title="run",
                                            label="High-quality % or JS", show_label=False,
                                            elem_id="versus-quality2-plot")

    settings = [race, preset, mode, dataset, model, seed, difference, value_a, value_b]
    edits(preset)(on_preset, preset, [preset_text, mode, dataset, model, seed, difference, value_a, value_b],
                  api_name="versus_preset")
    edits(mode)(on_mode, mode, [preset, preset_text, mode, dataset, model, seed, difference, value_a, value_b],
                api_visibility="private")
    edits(difference)(on_difference, difference, [value_a, value_b], api_visibility="private")
    timer = live_timer(REFRESH_S)
    started = start.click(on_start, settings, [race, status], api_name="versus_start", preprocess=False)
    for event in (
        started,
        pause.click(on_pause, race, status, api_name="versus_pause"),
        step_btn.click(on_step, [race, n_steps], status, api_name="versus_step", preprocess=False),
    ):
        wake_after(event, timer, REFRESH_S)
    # The quality charts' visibility is the view's (images have one); the loss and score charts show here.
    show_charts(started, [losses_plot, d_plot], note)
    on_preview = endpoint(h.preview, choice)
    demo.load(on_preview, settings, [view_a, view_b], api_visibility="private", preprocess=False)
    for widget in (preset, mode, dataset, model, seed, difference, value_a, value_b):
        widget.change(on_preview, settings, [view_a, view_b], api_visibility="private", show_progress="hidden",
                      preprocess=False)
    timer.tick(on_tick, race, [view_a, view_b, status, losses_plot, d_plot, quality_plot, quality2_plot, timer],
               show_progress="hidden",
               api_name="versus_view", concurrency_limit=None, trigger_mode="always_last")
