"""The Train live tab: a toy GAN trained in a background thread, watched through a timer."""

from __future__ import annotations

import gradio as gr

from .. import plots
from ..data import counts_modes, points_from_sketch
from ..training.lessons import LESSONS, get_lesson
from ..training.session import TrainSession
from .. import settings
from ..training.toy import ToyTrainConfig, check_config
from ..errors import UserError
from ..validate import as_float
from .common import (NARROW_STEP_AXIS, STEP_AXIS, AppContext, charts_note, edits, endpoint, keep_polling, live_timer,
                     run_controls, score_chart, show_charts, signed, user_errors, wake_after)
from .live_panel import LiveRunHandlers
from .settings_widgets import rest, setting_widget

REFRESH_S = 0.2
PICK_BRUSH_JS = """(data) => {
  if (data !== "custom") return;
  const pick = (tries) => {
    const brush = document.querySelector('#train-sketch button[aria-label="Brush"]');
    if (brush && brush.offsetParent !== null) brush.click();
    else if (tries > 0) setTimeout(() => pick(tries - 1), 150);
  };
  pick(40);
}"""

# The config widgets, in the order the handlers (and the API, positionally) receive their values:
# the config's widget settings (settings.widget_settings), then the drawing.
FIELDS = settings.widget_settings(ToyTrainConfig)


def config_from(values: dict, drawing=None) -> ToyTrainConfig:
    """Widget values -> a validated config; the drawing (an RGBA array) becomes points for "custom"."""
    points = None
    if values.get("dataset") == "custom":
        if drawing is None:
            raise UserError("Draw the data on the canvas first: pick 'Draw your own', then draw on the canvas "
                            "(the brush is the first button at its left).")
        points = points_from_sketch(drawing).tolist()
    # Evaluate more often than the CLI does: the modes curve is what the class watches.
    return check_config(ToyTrainConfig(**values, points=points, eval_every=100))


def status_text(session: TrainSession | None) -> str:
    if session is None or session.trainer is None:
        return "Press **Start** (or **Step**) to begin. Lessons load a ready-made setting."
    t = session.trainer
    pub = t.published
    h = pub.history
    line = f"**{pub.status}** · step {pub.step:,} · {pub.steps_per_sec:,.0f} steps/s · device `{t.device}`"
    if len(h["step"]):
        line += (f"  \nD loss {signed(h['d_loss'][-1])} · G loss {signed(h['g_loss'][-1])} · "
                 f"D(x) {signed(h['d_real'][-1])} · D(G(z)) {signed(h['d_fake'][-1])}")
        if pub.config.loss.startswith("wgan"):
            line += f" · Wasserstein estimate {h['wasserstein'][-1]:.3f}"
        # The same measures as the quality charts: modes on the ring and the grid, else KL and JS.
        if counts_modes(pub.config.dataset):
            if h["modes"].size and h["modes"][-1] == h["modes"][-1]:  # not NaN
                line += f"  \nmodes covered {int(h['modes'][-1])} · high quality {h['hq_pct'][-1]:.1f} %"
        elif h["kl"].size and h["kl"][-1] == h["kl"][-1]:
            line += f"  \nKL {h['kl'][-1]:.3f} · JS {h['js'][-1]:.3f}"
    if pub.config.g_average:  # the view, samples and measures come from the average, not G itself
        line += f"  \n_Drawn from G's weight average (decay {pub.config.g_average:g})._"
    if pub.message:
        line += f"  \n_{pub.message}_"
    if t.parked:
        line += "  \n_Paused long enough that its slot went to another visitor; **Start** takes one again._"
    return line


class ToyRunHandlers(LiveRunHandlers):
    """The toy run's controls: Start / Pause / Reset / Step / a changed setting (``LiveRunHandlers``),
    and speed, slow motion, the polled view and the exports."""

    def speed(self, state, steps_per_sec):
        """Limit training speed (steps per second; 0 = no limit), to watch it slowly."""
        rate = as_float(steps_per_sec, "Speed", 0, 100_000)
        if state is not None and state.trainer is not None:
            state.trainer.set_speed(rate)

    def slow_motion(self, state, *values, request=None):
        """Slow motion: walk through one training step a phase at a time, with a sentence each."""
        state = self.session(state, request)
        trainer = state.ensure(self.config(values))
        trainer.slow_motion_next()
        trainer.wait_idle()
        return state, status_text(state)

    @staticmethod
    def view(state, manifold_on, arrows_on):
        """The current view, status and curves of this session's trainer (what the page polls)."""
        if state is None or state.trainer is None:
            return (gr.skip(),) * 6 + (keep_polling(None),)
        frame = state.frame(bool(manifold_on), bool(arrows_on))
        h = frame.published.history
        dataset = frame.published.config.dataset
        quality = [gr.LinePlot(curve, title=title, **plots.quality_axis(title, dataset))
                   for title, curve in plots.quality_curves(h, dataset)]
        return (frame.image, status_text(state),
                plots.curves_frame(h, ["d_loss", "g_loss"], {"d_loss": "D loss", "g_loss": "G loss"}, smooth=9),
                score_chart(plots.curves_frame(h, ["d_real", "d_fake"], {"d_real": "D(x)", "d_fake": "D(G(z))"},
                                               smooth=9), [frame.published.config.loss]),
                *quality,
                keep_polling(frame.published.status))

    def export_csv(self, session):
        """The run's history (losses, D's scores, modes or KL/JS per step) as a CSV file."""
        return self.exported(session, "csv")

    def export_png(self, session, manifold=True, arrows=False):
        """The current view as a PNG, with G's manifold and gradient arrows as chosen."""
        return self.exported(session, "png", bool(manifold), bool(arrows))

    def export_gif(self, session):
        """The run so far as an animated GIF (the timelapse of its views)."""
        return self.exported(session, "gif")


def handlers(ctx: AppContext) -> ToyRunHandlers:
    """The toy run's handlers (testable without a page)."""
    return ToyRunHandlers(ctx, "toy", ToyTrainConfig, config_from, status_text, max_steps=10_000,
                          step_timeout_s=120.0, extras=("drawing",))


def on_lesson(key):
    """Load a lesson preset: returns its text, the settings it uses, and a status line saying
    what to press (the settings apply to the next Start, not to a run going on)."""
    lesson = get_lesson(key)
    cfg = lesson.config()
    status = (f"**{lesson.title}**: its settings are loaded. Press **Start** to train with them "
              f"(the effect shows within about {lesson.steps:,} steps).")
    return (lesson.text, *[getattr(cfg, f) for f in FIELDS], status)


LESSON_PROMPT = "Pick a lesson: it sets the data, the loss and the settings for one idea, and says what to watch."


def lesson_text(key, *values):
    """The lesson's text, told when the settings on screen are no longer the lesson's (its text
    would describe another run): which ones differ, and how to get them back."""
    if not key or key not in LESSONS:
        return LESSON_PROMPT
    lesson = get_lesson(key)
    changed = [settings.spec(ToyTrainConfig, f).label for f in lesson.changed(dict(zip(FIELDS, values)))]
    if not changed:
        return lesson.text
    return (f"_You changed {', '.join(changed[:3])}{' and more' if len(changed) > 3 else ''} since this lesson "
            f"loaded: what follows describes its own settings (**Load lesson again** restores them)._\n\n"
            + lesson.text)


def on_draw(value):
    """The canvas's picture (an RGBA array) from its editor value."""
    return (value or {}).get("composite") if isinstance(value, dict) else None


def build(demo: gr.Blocks, ctx: AppContext) -> None:
    session = gr.State(None, delete_callback=lambda s: s.close() if s is not None else None)
    run = handlers(ctx)

    def widget(name, **kwargs):
        return setting_widget(ToyTrainConfig, name, **kwargs)

    # GAN Lab's one screen: controls on the left, the live view in the middle, the curves on the
    # right; at 1400 x 900 the buttons, the view and the loss and D(x) charts show without scrolling.
    w: dict[str, gr.Component] = {}
    with gr.Row():
        with gr.Column(scale=2, min_width=300):
            status, start, pause, reset = run_controls("train", status_text(None))
            # No lesson is chosen at first: a lesson named beside settings it did not set would
            # describe a run that is not the one on screen. Picking one loads its settings.
            with gr.Group():
                lesson = gr.Dropdown([(l.title, l.key) for l in LESSONS.values()], value=None, info="pick one to begin",
                                     label="Lesson", elem_id="lesson-pick")
                load_lesson = gr.Button("Load lesson again", elem_id="load-lesson", size="sm")
            lesson_md = gr.Markdown(LESSON_PROMPT, elem_id="lesson-text",
                                      padding=True)
            w["dataset"] = widget("dataset", control=gr.Radio)
            sketch = gr.Sketchpad(label="Draw the real data", type="numpy",
                                  image_mode="RGBA", canvas_size=(300, 300), visible=False,
                                  elem_id="train-sketch")
            use_drawing = gr.Button("Use this drawing as the data", visible=False, elem_id="use-drawing")
            w["loss"] = widget("loss")
            with gr.Row():
                w["minibatch_disc"] = widget("minibatch_disc")
                w["train_weaker"] = widget("train_weaker")
            with gr.Accordion("Hyperparameters", open=False):
                w["d_steps"] = widget("d_steps")
                w["optimizer"] = widget("optimizer")
                with gr.Row():
                    w["lr_d"] = widget("lr_d")
                    w["lr_g"] = widget("lr_g")
                for name in ("batch_size", "noise_dim", "noise_dist"):
                    w[name] = widget(name)
                w["noise_codes"] = widget("noise_codes", info=True)
                for name in ("hidden_layers", "width", "seed"):
                    w[name] = widget(name)
                with gr.Row():
                    w["n_discriminators"] = widget("n_discriminators", info=True)
                    w["gman"] = widget("gman")
                # Every other setting with a widget (the weight average, PacGAN, minibatch std...).
                for name in rest(ToyTrainConfig, w):
                    w[name] = widget(name, info=True)
            speed = gr.Slider(0, 500, value=0, step=5, label="Speed limit (steps/s, 0 = as fast as it goes)")
            # The whole config as one JSON object, for API callers (no widget on the page).
            config_json = gr.JSON({}, visible=False, label="config")
            start_json = gr.Button(visible=False)
        with gr.Column(scale=3, min_width=400):
            view = gr.Image(label="Real (green), fake (purple), D's landscape and G's manifold",
                            type="numpy", format="png", interactive=False, elem_id="train-view", height=470)
            with gr.Row():
                show_manifold = gr.Checkbox(True, label="G's manifold")
                show_arrows = gr.Checkbox(False, label="G's gradient arrows")
            with gr.Row():
                n_steps = gr.Number(1, label="Steps", precision=0, minimum=1, maximum=10_000, min_width=80)
                update = gr.Radio([("D and G", "both"), ("D only", "d"), ("G only", "g")], value="both",
                                  label="Update")
            with gr.Row():
                step_btn = gr.Button("Step", elem_id="train-step")
                phase_btn = gr.Button("Slow motion: next phase", elem_id="train-phase")
        with gr.Column(scale=3, min_width=400):
            # Hidden until the run has a step to plot (show_charts); the note stands in their place.
            note = charts_note("**The charts draw here from the first step:** D's and G's losses, D's mean "
                               "score on real and on fake points, and how many of the data's modes G covers "
                               "(or, on data without modes, how far its samples are from the data).\n\n"
                               "The picture shows the start: the real data in green, G's first points in "
                               "purple, D's opinion as the background. Press **Start** or **Step**.",
                               "train-charts-note")
            losses_plot = gr.LinePlot(**STEP_AXIS, color="series", title="Losses", height=210, visible=False,
                                      color_map=plots.LOSS_SERIES, y_title="loss", color_title="",
                                      elem_id="train-losses-plot")
            d_plot = gr.LinePlot(**STEP_AXIS, color="series",
                                 title="D(x) and D(G(z))", visible=False,
                                 height=210, color_map=plots.SCORE_SERIES, y_title="D's mean score", y_axis_format="~g",
                                 color_title="", elem_id="train-d-plot")
            # Modes (0-8 or 0-25) and HQ % (0-100), or KL and JS, each on its own axis: on one, the
            # smaller line lies flat along the bottom. One series each, named by the title (a legend
            # would keep the names of the run before).
            with gr.Row():
                coverage_plot = gr.LinePlot(**NARROW_STEP_AXIS, title="Modes covered", height=200, visible=False,
                                            y_title="modes",
                                            label="Modes covered, or KL", show_label=False,
                                            elem_id="train-coverage-plot", min_width=180)
                hq_plot = gr.LinePlot(**NARROW_STEP_AXIS, title="High-quality samples %", height=200, visible=False,
                                      y_title="% of samples",
                                      label="High-quality %, or JS", show_label=False,
                                      elem_id="train-hq-plot", min_width=180)
            with gr.Row():
                csv_btn = gr.Button("History CSV", size="sm")
                png_btn = gr.Button("PNG of the view", size="sm")
                gif_btn = gr.Button("Timelapse GIF", size="sm")
            # Hidden until there is a file: an empty download box took a third of the screen.
            export = gr.File(label="Download", interactive=False, visible=False, height=90,
                             elem_id="train-export")

    config_widgets = [w[f] for f in FIELDS]
    drawing = gr.State(None)  # the canvas as an RGBA array, decoded once per stroke
    config_inputs = [session, *config_widgets, drawing]

    named = ["session", *run.names]
    on_speed = endpoint(run.speed, ["session", "steps_per_sec"])
    on_phase = endpoint(run.slow_motion, named, request=True)
    on_tick = run.view  # polled: a skip is no error
    start_fn, reset_fn = endpoint(run.start, named, request=True), endpoint(run.reset, named, request=True)
    change_fn = endpoint(run.change, named)

    timer = live_timer(REFRESH_S)
    timer.tick(on_tick, [session, show_manifold, show_arrows],
               [view, status, losses_plot, d_plot, coverage_plot, hq_plot, timer], show_progress="hidden",
               api_name="train_view", concurrency_limit=None, trigger_mode="always_last")

    raw = dict(preprocess=False)
    charts = [losses_plot, d_plot, coverage_plot, hq_plot]
    runs = (
        start.click(start_fn, config_inputs, [session, status], api_name="train_start", **raw),
        step_btn.click(endpoint(run.step, ["session", "n", "update", *run.names], request=True),
                       [session, n_steps, update, *config_widgets, drawing], [session, status],
                       api_name="train_step", **raw),
        start_json.click(endpoint(run.start_config, ["session", "config"], request=True), [session, config_json],
                         [session, status], api_name="train_start_config", **raw),
        phase_btn.click(on_phase, config_inputs, [session, status], api_name="train_slow_motion", **raw),
    )
    resets = (reset.click(reset_fn, config_inputs, [session, status, w["seed"]], api_name="train_reset", **raw),)
    for event in (*runs, *resets, pause.click(endpoint(run.pause, ["session"]), session, status,
                                              api_name="train_pause")):
        wake_after(event, timer, REFRESH_S)
    for event in runs:
        show_charts(event, charts, note)
    for event in resets:
        show_charts(event, charts, note, shown=False)
    # Before any run the view shows step 0 of the settings on screen (the data, G's first points).
    on_preview = endpoint(run.preview, named)
    demo.load(on_preview, config_inputs, view, api_visibility="private", **raw)
    speed.release(on_speed, [session, speed], None, api_name="train_speed", **raw)
    for live in run.live_widgets(w):
        edits(live)(change_fn, config_inputs, status, api_visibility="undocumented", **raw)
    dataset = w["dataset"]
    dataset.change(lambda d: (gr.update(visible=d == "custom"),) * 2, dataset, [sketch, use_drawing],
                   api_visibility="private")
    # The canvas opens with no tool picked ("select the draw tool to start"), and a first stroke
    # drew nothing: pick its brush as it appears, so picking "Draw your own" means drawing.
    dataset.change(None, dataset, None, js=PICK_BRUSH_JS, api_visibility="private")
    sketch.change(on_draw, sketch, drawing, api_visibility="private", show_progress="hidden")
    for name in ("dataset", "loss", "seed", "noise_dim", "noise_dist", "hidden_layers", "width"):
        w[name].change(on_preview, config_inputs, view, api_visibility="private", show_progress="hidden", **raw)
    drawn = use_drawing.click(on_draw, sketch, drawing, api_visibility="private").then(
        reset_fn, config_inputs, [session, status, w["seed"]], api_visibility="private", preprocess=False)
    wake_after(drawn, timer, REFRESH_S)
    show_charts(drawn, charts, note, shown=False)
    lesson_fn = user_errors(on_lesson)
    edits(lesson)(lesson_fn, lesson, [lesson_md, *config_widgets, status], api_visibility="private")
    load_lesson.click(lesson_fn, lesson, [lesson_md, *config_widgets, status], api_name="train_lesson")
    for widget in config_widgets:  # a person's change, not a lesson's loading
        edits(widget)(lesson_text, [lesson, *config_widgets], lesson_md, api_visibility="private",
                      show_progress="hidden", queue=False)
    # The download box appears once it holds a file (an API caller gets the file itself).
    reveal = dict(fn=lambda: gr.File(visible=True), inputs=None, outputs=export, api_visibility="private",
                  queue=False, show_progress="hidden")
    export_csv = endpoint(run.export_csv, ["session"])
    export_png = endpoint(run.export_png, ["session", "manifold", "arrows"])
    export_gif = endpoint(run.export_gif, ["session"])
    csv_btn.click(export_csv, session, export, api_name="train_export_csv").success(**reveal)
    png_btn.click(export_png, [session, show_manifold, show_arrows], export,
                  api_name="train_export_png").success(**reveal)
    gif_btn.click(export_gif, session, export, api_name="train_export_gif").success(**reveal)

    def on_unload(request: gr.Request):
        if request is not None and request.session_hash:
            ctx.pool.close_owner(request.session_hash)
            ctx.sessions.drop_owner(request.session_hash)

    demo.unload(on_unload)
