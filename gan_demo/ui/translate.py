"""The Translate tab: horse <-> zebra with CycleGAN, the cycle back, and a batch mode."""

from __future__ import annotations

import time
from pathlib import Path

import gradio as gr
import numpy as np

from .. import translation, validate
from ..errors import UserError
from .common import HEAVY, AppContext, edits, endpoint, upload_path

EXAMPLES_DIR = Path(__file__).resolve().parent.parent.parent / "examples" / "horse2zebra"
MAX_BATCH = 16
REFUSED_AGAIN_S = 3.0  # translate_on_change: the photo box's echo of a refused upload came within about 1 s
DIRECTIONS = [("Horse → zebra", "AtoB"), ("Zebra → horse", "BtoA")]
RECONSTRUCTION_LABELS = {"AtoB": "Cycle reconstruction F(G(x)): back to a horse",
                         "BtoA": "Cycle reconstruction G(F(y)): back to a zebra"}


class TranslateHandlers:
    """What the Translate tab's controls do, as plain methods (``UserError`` for bad input)."""

    def __init__(self, ctx: AppContext, cards: list[dict]):
        self.ctx = ctx
        self.names = [*(c["name"] for c in cards), translation.OFFICIAL_NAME]

    def model(self, name):
        name = validate.as_choice(name, "model", self.names)
        if name == translation.OFFICIAL_NAME:
            return self.ctx.models.get(name, lambda: translation.load_official(device=self.ctx.models.device))
        return self.ctx.models.get(name)

    @staticmethod
    def direction(value) -> str:
        return validate.as_choice(value, "direction", [v for _, v in DIRECTIONS])

    def translate(self, model: str, direction: str, image):
        """Translate one photo (AtoB: horse -> zebra, BtoA: zebra -> horse) and run the cycle back.
        Returns ((input, translation) for the before/after slider, the cycle reconstruction,
        the |input - reconstruction| map, a line of figures)."""
        m = self.model(model)
        if image is None:  # a note in the caption, not an Error badge on every output
            note = "Upload a photo or pick an example, then press Translate."
            gr.Warning(note)  # the caption sits below the examples, out of sight of the button
            return None, None, None, note
        t = translation.translate(m, upload_path(image), self.direction(direction))
        h, w = t.input.shape[:2]
        how = ("its change computed at {} x {} and laid onto the photo" if hasattr(m.generator.G_AB, "lay_onto")
               else "translated at {} x {} and resized back").format(*t.work_size)
        stats = (f"{w} x {h} input, {how}. "
                 f"Cycle: mean |input − reconstruction| {100 * t.cycle_l1:.1f} % of full scale, "
                 f"PSNR {t.cycle_psnr:.1f} dB.")
        return (t.input, t.output), t.reconstruction, t.error, stats

    def translate_on_change(self, model, direction, image, refused=None):
        """Translate on upload; an unreadable upload gets its sentence (a toast and the caption)
        and clears the photo box and the old results, instead of Error badges over them.

        ``refused`` (this page's, in a ``gr.State``) is the last refused upload and when: Gradio's
        photo box sends a change twice for a file it cannot show, about a second apart, and the
        same sentence came twice in one toast ("Warning (2)"). The same file again within
        ``REFUSED_AGAIN_S`` is that echo; later it is a person trying again, and gets the sentence."""
        if not image:
            return (gr.skip(),) * 6  # clearing the photo is not an error
        path = str(upload_path(image))
        if refused and refused[0] == path and time.monotonic() - refused[1] < REFUSED_AGAIN_S:
            return (gr.skip(),) * 6
        try:
            return (gr.skip(), *self.translate(model, direction, image), None)
        except UserError as exc:
            gr.Warning(str(exc))
            return None, None, None, None, str(exc), (path, time.monotonic())

    def translate_batch(self, model: str, direction: str, files):
        """Translate several photos at once (at most 16). Returns (gallery of results captioned with
        the file names, a .zip of PNGs at the inputs' sizes). Files that are not readable images are
        listed in the captions and skipped."""
        m = self.model(model)
        direction = self.direction(direction)
        paths = [p for p in (upload_path(f) for f in (files or [])) if p]
        if not paths:
            raise UserError("Add one or more photos first.")
        if len(paths) > MAX_BATCH:
            raise UserError(f"At most {MAX_BATCH} photos at a time, got {len(paths)}.")
        results, archive = translation.translate_files(m, paths, direction)
        gallery = [(out, name) if out is not None else (np.full((64, 64, 3), 235, np.uint8), f"{name}: {why}")
                   for name, out, why in results]
        label = dict((v, k) for k, v in DIRECTIONS)[direction]
        return gallery, str(self.ctx.scratch_file(".zip", archive, name=f"{model}_{label}"))

    def download_official(self):
        """Fetch the released horse2zebra and zebra2horse generators (needs a network); returns a
        status line."""
        translation.download_official()
        self.model(translation.OFFICIAL_NAME)
        return "The official generators are downloaded: pick *official-horse2zebra* in Model."


def build(demo: gr.Blocks, ctx: AppContext, cards: list[dict]) -> None:
    h = TranslateHandlers(ctx, cards)
    names = h.names
    translate = endpoint(h.translate, ["model", "direction", "image"])
    translate_batch = endpoint(h.translate_batch, ["model", "direction", "files"])
    download_official = endpoint(h.download_official, [])
    when_there_is_a_photo = endpoint(h.translate_on_change, ["model", "direction", "image", "refused"])

    gr.Markdown(
        "CycleGAN (Zhu et al. 2017) learns two translations from two piles of unpaired photos: G "
        "turns horses into zebras and F turns zebras into horses, and the **cycle** F(G(x)) must give "
        "the horse back. Upload a photo or pick an example; drag the slider to compare. The "
        "reconstruction and its error map show how much the cycle keeps: bright means lost.")
    with gr.Row():
        model = gr.Dropdown(names, value=names[0], label="Model", scale=2,
                            info="ours: trained by this project; official: the paper's released "
                                 "generators, once downloaded")
        direction = gr.Radio(DIRECTIONS, value="AtoB", label="Direction", scale=2)
        fetch_btn = gr.Button("Download official weights", scale=1)
    fetch_status = gr.Markdown(label="Download status")
    with gr.Tabs():
        with gr.Tab("One photo", id="translate-one"):
            with gr.Row():
                with gr.Column(scale=1):
                    image = gr.Image(label="Your photo", type="filepath", sources=["upload", "clipboard"],
                                     elem_id="translate-upload", height=320)
                    go_btn = gr.Button("Translate", variant="primary", elem_id="translate-go")
                    # Each example sets the direction its animal goes: a zebra photo run "horse ->
                    # zebra" came back nearly unchanged and its reconstruction was labelled a horse.
                    # The brown horses in daylight first: they show what the model does best (dark
                    # horses mostly keep their coat; the card says so).
                    first = EXAMPLES_DIR / "horse_n02381460_120.jpg"
                    examples = [[str(p), "BtoA" if p.name.startswith("zebra") else "AtoB"]
                                for p in sorted(EXAMPLES_DIR.glob("*.jpg"), key=lambda p: (p != first, p.name))]
                    if examples:
                        gr.Examples(examples, inputs=[image, direction], label="Example photos (test set)",
                                    examples_per_page=6)
                with gr.Column(scale=1):
                    # As tall as the photo box beside it: a 256 px photo scaled to the column's
                    # width ran past the bottom of a 900 px screen.
                    slider = gr.ImageSlider(label="Before / after", type="numpy", format="jpeg",
                                            interactive=False, elem_id="translate-slider", height=420)
            stats = gr.Markdown(elem_id="translate-stats")
            with gr.Row():
                reconstruction = gr.Image(label=RECONSTRUCTION_LABELS["AtoB"], type="numpy", format="jpeg",
                                          interactive=False, elem_id="translate-rec", height=280)
                error = gr.Image(label="|input − reconstruction|: black 0, then red, yellow, white ≥ 25 %",
                                 type="numpy",
                                 format="jpeg", interactive=False, elem_id="translate-error", height=280)
        with gr.Tab("Batch", id="translate-batch"):
            files = gr.File(label=f"Photos (up to {MAX_BATCH})", file_count="multiple", file_types=["image"])
            batch_btn = gr.Button("Translate all", variant="primary")
            batch_gallery = gr.Gallery(label="Results", columns=4, height="auto", elem_classes="label-above")
            batch_zip = gr.File(label="Download all as .zip", interactive=False)

    single_in, single_out = [model, direction, image], [slider, reconstruction, error, stats]
    go_btn.click(translate, single_in, single_out, api_name="translate", preprocess=False, **HEAVY)

    direction.change(lambda d: gr.update(label=RECONSTRUCTION_LABELS.get(d, RECONSTRUCTION_LABELS["AtoB"])),
                     direction, reconstruction, api_visibility="private", queue=False, show_progress="hidden")
    refused = gr.State(None)  # the last refused upload and when (translate_on_change)
    for event in (image.change, edits(model), edits(direction)):
        event(when_there_is_a_photo, [*single_in, refused], [image, *single_out, refused], api_visibility="private",
              preprocess=False, **HEAVY)
    batch_btn.click(translate_batch, [model, direction, files], [batch_gallery, batch_zip],
                    api_name="translate_batch", preprocess=False, **HEAVY)
    fetch_btn.click(download_official, None, fetch_status, api_name="download_official")
