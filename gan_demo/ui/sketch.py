"""The Sketch tab: draw an outline, get a garment (pix2pix), and see what the model trained on."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np

from .. import hub_models, sketch, validate
from ..errors import Unavailable, UserError
from .common import HEAVY, AppContext, edits, endpoint, fresh_seed, upload_path, user_errors
from .explore import choices, load_model

EXAMPLES_DIR = Path(__file__).resolve().parent.parent.parent / "examples" / "sketches"
MAX_EXTRA = 8
ZOOM = 8


def canvas_image(value):
    """The drawing inside a Sketchpad payload as an event with ``preprocess=False`` receives it
    (the composite's server path), or a plain path/array given through the API."""
    if isinstance(value, dict) and ("composite" in value or "layers" in value):
        value = value.get("composite")
    return upload_path(value) if not isinstance(value, np.ndarray) else value


def shown(image):
    """28 x 28 -> 8x larger with hard pixel edges, so the browser shows pixels, not a blur."""
    return np.kron(image, np.ones((ZOOM, ZOOM), np.uint8))


class SketchHandlers:
    """What the Sketch tab's controls do, as plain methods (``UserError`` for bad input)."""

    def __init__(self, ctx: AppContext, cards: list[dict]):
        self.ctx = ctx
        self.cards = {c["name"]: c for c in cards}
        self.names = list(self.cards)

    def model(self, name):
        name = validate.as_choice(name, "model", self.names)
        return load_model(self.ctx, name, self.cards.get(name))

    def is_hub(self, name) -> bool:
        return bool(self.cards.get(name, {}).get("hub")) if isinstance(name, str) else False

    @staticmethod
    def hint(model, value):
        value = sketch.NO_HINT if value in (None, "") else value
        return validate.as_choice(value, "class hint", [sketch.NO_HINT, *model.classes])

    def draw(self, model: str, drawing, hint: str, seed: float, extra: float):
        """Turn a drawing into a garment: the drawing (a Sketchpad value or an image file, dark
        lines on light or the reverse), an optional class hint, a seed for pix2pix's dropout noise
        and how many extra variations (0-8). Returns (the 28 x 28 lines the model read, the
        garment, the variations (all 8x enlarged), a line of text)."""
        try:
            m = self.model(model)
        except Unavailable as exc:  # a Hub model offline: the sentence in the caption, pictures cleared
            gr.Warning(str(exc))
            return None, None, [], str(exc)
        seed = validate.as_seed(seed)
        extra = validate.as_int(extra, "Variations", 0, MAX_EXTRA)
        source = canvas_image(drawing)
        if source is None or not _has_ink(source):
            # Not an error: a note in the caption, not a red badge on every output.
            message = "The canvas is empty: draw the outline of a garment first."
            return None, None, [], message
        if self.is_hub(model):  # a Hub pix2pix at 256 x 256: no class hint, no dropout noise
            lines, photo = hub_models.draw_shoe(m, source)
            return (lines, photo, [], f"**{model}** (from the Hugging Face Hub, licence "
                    f"{self.cards[model]['licence']}) read your lines at 256 x 256 (dark lines on white, as its "
                    "training edge maps); it takes no class hint and draws one picture (its dropout is off), "
                    f"in about {self.cards[model]['request_ms']:,} ms on a 2-core CPU.")
        result = sketch.draw(m, source, self.hint(m, hint), seed, 1 + extra)
        gallery = [(shown(g), f"seed {seed + 1 + k}") for k, g in enumerate(result.garments[1:])]
        text = (f"The model read {int(result.lines.sum())} ink pixels on a 28 x 28 frame"
                + (f", with the hint **{result.hint}**." if result.hint else ", with no class hint."))
        return shown(sketch.render(result.lines)), shown(result.garments[0]), gallery, text

    def draw_when_inked(self, model, drawing, hint, seed, extra):
        """``draw`` as a stroke ends or a setting changes; a cleared or blank canvas is no error
        (but a Hub model that cannot be had says so at once, before anyone draws for it)."""
        source = canvas_image(drawing)
        if source is None or not _has_ink(source):
            if self.is_hub(model):
                try:
                    self.model(model)
                except Unavailable as exc:
                    gr.Warning(str(exc))
                    return None, None, [], str(exc)
            return gr.skip()
        return self.draw(model, drawing, hint, seed, extra)

    def widgets(self, model: str):
        """The controls as they fit the model: the Hub's edges2shoes draws one 256 x 256 shoe with
        no class hint, noise or variations, and this app holds none of its training pairs. Returns
        updates for (hint, seed, variations slider, draw button, lines, result, variations gallery,
        the training-pairs accordion)."""
        hub = self.is_hub(model)
        thing = "shoe" if hub else "garment"
        return (gr.Dropdown(visible=not hub), gr.Number(visible=not hub), gr.Slider(visible=not hub),
                gr.Button(value=f"Draw the {thing}"),
                gr.Image(label=f"Lines it reads, {'256 x 256' if hub else '28 x 28'}"),
                gr.Image(label=thing.capitalize()), gr.Gallery(visible=not hub), gr.Accordion(visible=not hub))

    def test_pair(self, model: str, index: float, seed: float):
        """A real Fashion-MNIST test image (by index, 0-9999): its edge map as the model was trained
        on, the model's garment from that edge map, and the real image. Returns the three (8x enlarged)
        and a caption."""
        index = validate.as_int(index, "Test image", 0, 9999)
        if self.is_hub(model):
            raise UserError(f"{model} was trained on edges2shoes, which this app does not hold; pick "
                            "pix2pix-fashion-sketch to see a test pair.")
        lines, result, real, label = sketch.test_pair(self.model(model), index, validate.as_seed(seed))
        return (shown(sketch.render(lines)), shown(result.garments[0]), shown(real),
                f"Test image {index}: a **{label}**.")


def build(demo: gr.Blocks, ctx: AppContext, cards: list[dict]) -> None:
    h = SketchHandlers(ctx, cards)
    names = h.names
    if not names:
        gr.Markdown("No sketch model is installed: train one with "
                    "`python -m gan_demo train pix2pix --dataset fashion --out weights/pix2pix-fashion-sketch`.")
        return
    classes = list(cards[0].get("classes") or [])
    draw = endpoint(h.draw, ["model", "drawing", "hint", "seed", "extra"])
    when_drawn = endpoint(h.draw_when_inked, ["model", "drawing", "hint", "seed", "extra"])
    test_pair = endpoint(h.test_pair, ["model", "index", "seed"])

    def random_index():
        return fresh_seed() % 10_000

    gr.Markdown(
        "**pix2pix** (Isola et al. 2017) learns to turn one kind of image into another from pairs: here "
        "a line drawing into a Fashion-MNIST garment (ours), or into a shoe photo (the Hub's edges2shoes "
        "model). Its generator is a U-Net whose skip connections "
        "carry the drawing's lines straight to the output; its discriminator judges (drawing, garment) "
        "pairs patch by patch, so the garment must fit your lines. Draw an outline with a few inner "
        "lines, the result updates when the stroke ends. The only randomness is dropout, so "
        "variations differ only a little: the paper saw the same.")
    with gr.Row():
        model = gr.Dropdown(choices(cards), value=names[0], label="Model", scale=2)
        hint = gr.Dropdown([sketch.NO_HINT, *classes], value=sketch.NO_HINT, label="Class hint", scale=2,
                           info="optional: tell the model what you drew")
        seed = gr.Number(0, label="Noise seed", precision=0, minimum=0, scale=1)
        extra = gr.Slider(0, MAX_EXTRA, value=4, step=1, label="Variations", scale=1)
    with gr.Row():
        with gr.Column(scale=3):
            pad = gr.Sketchpad(label="Draw here: pick the brush on the left, then draw an outline", type="numpy", image_mode="RGBA", canvas_size=(280, 280),
                               fixed_canvas=True, sources=(), elem_id="sketch-pad",
                               brush=gr.Brush(default_size=6, colors=["#000000"], color_mode="fixed"))
            with gr.Row():
                clear_btn = gr.Button("Clear", elem_id="sketch-clear")
                # a drawing on paper, photographed or scanned: it becomes the canvas, to draw over
                upload_btn = gr.UploadButton("Upload a drawing", file_types=["image"], elem_id="sketch-upload")
                go_btn = gr.Button("Draw the garment", variant="primary", elem_id="sketch-go")
            examples = sorted(str(p) for p in EXAMPLES_DIR.glob("*.png"))
            example_gallery = gr.Gallery(examples, label="Example sketches: click one", columns=8, height=150,
                                         allow_preview=False, elem_id="sketch-examples", elem_classes="label-above")
        with gr.Column(scale=2):
            with gr.Row():
                # One toolbar button each: three covered the end of the label.
                read = gr.Image(label="Lines it reads, 28 x 28", type="numpy", interactive=False,
                                elem_id="sketch-lines", format="png", elem_classes="label-above",
                                buttons=["download"])
                garment = gr.Image(label="Garment", type="numpy", interactive=False, elem_id="sketch-garment",
                                   format="png", elem_classes="label-above", buttons=["download"])
            variations = gr.Gallery(label="Other noise seeds", columns=4, height=160, elem_id="sketch-variations",
                                    format="png", elem_classes="label-above")
            caption = gr.Markdown(elem_id="sketch-caption")
    with gr.Accordion("What it was trained on: a real test image, its edge map and the model's garment",
                      open=False) as trained_on:
        gr.Markdown("Each epoch the model saw every Fashion-MNIST image drawn a different way (edge maps of "
                    "several strengths, the outline alone, thick strokes, gaps, a slightly warped garment), "
                    "thinned to one-pixel lines; your drawing is thinned the same way. Below: a test image's "
                    "edge map, one of those ways.")
        with gr.Row():
            index = gr.Number(0, label="Test image (0-9999)", precision=0, minimum=0, maximum=9999)
            pick_btn = gr.Button("Show this test image")
            random_btn = gr.Button("Random test image")
        with gr.Row():
            pair_lines = gr.Image(label="Edge map (the input)", interactive=False, format="png",
                                  elem_id="sketch-pair-lines",
                                  elem_classes="label-above")
            pair_out = gr.Image(label="pix2pix's garment", interactive=False, format="png",
                                  elem_id="sketch-pair-out",
                                  elem_classes="label-above")
            pair_real = gr.Image(label="The real image", interactive=False, format="png",
                                  elem_id="sketch-pair-real",
                                  elem_classes="label-above")
        pair_caption = gr.Markdown(label="Caption")

    inputs, outputs = [model, pad, hint, seed, extra], [read, garment, variations, caption]
    go_btn.click(draw, inputs, outputs, api_name="sketch", preprocess=False, **HEAVY)
    pick_btn.click(test_pair, [model, index, seed], [pair_lines, pair_out, pair_real, pair_caption],
                   api_name="sketch_test_pair", preprocess=False, **HEAVY)

    # A stroke's own input event carries the canvas without its pixels (Gradio 6 uploads the layers
    # only for other triggers), so the stroke presses a hidden button whose click sends them.
    auto_btn = gr.Button("redraw", visible="hidden", elem_id="sketch-auto")
    auto_btn.click(when_drawn, inputs, outputs, api_visibility="private", preprocess=False,
                   trigger_mode="always_last", show_progress="minimal", **HEAVY)
    edits(pad)(None, None, None, js="() => { document.querySelector('#sketch-auto')?.click(); }")
    for widget in (hint, seed, extra):
        edits(widget)(when_drawn, inputs, outputs, api_visibility="private", preprocess=False,
                      trigger_mode="always_last", **HEAVY)
    edits(model)(h.widgets, model, [hint, seed, extra, go_btn, read, garment, variations, trained_on],
                 api_visibility="private", show_progress="hidden").then(
        when_drawn, inputs, outputs, api_visibility="private", preprocess=False, trigger_mode="always_last",
        **HEAVY)
    # No progress overlay: on the canvas it outlived the (instant) event and left a grey, spinning
    # pad that took no strokes until an example was clicked.
    clear_btn.click(lambda: (None, None, None, [], ""), None, [pad, read, garment, variations, caption],
                    api_visibility="private", queue=False, show_progress="hidden")

    def load_example(model, hint, seed, extra, evt: gr.SelectData):
        # Setting the canvas from the server fires no change event, so draw from the file itself.
        path = examples[evt.index]
        canvas = {"background": path, "layers": [], "composite": path}  # the example replaces any strokes
        return canvas, *draw(model, path, hint, seed, extra)

    def load_upload(model, upload, hint, seed, extra):
        # Drawn first, so a file that is not a drawing gets its sentence and leaves the canvas as it was.
        path = str(canvas_image(upload))
        result = draw(model, path, hint, seed, extra)
        return {"background": path, "layers": [], "composite": path}, *result

    upload_btn.upload(user_errors(load_upload), [model, upload_btn, hint, seed, extra], [pad, *outputs], api_visibility="private",
                      preprocess=False, show_progress="hidden", **HEAVY)
    example_gallery.select(load_example, [model, hint, seed, extra], [pad, *outputs], api_visibility="private",
                           show_progress="hidden", **HEAVY)  # a progress timer on the canvas could outlive the event
    # Opening the accordion shows the chosen test pair at once instead of three empty boxes.
    trained_on.expand(test_pair, [model, index, seed], [pair_lines, pair_out, pair_real, pair_caption],
                      api_visibility="private", preprocess=False, **HEAVY)
    random_btn.click(random_index, None, index, api_visibility="private").then(
        test_pair, [model, index, seed], [pair_lines, pair_out, pair_real, pair_caption],
        api_visibility="private", preprocess=False, **HEAVY)


def _has_ink(source) -> bool:
    try:
        return bool((sketch.ink_of(source) > 0.25).any())
    except UserError:
        return True  # let the real handler explain what is wrong with the file
