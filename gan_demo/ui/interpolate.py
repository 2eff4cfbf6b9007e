"""The Interpolate tab: walk from one latent (and class) to another, as a strip and an animation."""

from __future__ import annotations

import gradio as gr

from .. import plots, sampling, validate
from ..errors import Unavailable
from .common import HEAVY, AppContext, edits, endpoint, fresh_seed
from .explore import choices, load_model

MAX_STEPS = 64
MODES = [("Slerp (great circle)", "slerp"), ("Lerp (straight line)", "lerp")]


class InterpolateHandlers:
    """What Interpolate's controls do, as plain methods (``UserError`` for bad input)."""

    def __init__(self, ctx: AppContext, cards: list[dict]):
        self.ctx = ctx
        self.cards = {c["name"]: c for c in cards}
        self.names = list(self.cards)

    def interpolate(self, model: str, seed_a: float, seed_b: float, steps: float, mode: str, truncation: float,
                    class_a: str | None = None, class_b: str | None = None, fps: float = 12):
        """Frames from `seed_a` to `seed_b` (for conditional models also from `class_a` to `class_b`),
        `steps` of them, by `mode` lerp or slerp. Returns (strip image, animated GIF, GIF to download)."""
        name = validate.as_choice(model, "model", self.names)
        try:
            m = load_model(self.ctx, name, self.cards.get(name))
        except Unavailable as exc:  # a Hub model offline: say so, and clear the old frames
            gr.Warning(str(exc))
            return None, None, None
        steps = validate.as_int(steps, "Steps", 2, MAX_STEPS)
        mode = validate.as_choice(mode, "interpolation", [v for _, v in MODES])
        fps = validate.as_float(fps, "Frames per second", 1.0, 30.0)
        classes = [None, None]
        if sampling.is_conditional(m):
            classes = [None if c in (None, "") else sampling.class_index(m, c) for c in (class_a, class_b)]
        frames = sampling.interpolate(m, validate.as_seed(seed_a), validate.as_seed(seed_b), steps, mode,
                                      validate.as_float(truncation, "Truncation", 0.0, 2.0), *classes)
        gif = self.ctx.scratch_file(".gif", plots.gif_bytes(plots.frames_for_gif(frames, scale=4), fps=fps),
                                    name=f"{m.name}_seeds-{validate.as_seed(seed_a)}-{validate.as_seed(seed_b)}_{mode}")
        return sampling.grid_image(frames, ncol=min(steps, 8)), str(gif), str(gif)  # rows of 8: big enough to see

    def new_seeds(self, model, seed_a, seed_b, *rest):
        """Two fresh random seeds and their interpolation. Returns (seed A, seed B, strip, GIF, GIF)."""
        a, b = fresh_seed(), fresh_seed()
        return a, b, *self.interpolate(model, a, b, *rest)

    def model_classes(self, model: str):
        """Class pickers for conditional models (hidden for the others)."""
        card = self.cards[validate.as_choice(model, "model", self.names)]
        classes = list(card.get("classes") or [])
        show = bool(card.get("conditional"))
        return (gr.Dropdown(choices=classes, value=classes[0] if show else None, visible=show),
                gr.Dropdown(choices=classes, value=classes[min(1, len(classes) - 1)] if show else None,
                            visible=show))


def build(demo: gr.Blocks, ctx: AppContext, cards: list[dict]) -> None:
    if not cards:
        gr.Markdown("No models in `weights/`.")
        return
    h = InterpolateHandlers(ctx, cards)
    names = h.names
    params = ["model", "seed_a", "seed_b", "steps", "mode", "truncation", "class_a", "class_b", "fps"]
    interpolate = endpoint(h.interpolate, params)
    new_seeds = endpoint(h.new_seeds, params)
    model_classes = endpoint(h.model_classes, ["model"])

    first = cards[0]
    first_classes = list(first.get("classes") or [])
    cond = bool(first.get("conditional"))
    gr.Markdown("Pick two seeds: the generator draws every point on the path between their noise "
                "vectors. A smooth walk means G learned a continuous space. **Slerp** follows the "
                "sphere where Gaussian noise lives; **lerp** cuts through the middle, where vectors are "
                "atypically short, and its middle frames often look faded.")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            model = gr.Dropdown(choices(cards), value=names[0], label="Model")
            with gr.Row():
                seed_a = gr.Number(value=0, label="Seed A", precision=0, minimum=0, maximum=validate.MAX_SEED)
                seed_b = gr.Number(value=1, label="Seed B", precision=0, minimum=0, maximum=validate.MAX_SEED)
            new_btn = gr.Button("New seeds", elem_id="interp-new-seeds")
            with gr.Row():
                class_a = gr.Dropdown(first_classes, value=first_classes[0] if cond else None,
                                      label="Class A", visible=cond)
                class_b = gr.Dropdown(first_classes, value=first_classes[min(1, len(first_classes) - 1)]
                                      if cond else None, label="Class B", visible=cond)
            mode = gr.Radio(MODES, value="slerp", label="Path")
            steps = gr.Slider(2, MAX_STEPS, value=12, step=1, label="Steps")
            truncation = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Truncation ψ (1 = none)")
            fps = gr.Slider(1, 30, value=12, step=1, label="Animation frames per second")
        with gr.Column(scale=2):
            strip = gr.Image(label="Frames, A to B", type="numpy", format="png", interactive=False,
                             elem_id="interp-strip", elem_classes="pixelated", height=330)
            with gr.Row():
                animation = gr.Image(label="Animation (there and back)", type="filepath", interactive=False,
                                     elem_id="interp-gif", elem_classes="pixelated", height=260)
                download = gr.File(label="Download GIF", interactive=False)

    inputs = [model, seed_a, seed_b, steps, mode, truncation, class_a, class_b, fps]
    outputs = [strip, animation, download]
    for i, control in enumerate((seed_a, seed_b, steps, mode, truncation, class_a, class_b, fps)):
        edits(control)(interpolate, inputs, outputs, api_name="interpolate" if i == 0 else None,
                       api_visibility="public" if i == 0 else "undocumented",
                       trigger_mode="always_last", show_progress="hidden", preprocess=False, **HEAVY)
    # The last model's frames go at once (a Hub model can take seconds to load), and the new ones show progress.
    edits(model)(lambda: (None, None, None), None, outputs, api_visibility="private", show_progress="hidden").then(
        model_classes, model, [class_a, class_b], api_name="interpolate_classes", preprocess=False).then(
        interpolate, inputs, outputs, api_visibility="private", preprocess=False, **HEAVY)
    new_btn.click(new_seeds, inputs, [seed_a, seed_b, *outputs], api_name="interpolate_new_seeds",
                  preprocess=False, **HEAVY)
    demo.load(interpolate, inputs, outputs, api_visibility="private", show_progress="hidden",
              preprocess=False)
