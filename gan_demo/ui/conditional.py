"""The Conditional tab: ask a class-conditioned GAN for a class by name, and see class x seed grids."""

from __future__ import annotations

import gradio as gr

from .. import sampling, validate
from .common import AppContext, edits, endpoint, fresh_seed

MAX_SAMPLES = 64
MAX_ROWS = 10


def columns_text(classes) -> str:
    return "Columns, left to right: " + " · ".join(f"**{c}**" for c in classes)


class ConditionalHandlers:
    """What the Conditional tab's controls do, as plain methods (``UserError`` for bad input)."""

    def __init__(self, ctx: AppContext, cards: list[dict]):
        self.ctx = ctx
        self.classes_of = {c["name"]: list(c.get("classes") or []) for c in cards if c.get("conditional")}
        self.names = list(self.classes_of)

    def _model(self, name):
        return self.ctx.models.get(validate.as_choice(name, "model", self.names))

    def conditional(self, model: str, class_name: str, n: float, seed: float, truncation: float):
        """`n` samples of one class (by name, e.g. "Sneaker" or "7", or by index) from `seed`;
        returns the image grid."""
        m = self._model(model)
        k = sampling.class_index(m, class_name)
        n = validate.as_int(n, "Number of samples", 1, MAX_SAMPLES)
        images = sampling.class_samples(m, k, n, validate.as_seed(seed),
                                        validate.as_float(truncation, "Truncation", 0.0, 2.0))
        return sampling.grid_image(images)

    def new_seed(self, model, class_name, n, truncation):
        """A fresh random seed and its samples. Returns (seed, image grid)."""
        seed = fresh_seed()
        return seed, self.conditional(model, class_name, n, seed, truncation)

    def class_grid(self, model: str, seed: float, rows: float, truncation: float):
        """One row per latent (from `seed`), one column per class, the same z along each row.
        Returns the grid image."""
        m = self._model(model)
        rows = validate.as_int(rows, "Rows", 1, MAX_ROWS)
        images = sampling.class_grid(m, validate.as_seed(seed), rows,
                                     validate.as_float(truncation, "Truncation", 0.0, 2.0))
        return sampling.grid_image(images, ncol=len(m.classes))

    def model_classes(self, model: str):
        """The classes of a conditional model, for the class picker."""
        classes = self.classes_of[validate.as_choice(model, "model", self.names)]
        return gr.Dropdown(choices=classes, value=classes[0]), columns_text(classes)


def build(demo: gr.Blocks, ctx: AppContext, cards: list[dict]) -> None:
    h = ConditionalHandlers(ctx, cards)
    names, classes_of = h.names, h.classes_of
    if not names:
        gr.Markdown("No conditional models in `weights/`: train one with "
                    "`python -m gan_demo train cgan --dataset mnist --out weights/cgan-digits`.")
        return
    conditional = endpoint(h.conditional, ["model", "class_name", "n", "seed", "truncation"])
    new_seed = endpoint(h.new_seed, ["model", "class_name", "n", "truncation"])
    class_grid = endpoint(h.class_grid, ["model", "seed", "rows", "truncation"])
    model_classes = endpoint(h.model_classes, ["model"])

    first = classes_of[names[0]]
    gr.Markdown("A conditional GAN takes a class as well as a noise vector: ask for a class by name. "
                "In the grid, each row keeps one noise vector and each column changes the class, so "
                "what stays the same along a row is what the noise controls.")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            model = gr.Dropdown(names, value=names[0], label="Model")
            class_name = gr.Dropdown(first, value=first[0], label="Class", elem_id="cond-class")
            n = gr.Slider(1, MAX_SAMPLES, value=16, step=1, label="Samples")
            with gr.Row():
                seed = gr.Number(value=0, label="Seed", precision=0, minimum=0, maximum=validate.MAX_SEED)
                new_seed_btn = gr.Button("New seed", elem_id="cond-new-seed")
            truncation = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Truncation ψ (1 = none)")
            rows = gr.Slider(1, MAX_ROWS, value=4, step=1, label="Grid rows (latents)")
        with gr.Column(scale=1):
            samples = gr.Image(label="Samples of the class", type="numpy", format="png", interactive=False,
                               elem_id="cond-image", elem_classes="pixelated", height=360)
        with gr.Column(scale=2):
            columns = gr.Markdown(columns_text(first), label="Grid columns")
            grid = gr.Image(label="Class x seed grid", type="numpy", format="png", interactive=False,
                            elem_id="cond-grid", elem_classes="pixelated", height=360)

    sample_inputs = [model, class_name, n, seed, truncation]
    grid_inputs = [model, seed, rows, truncation]
    for i, control in enumerate((class_name, n, seed, truncation)):
        edits(control)(conditional, sample_inputs, samples, api_name="conditional" if i == 0 else None,
                       api_visibility="public" if i == 0 else "undocumented",
                       trigger_mode="always_last", show_progress="hidden", preprocess=False)
    for i, control in enumerate((seed, rows, truncation)):
        edits(control)(class_grid, grid_inputs, grid, api_name="class_grid" if i == 0 else None,
                       api_visibility="public" if i == 0 else "undocumented",
                       trigger_mode="always_last", show_progress="hidden", preprocess=False)
    edits(model)(model_classes, model, [class_name, columns], api_name="conditional_classes",
                 preprocess=False).then(
        conditional, sample_inputs, samples, api_visibility="private", show_progress="hidden",
        preprocess=False).then(
        class_grid, grid_inputs, grid, api_visibility="private", show_progress="hidden", preprocess=False)
    new_seed_btn.click(new_seed, [model, class_name, n, truncation], [seed, samples],
                       api_name="conditional_new_seed", preprocess=False).then(
        class_grid, grid_inputs, grid, api_visibility="private", show_progress="hidden", preprocess=False)
    demo.load(conditional, sample_inputs, samples, api_visibility="private", show_progress="hidden",
              preprocess=False)
    demo.load(class_grid, grid_inputs, grid, api_visibility="private", show_progress="hidden",
              preprocess=False)
