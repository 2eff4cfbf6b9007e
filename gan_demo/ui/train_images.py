"""Train live on images: a DCGAN learning Fashion-MNIST or digits, watched through a fixed-z grid."""

from __future__ import annotations

import secrets

import gradio as gr
import numpy as np

from .. import plots, settings
from ..errors import UserError
from ..validate import as_zoo_name
from ..training.image_config import ImageConfig, check_image_config, model_loss
from ..training.session import TrainSession
from .explore import Menu
from .common import (STEP_AXIS, AppContext, charts_note, edits, endpoint, keep_polling, live_timer, run_controls,
                     score_chart, show_charts, signed, user_errors, wake_after)
from .live_panel import LiveRunHandlers
from .settings_widgets import rest, setting_widget

REFRESH_S = 0.2
MAX_SAVED_PER_SESSION = 5

# The config widgets, in the order the handlers (and the API, positionally) receive their values.
FIELDS = settings.widget_settings(ImageConfig)


def config_from(values: dict) -> ImageConfig:
    return check_image_config(ImageConfig(**values))


def status_text(session: TrainSession | None) -> str:
    if session is None or session.trainer is None:
        return ("Press **Start**: the grid shows G's images for the same 64 noise vectors at every "
                "refresh, so you can watch each one sharpen.")
    t = session.trainer
    pub = t.published
    h = pub.history
    cfg = pub.config
    if not isinstance(cfg, ImageConfig):
        return "This session's trainer runs toy data; press **Reset** to start an image run."
    images_s = pub.steps_per_sec * cfg.batch_size * (cfg.d_steps + 1)
    line = (f"**{pub.status}** · step {pub.step:,} · {images_s:,.0f} images/s · "
            f"{pub.elapsed_s:,.0f} s of training · device `{t.device}`")
    if len(h["step"]):
        line += (f"  \nD loss {signed(h['d_loss'][-1])} · G loss {signed(h['g_loss'][-1])} · "
                 f"D(x) {signed(h['d_real'][-1])} · D(G(z)) {signed(h['d_fake'][-1])}")
        fid = h["frechet"][np.isfinite(h["frechet"])]
        if fid.size:
            line += f" · Frechet distance {fid[-1]:.1f} ({cfg.fid_samples} samples)"
    if cfg.g_average:  # the grid, the Frechet distance and a saved model come from the average
        line += f"  \n_Drawn from G's weight average (decay {cfg.g_average:g})._"
    if pub.message:
        line += f"  \n_{pub.message}_"
    if t.parked:
        line += "  \n_Paused long enough that its slot went to another visitor; **Start** takes one again._"
    return line


def curves(h: dict[str, np.ndarray], loss: str = "ns"):
    """The three plots' data: losses, D's mean scores (with the 0.5 line where the loss has one),
    the Frechet distance."""
    return (plots.curves_frame(h, ["d_loss", "g_loss"], {"d_loss": "D loss", "g_loss": "G loss"}, smooth=9),
            score_chart(plots.curves_frame(h, ["d_real", "d_fake"], {"d_real": "D(x)", "d_fake": "D(G(z))"},
                                           smooth=9), [loss]),
            plots.curves_frame(plots.at_evaluations(h, "frechet"), ["frechet"], {"frechet": "Frechet distance"}))


class ImageRunHandlers(LiveRunHandlers):
    """The image run's controls: Start / Pause / Reset / Step / a changed setting (``LiveRunHandlers``),
    and the polled view, the exports and saving G to the zoo."""

    def menu(self, saved: list[str]) -> list:
        """Explore's model list with this browser's saved models (``build`` hands in Explore's own)."""
        return self.ctx.shipped_image_models() + saved

    @staticmethod
    def view(state):
        """The fixed-z grid, status and curves of this session's image run (what the page polls)."""
        if state is None or state.trainer is None or not isinstance(state.trainer.published.config, ImageConfig):
            return (gr.skip(),) * 5 + (keep_polling(None),)
        frame = state.frame()
        return (frame.image, status_text(state), *curves(frame.published.history, frame.published.config.loss),
                keep_polling(frame.published.status))

    def export_csv(self, session):
        """The image run's history (losses, D's scores, Frechet distances) as a CSV file."""
        return [self.exported(session, "csv")]

    def export_png(self, session):
        """The current grid of G's images as a PNG."""
        return [self.exported(session, "png")]

    def export_gif(self, session):
        """The image run so far as an animated GIF of its grids."""
        return [self.exported(session, "gif")]

    def save(self, state, name, names, request=None):
        """Save the run's G as a zoo entry: returns its files, and Explore lists it in this browser."""
        if state is None or state.trainer is None:
            raise UserError("Nothing to save yet: press Start first.")
        names = list(names or [])
        if len(names) >= MAX_SAVED_PER_SESSION:
            raise UserError(f"This browser saved {MAX_SAVED_PER_SESSION} models already; download them, "
                            "or reload the page to start over.")
        base = as_zoo_name(name) if name else f"live-{state.trainer.published.config.model}"
        # A random suffix: the name is this browser's alone, and no one else's upload is overwritten.
        full = f"{base}-{secrets.token_hex(4)}"
        weights, card = state.save_to_zoo(self.ctx.user_zoo, full)
        self.ctx.models.add_file(full, weights, owner=getattr(request, "session_hash", None))
        names.append(full)
        return ([str(weights), str(weights.with_suffix(".json"))], names,
                gr.update(choices=self.menu(names)),
                f"Saved as **{full}**: pick it in Explore's model list (in this browser), or download "
                "its two files to keep it.")


def handlers(ctx: AppContext) -> ImageRunHandlers:
    """The image run's handlers (testable without a page)."""
    return ImageRunHandlers(ctx, "images", ImageConfig, config_from, status_text, max_steps=1000,
                            step_timeout_s=300.0)


def build(demo: gr.Blocks, ctx: AppContext, explore: Menu) -> None:
    session = gr.State(None, delete_callback=lambda s: s.close() if s is not None else None)
    saved, explore_model = explore.saved, explore.dropdown
    run = handlers(ctx)
    run.menu = explore.entries  # the list keeps the Hub models and their labels after a save

    def widget(name, **kwargs):
        return setting_widget(ImageConfig, name, **kwargs)

    w: dict[str, gr.Component] = {}

    # As the toy tab: controls left, the grid in the middle, the curves right, on one screen.
    with gr.Row():
        with gr.Column(scale=2, min_width=300):
            status, start, pause, reset = run_controls("img", status_text(None))
            for name in ("dataset", "model"):
                w[name] = widget(name, control=gr.Radio)
            w["loss"] = widget("loss", control=gr.Dropdown)
            w["train_weaker"] = widget("train_weaker")
            with gr.Accordion("Hyperparameters", open=False):
                w["d_steps"] = widget("d_steps")
                with gr.Row():
                    w["lr_d"] = widget("lr_d")
                    w["lr_g"] = widget("lr_g")
                for name in ("batch_size", "width", "latent_dim", "seed", "eval_every"):
                    w[name] = widget(name)
                for name in rest(ImageConfig, w):  # a new setting with a widget lands here
                    w[name] = widget(name, info=True)
            # The whole config as one JSON object, for API callers (no widget on the page).
            config_json = gr.JSON({}, visible=False, label="config")
            start_json = gr.Button(visible=False)
            gr.Markdown("The defaults are sized for a 2-core CPU: garments you can recognise appear within "
                        "about three minutes; a GPU is used when the server has one.")
        with gr.Column(scale=3, min_width=400):
            view = gr.Image(label="G's images, 64 fixed noise vectors (conditional: a class per column)",
                            type="numpy", format="png", interactive=False, elem_id="img-view",
                            elem_classes=["pixelated"], height=520)
            with gr.Row():
                n_steps = gr.Number(10, label="Steps", precision=0, minimum=1, maximum=1000, min_width=80)
                update = gr.Radio([("D and G", "both"), ("D only", "d"), ("G only", "g")], value="both",
                                  label="Update")
            step_btn = gr.Button("Step", elem_id="img-step")
            with gr.Row():
                zoo_name = gr.Textbox(label="Zoo name (optional)", placeholder="my-dcgan", max_lines=1)
                save_btn = gr.Button("Save to zoo", elem_id="img-save")
            saved_note = gr.Markdown(elem_id="img-saved")
        with gr.Column(scale=3, min_width=400):
            # Hidden until the run has a step to plot (show_charts); the note stands in their place.
            note = charts_note("**The charts draw here from the first step:** D's and G's losses, D's mean "
                               "score on real and on generated images, and the Frechet distance between "
                               "G's images and real ones (lower is closer).\n\nThe grid shows the start: "
                               "an untrained G turns each of its 64 fixed noise vectors into a flat grey "
                               "tile. Press "
                               "**Start** and watch each one become a garment (or a digit).",
                               "img-charts-note")
            losses_plot = gr.LinePlot(**STEP_AXIS, color="series", title="Losses", height=200, visible=False,
                                      color_map=plots.LOSS_SERIES, y_title="loss", color_title="",
                                      elem_id="img-losses-plot")
            d_plot = gr.LinePlot(**STEP_AXIS, color="series", title="D(x) and D(G(z))",
                                 height=200, visible=False,
                                 color_map=plots.SCORE_SERIES, y_title="D's mean score", y_axis_format="~g",
                                 color_title="",
                                 elem_id="img-d-plot")
            # "~r": 2000, 1000, 0 ("~s" wrote "2k, 1k, 0k"; ",": "2,000" was cut off at the left).
            # From 0 on the y axis too: the first point alone (a one-value domain) drew one clipped tick.
            fid_plot = gr.LinePlot(**STEP_AXIS, y_title="Frechet distance", y_axis_format="~r", y_lim=[0, None],
                                   title="Frechet distance of classifier features (lower is better)", height=200,
                                   visible=False,
                                   elem_id="img-fid-plot")
            with gr.Row():
                csv_btn = gr.Button("History CSV", size="sm")
                png_btn = gr.Button("PNG of the grid", size="sm")
                gif_btn = gr.Button("Timelapse GIF", size="sm")
            export = gr.File(label="Download", interactive=False, file_count="multiple", visible=False,
                             height=90, elem_id="img-export")

    widgets = [w[f] for f in FIELDS]
    inputs = [session, *widgets]

    on_tick = run.view  # polled: a skip is no error
    on_save = endpoint(run.save, ["session", "name", "names"], request=True)
    named = ["session", *run.names]
    change_fn = endpoint(run.change, named)

    timer = live_timer(REFRESH_S)
    timer.tick(on_tick, session, [view, status, losses_plot, d_plot, fid_plot, timer], show_progress="hidden",
               api_name="train_images_view", concurrency_limit=None, trigger_mode="always_last")
    raw = dict(preprocess=False)
    charts = [losses_plot, d_plot, fid_plot]
    runs = (
        start.click(endpoint(run.start, named, request=True), inputs, [session, status],
                    api_name="train_images_start", **raw),
        step_btn.click(endpoint(run.step, ["session", "n", "update", *run.names], request=True),
                       [session, n_steps, update, *widgets], [session, status], api_name="train_images_step", **raw),
        start_json.click(endpoint(run.start_config, ["session", "config"], request=True), [session, config_json],
                         [session, status], api_name="train_images_start_config", **raw),
    )
    reset_event = reset.click(endpoint(run.reset, named, request=True), inputs, [session, status, w["seed"]],
                              api_name="train_images_reset", **raw)
    for event in (*runs, reset_event, pause.click(endpoint(run.pause, ["session"]), session, status,
                                                  api_name="train_images_pause")):
        wake_after(event, timer, REFRESH_S)
    for event in runs:
        show_charts(event, charts, note)
    show_charts(reset_event, charts, note, shown=False)
    # Before any run the grid shows step 0 of the settings on screen: G's first images.
    on_preview = endpoint(run.preview, named)
    demo.load(on_preview, inputs, view, api_visibility="private", **raw)
    for name in ("dataset", "model", "width", "latent_dim", "seed"):
        w[name].change(on_preview, inputs, view, api_visibility="private", show_progress="hidden", **raw)
    # Picking a model selects the loss it is usually trained with (it can be changed after).
    edits(w["model"])(user_errors(model_loss), w["model"], w["loss"], api_visibility="private").then(
        change_fn, inputs, status, api_visibility="private", **raw)
    for live in run.live_widgets(w):
        edits(live)(change_fn, inputs, status, api_visibility="undocumented", **raw)
    reveal = dict(fn=lambda: gr.File(visible=True), inputs=None, outputs=export, api_visibility="private",
                  queue=False, show_progress="hidden")
    export_csv = endpoint(run.export_csv, ["session"])
    export_png = endpoint(run.export_png, ["session"])
    export_gif = endpoint(run.export_gif, ["session"])
    csv_btn.click(export_csv, session, export, api_name="train_images_export_csv").success(**reveal)
    png_btn.click(export_png, session, export, api_name="train_images_export_png").success(**reveal)
    gif_btn.click(export_gif, session, export, api_name="train_images_export_gif").success(**reveal)
    save_btn.click(on_save, [session, zoo_name, saved], [export, saved, explore_model, saved_note],
                   api_name="train_images_save").success(**reveal)
