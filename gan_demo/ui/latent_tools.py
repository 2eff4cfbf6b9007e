"""The Latent tools tab: PCA directions (GANSpace) and vector arithmetic (Radford et al. 2016)."""

from __future__ import annotations

import re

import gradio as gr
import pandas as pd

from .. import arithmetic, directions, sampling, validate
from ..errors import Unavailable
from .common import AppContext, edits, endpoint, fresh_seed
from .explore import choices, load_model

N_COMPONENTS = 6  # sliders; the table lists more
TABLE_COMPONENTS = 10
SWEEP_SPAN = 2.0
SWEEP_STEPS = 5
GRID = 40  # samples to pick from (5 rows of 8)
VARIANTS = 8  # the arithmetic result with noise added, as in Radford et al. 2016
# A Hub model that takes about a second a picture (card's max_grid below 16: PGGAN, FastGAN) draws
# a smaller sweep and grid, so a request stays near ten seconds instead of forty.
SLOW = dict(components=2, steps=3, grid=8, variants=2)
NO_PICKS = ("", "", "")
TARGETS = ["A", "B", "C"]


def marked(gallery, picked: tuple[str, str, str]):
    """The grid again, each sample captioned with its number and the sets it is in ("3 · A")."""
    if not gallery:
        return gr.skip()
    sets = [{int(t) for t in re.split(r"[\s,;]+", p or "") if t.isdigit()} for p in picked]
    out = []
    for i, item in enumerate(gallery):
        image = item[0] if isinstance(item, (tuple, list)) else item
        names = [t for t, chosen in zip(TARGETS, sets) if i in chosen]
        out.append((image, f"{i} · {', '.join(names)}" if names else str(i)))
    return out


def toggle_pick(target: str, picked: tuple[str, str, str], index) -> tuple[str, str, str]:
    """(A, B, C) with sample ``index`` added to or removed from set ``target``."""
    values = dict(zip(TARGETS, picked or NO_PICKS))
    if target in values and isinstance(index, int):
        values[target] = arithmetic.add_pick(values[target], index)
    return tuple(values[t] for t in TARGETS)


class LatentToolsHandlers:
    """What the Latent tools tab's controls do, as plain methods (``UserError`` for bad input)."""

    def __init__(self, ctx: AppContext, cards: list[dict]):
        self.ctx = ctx
        self.cards = {c["name"]: c for c in cards}
        self.names = list(self.cards)

    def model(self, name):
        name = validate.as_choice(name, "model", self.names)
        return load_model(self.ctx, name, self.cards[name])

    def available(self, name):
        """The model, or None for a Hub model this server cannot download (``pca_components``, which
        runs first when a model is picked, says so; the other controls then draw nothing)."""
        try:
            return self.model(name)
        except Unavailable:
            return None

    def budget(self, name) -> dict[str, int]:
        """How many pictures a request draws for this model: its sweep's rows and columns, its pick
        grid and the arithmetic's noisy variants."""
        card = (self.cards.get(name) if isinstance(name, str) else None) or {}
        if card.get("max_grid", 64) < 16:
            return dict(SLOW)
        return dict(components=N_COMPONENTS, steps=SWEEP_STEPS, grid=GRID, variants=VARIANTS)

    @staticmethod
    def _class(m, class_name):
        if not sampling.is_conditional(m):
            return None
        return sampling.class_index(m, class_name if class_name not in (None, "") else 0)

    def pca_edit(self, model: str, seed: float, truncation: float, class_name: str | None, *amounts: float,
                 with_sweep: bool = True):
        """Move one sample along the model's top principal directions (GANSpace): `amounts[i]` units
        (standard deviations) along component i. Returns (edited image, sweep image whose row i walks
        component i from -2 to +2 around the edited sample)."""
        m = self.available(model)
        if m is None:
            return None, None
        seed = validate.as_seed(seed)
        psi = validate.as_float(truncation, "Truncation", 0.0, 2.0)
        amounts = [validate.as_float(a, f"Component {i + 1}", -5.0, 5.0) for i, a in enumerate(amounts)]
        label = self._class(m, class_name)
        edited = directions.edit(m, seed, amounts, psi, label, k=TABLE_COMPONENTS)
        if not with_sweep:
            return sampling.grid_image(edited[None], ncol=1), None
        size = self.budget(model)
        sweep = directions.sweep(m, seed, size["components"], SWEEP_SPAN, size["steps"], psi, label, amounts,
                                 k=TABLE_COMPONENTS)
        return (sampling.grid_image(edited[None], ncol=1),
                sampling.grid_image(sweep, ncol=size["steps"]))

    def pca_slide(self, model: str, seed: float, truncation: float, class_name: str | None, *amounts: float):
        """A slider moved: ``pca_edit``, but a slow model (``budget``) redraws only the edited sample and
        keeps its sweep (7 pictures, 10-25 s for PGGAN on 2 cores, far too slow to follow a slider)."""
        if self.budget(model)["components"] < N_COMPONENTS:
            edited, _ = self.pca_edit(model, seed, truncation, class_name, *amounts, with_sweep=False)
            return edited, gr.skip()
        return self.pca_edit(model, seed, truncation, class_name, *amounts)

    def pca_components(self, model: str):
        """The model's principal directions: their share of variance (table), one slider per top
        component (labelled with its share) reset to 0, and the class picker for conditional models."""
        try:
            m = self.model(model)
        except Unavailable as exc:  # a Hub model offline: the caption says so where it stays
            gr.Warning(str(exc))
            sliders = [gr.Slider(value=0.0, label=f"PC{i + 1}") for i in range(N_COMPONENTS)]
            table = pd.DataFrame(columns=["component", "share of variance %", "cumulative %"])
            return table, f"**{exc}**", self.class_picker(model), *sliders
        dirs = directions.get(m, TABLE_COMPONENTS)
        share = dirs.variance_share.astype(float)
        table = pd.DataFrame({"component": [f"PC{i + 1}" for i in range(len(share))],
                              "share of variance %": [round(100 * v, 2) for v in share],
                              "cumulative %": [round(100 * v, 2) for v in share.cumsum()]})
        sliders = [gr.Slider(value=0.0, label=f"PC{i + 1}: {100 * share[i]:.1f} % of variance",
                             visible=i < len(share)) for i in range(N_COMPONENTS)]
        size = self.budget(model)
        caption = (f"PCA of {dirs.analysed} ({directions.PCA_SAMPLES} samples). "
                   + ("One slider unit is one standard deviation of w along the component."
                      if dirs.space == "w" else "One slider unit is one standard deviation of z.")
                   + (f" This model takes about a second a picture: the sweep shows the first {size['components']} "
                      f"components in {size['steps']} steps, and a slider redraws only the edited sample (the "
                      "sweep follows with a new seed or Reset)." if size["components"] < N_COMPONENTS else ""))
        return table, caption, self.class_picker(model), *sliders

    def class_picker(self, model):
        card = self.cards[model]
        classes = list(card.get("classes") or [])
        cond = bool(card.get("conditional"))
        return gr.Dropdown(choices=classes, value=classes[0] if cond else None, visible=cond)

    def arithmetic_grid(self, model: str, seed: float, truncation: float):
        """The numbered samples to pick A, B and C from (`GRID` of them, from `seed`).
        Returns (gallery, A, B, C) with the picks cleared."""
        m = self.available(model)
        if m is None:
            return [], "", "", ""
        images = arithmetic.pick_grid(m, self.budget(model)["grid"], validate.as_seed(seed),
                                      validate.as_float(truncation, "Truncation", 0.0, 2.0))
        return [(_native(img), str(i)) for i, img in enumerate(images)], "", "", ""

    def vector_arithmetic(self, model: str, seed: float, truncation: float, a: str, b: str, c: str):
        """mean(A) - mean(B) + mean(C) in the model's latent space, where A, B and C list sample
        numbers of the grid from `seed` (e.g. "3, 7, 12"). Returns a gallery: the three means, the
        result, then the result with +-0.25 noise added (as in Radford et al. 2016)."""
        m = self.model(model)
        size = self.budget(model)
        out = arithmetic.combine(m, size["grid"], validate.as_seed(seed), a, b, c,
                                 validate.as_float(truncation, "Truncation", 0.0, 2.0), variants=size["variants"])
        captions = ["mean(A)", "− mean(B)", "+ mean(C)", "= result"]
        items = [(_native(img), cap) for img, cap in zip([*out.means, out.result[0]], captions)]
        items += [(_native(img), f"+ noise {i + 1}") for i, img in enumerate(out.result[1:])]
        return items

    def combine_if_ready(self, model, seed, truncation, a, b, c):
        """``vector_arithmetic`` once each of A, B and C holds a pick."""
        if not all((v or "").strip() for v in (a, b, c)):
            return gr.skip()
        return self.vector_arithmetic(model, seed, truncation, a, b, c)

    def new_seed(self, model, truncation, class_name, *amounts):
        """A fresh random seed: its PCA edit, sweep and a new pick grid.
        Returns (seed, edited, sweep, gallery, A, B, C)."""
        seed = fresh_seed()
        return (seed, *self.pca_edit(model, seed, truncation, class_name, *amounts),
                *self.arithmetic_grid(model, seed, truncation))


def build(demo: gr.Blocks, ctx: AppContext, cards: list[dict]) -> None:
    if not cards:
        gr.Markdown("No models in `weights/`.")
        return
    h = LatentToolsHandlers(ctx, cards)
    names = h.names
    pcs = [f"pc{i + 1}" for i in range(N_COMPONENTS)]
    pca_edit = endpoint(h.pca_edit, ["model", "seed", "truncation", "class_name", *pcs])
    pca_slide = endpoint(h.pca_slide, ["model", "seed", "truncation", "class_name", *pcs])
    pca_components = endpoint(h.pca_components, ["model"])
    arithmetic_grid = endpoint(h.arithmetic_grid, ["model", "seed", "truncation"])
    vector_arithmetic = endpoint(h.vector_arithmetic, ["model", "seed", "truncation", "a", "b", "c"])
    combine_if_ready = endpoint(h.combine_if_ready, ["model", "seed", "truncation", "a", "b", "c"])
    new_seed = endpoint(h.new_seed, ["model", "truncation", "class_name", *pcs])

    def pick(target: str, picked: tuple[str, str, str], gallery, evt: gr.SelectData):
        # Clicking a sample toggles it in the chosen set. Every click counts (trigger_mode
        # "multiple"; Gradio's default drops clicks while one is pending), one at a time, and the
        # picks live in session state read when the click is handled: the text boxes' values
        # travel with the click and would be stale when clicks come faster than the server answers.
        new = toggle_pick(target, picked, evt.index)
        return (*new, new, marked(gallery, new))

    gr.Markdown(
        "Two ways to find meaning in a generator's latent space. **PCA directions** (GANSpace, "
        "Härkönen et al. 2020): the directions along which samples vary most, each a slider. "
        "**Vector arithmetic** (Radford et al. 2016): average a few samples of each of three "
        "concepts and draw A − B + C.")
    first = cards[0]
    first_classes = list(first.get("classes") or [])
    cond = bool(first.get("conditional"))
    with gr.Row():
        model = gr.Dropdown(choices(cards), value=names[0], label="Model", scale=2)
        seed = gr.Number(value=0, label="Seed", precision=0, minimum=0, maximum=validate.MAX_SEED, scale=1)
        truncation = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Truncation ψ (1 = none)", scale=2)
        new_btn = gr.Button("New seed", scale=1, elem_id="latent-new-seed")
    with gr.Tabs():
        with gr.Tab("PCA directions", id="pca"):
            with gr.Row():
                with gr.Column(scale=1, min_width=280):
                    class_name = gr.Dropdown(first_classes, value=first_classes[0] if cond else None,
                                             label="Class", visible=cond)
                    sliders = [gr.Slider(-3.0, 3.0, value=0.0, step=0.1, label=f"PC{i + 1}",
                                         elem_id=f"pca-slider-{i}") for i in range(N_COMPONENTS)]
                    reset_btn = gr.Button("Reset sliders")
                with gr.Column(scale=1, min_width=200):
                    edited = gr.Image(label="Edited sample", type="numpy", format="png", interactive=False,
                                      elem_id="pca-edited", elem_classes="pixelated", height=260)
                with gr.Column(scale=1, min_width=200):
                    sweep = gr.Image(label=f"Row i: component i from −{SWEEP_SPAN:g} to +{SWEEP_SPAN:g}",
                                     type="numpy", format="png", interactive=False, elem_id="pca-sweep",
                                     elem_classes="pixelated", height=420)
            caption = gr.Markdown(label="Caption")
            table = gr.Dataframe(label="Share of variance per component", interactive=False,
                                 elem_id="pca-table")
        with gr.Tab("Vector arithmetic", id="arithmetic"):
            gr.Markdown("Choose a set below, then click samples in the grid to add them to it (click "
                        "again to remove). With a few samples in each of A, B and C the result appears; "
                        "averaging several samples per concept is what makes the arithmetic work.")
            with gr.Row():
                target = gr.Radio(TARGETS, value="A", label="Clicks add to", scale=1)
                a_box = gr.Textbox(label="A (samples)", placeholder="e.g. 3, 7, 12", scale=1)
                b_box = gr.Textbox(label="B (samples)", scale=1)
                c_box = gr.Textbox(label="C (samples)", scale=1)
            with gr.Row():
                compute_btn = gr.Button("Compute A − B + C", variant="primary")
                clear_btn = gr.Button("Clear picks")
            with gr.Row():
                picks = gr.Gallery(label="Samples (numbered)", columns=8, height="auto", allow_preview=False,
                                   elem_id="arith-grid", elem_classes="pixelated", scale=3, min_width=480)
                result = gr.Gallery(label="A − B + C", columns=4, height="auto", allow_preview=False,
                                    elem_id="arith-result", elem_classes="pixelated", scale=2, min_width=320)

    pca_inputs = [model, seed, truncation, class_name, *sliders]
    pca_outputs = [edited, sweep]
    grid_outputs = [picks, a_box, b_box, c_box]
    picked = gr.State(NO_PICKS)  # (A, B, C) as the boxes show them; see pick()

    def forget_picks():
        return NO_PICKS
    for i, control in enumerate((seed, truncation, class_name, *sliders)):
        edits(control)(pca_edit if i < 3 else pca_slide, pca_inputs, pca_outputs,
                       api_name="pca_edit" if i == 0 else None,
                       api_visibility="public" if i == 0 else "undocumented",
                       trigger_mode="always_last", show_progress="hidden", preprocess=False)
    for control in (seed, truncation):
        edits(control)(arithmetic_grid, [model, seed, truncation], grid_outputs,
                       api_name="arithmetic_grid" if control is seed else None,
                       api_visibility="public" if control is seed else "undocumented",
                       trigger_mode="always_last", show_progress="hidden", preprocess=False).then(
            forget_picks, None, picked, api_visibility="private")
    compute_btn.click(vector_arithmetic, [model, seed, truncation, a_box, b_box, c_box], result,
                      api_name="vector_arithmetic", preprocess=False)
    # The last model's pictures go at once: a Hub model can take seconds to load and draw.
    edits(model)(lambda: (None, None, []), None, [edited, sweep, result], api_visibility="private",
                 show_progress="hidden").then(
        pca_components, model, [table, caption, class_name, *sliders], api_name="pca_components",
        preprocess=False).then(
        pca_edit, pca_inputs, pca_outputs, api_visibility="private", preprocess=False).then(
        arithmetic_grid, [model, seed, truncation], grid_outputs, api_visibility="private",
        preprocess=False).then(forget_picks, None, picked, api_visibility="private")
    new_btn.click(new_seed, [model, truncation, class_name, *sliders],
                  [seed, *pca_outputs, *grid_outputs], api_name="latent_new_seed", preprocess=False).then(
        forget_picks, None, picked, api_visibility="private")
    reset_btn.click(lambda *v: [0.0] * N_COMPONENTS, None, sliders, api_visibility="private").then(
        pca_edit, pca_inputs, pca_outputs, api_visibility="private", show_progress="hidden",
        preprocess=False)
    picks.select(pick, [target, picked, picks], [a_box, b_box, c_box, picked, picks], api_visibility="private",
                 show_progress="hidden", concurrency_limit=1, trigger_mode="multiple").then(
        combine_if_ready, [model, seed, truncation, a_box, b_box, c_box], result,
        api_visibility="private", show_progress="hidden", preprocess=False)
    clear_btn.click(lambda gallery: ("", "", "", [], NO_PICKS, marked(gallery, NO_PICKS)), picks,
                    [a_box, b_box, c_box, result, picked, picks], api_visibility="private")
    for box in (a_box, b_box, c_box):  # typing in a box is a pick too
        edits(box)(lambda a, b, c: (a, b, c), [a_box, b_box, c_box], picked, api_visibility="private")
    demo.load(pca_components, model, [table, caption, class_name, *sliders], api_visibility="private",
              preprocess=False).then(
        pca_edit, pca_inputs, pca_outputs, api_visibility="private", show_progress="hidden",
        preprocess=False)
    demo.load(arithmetic_grid, [model, seed, truncation], grid_outputs, api_visibility="private",
              show_progress="hidden", preprocess=False)


def _native(img):
    """Grey images as 2D arrays (what the gallery's PNG writer expects)."""
    return img[..., 0] if img.shape[-1] == 1 else img
