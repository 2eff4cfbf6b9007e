"""The Explore tab: pick a zoo model, a seed and a truncation, and drag latent sliders."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

import numpy as np

from .. import hub_models, images, sampling, validate, zoo
from ..errors import Unavailable, UserError
from .common import AppContext, edits, endpoint, fresh_seed, upload_path

N_SLIDERS = 16
MAX_GRID = 64


def model_summary(card: dict) -> str:
    if card.get("hub"):
        return hub_summary(card)
    t = card.get("training", {})
    cfg = card["config"]
    lines = [f"**{card['name']}**: {card.get('description', '')}",
             f"family `{card['family']}`, data `{card.get('dataset', '?')}`, "
             f"{cfg['image_size']}x{cfg['image_size']}, latent size {cfg['latent_dim']}"]
    if t:
        steps = f"{t['steps']:,} steps" if isinstance(t.get("steps"), int) else "? steps"
        done = f"{t['epochs_done']:g} epochs ({steps})" if isinstance(t.get("epochs_done"), (int, float)) else steps
        lines.append(f"trained {done} in {t.get('wall_time_s', 0) / 60:.0f} min on "
                     f"{str(t.get('device', '?')).replace(' 1 threads', ' 1 thread')}")
    m = card.get("metrics", {})
    if "frechet_distance" in m:
        def fid(key: str) -> str:
            if not isinstance(m.get(key), (int, float)):
                return "?"
            return f"{m[key]:.1f}" if m[key] < 10 else f"{m[key]:.0f}"  # real data's 0.9 is not "1"

        samples = f"{m['samples']:,}" if isinstance(m.get("samples"), int) else "?"
        lines.append(f"Frechet distance {fid('frechet_distance')} on {samples} samples "
                     f"(lower is better: real images {fid('frechet_real_train_vs_test')}, "
                     f"an untrained generator {fid('frechet_untrained_generator')})")
    text = "  \n".join(lines)
    if card.get("known_weaknesses"):
        text += "\n\n**What it still does badly:**\n" + "\n".join(f"- {w}" for w in card["known_weaknesses"])
    return text


def hub_summary(card: dict) -> str:
    cfg = card["config"]
    where = (f"[{card['repo']}](https://huggingface.co/{card['repo']}/tree/{card['revision']}) "
             f"at commit `{card['revision'][:8]}`")
    fetch = ("in this server's cache" if card.get("cached") else
             f"downloaded on first use ({card['size_mb']:g} MB; needs a network once)")
    return (f"**{card['name']}** (from the Hugging Face Hub): {card['description']}  \n"
            f"{cfg.get('image_size', '?')}x{cfg.get('image_size', '?')}, latent size {cfg.get('latent_dim', '?')}; "
            f"{where}, licence: {card['licence']}; {fetch}; about {card['request_ms']:,} ms a picture "
            "on a 2-core CPU"
            + (f" (Explore draws up to {card['max_grid']} at a time)" if card.get("max_grid", MAX_GRID) < MAX_GRID
               else "") + ".  \n"
            f"Generator code rebuilt from {card['source']}. Not trained by this project: no Frechet "
            "distance of ours.")


def choices(cards: list[dict], saved: list[str] | tuple = ()) -> list[tuple[str, str]]:
    """Model list entries: our models by name, Hub models marked (and whether this server still
    needs a network for them: asked now, so a model fetched since start-up loses the mark), then
    the models this browser saved from a live run."""
    return ([(hub_models.label(c["name"]) if c.get("hub") else c["name"], c["name"]) for c in cards]
            + [(n, n) for n in saved])


@dataclass
class Menu:
    """Explore's model list and the names this browser saved to it (Train live -> Images adds
    them); ``entries`` is what the list shows for them, the one place it is worked out."""
    dropdown: gr.Dropdown
    saved: gr.State
    cards: list[dict]

    def entries(self, saved: list[str] | None = None) -> list[tuple[str, str]]:
        return choices(self.cards, saved or ())


def load_model(ctx: AppContext, name: str, card: dict | None):
    """A zoo model, or a Hub model fetched once into the cache (one sentence when it cannot be)."""
    if card is not None and card.get("hub"):
        return ctx.models.get(name, lambda: hub_models.load(name, ctx.models.device))
    return ctx.models.get(name)


def _owner(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None)


class ExploreHandlers:
    """What Explore's controls do, as plain methods: values in, pictures out, ``UserError`` for
    bad input. Tests call them without a page; ``build`` wires them to the widgets."""

    def __init__(self, ctx: AppContext, cards: list[dict]):
        self.ctx = ctx
        self.cards = {c["name"]: c for c in cards}
        self.names = list(self.cards)

    def model(self, name, request: gr.Request | None = None):
        """A shipped model, or one this browser session saved from a live run (Train live -> Images)."""
        added = self.ctx.models.added(name, _owner(request)) if isinstance(name, str) else None
        if added is not None:
            return added
        name = validate.as_choice(name, "model", self.names)
        return load_model(self.ctx, name, self.cards.get(name))

    def family(self, name) -> str | None:
        return self.cards.get(name, {}).get("family") if isinstance(name, str) else None

    def explore(self, model: str, seed: float, truncation: float, grid_size: float, *shifts: float,
                request: gr.Request = None):
        """Sample a zoo model: `grid_size` images from `seed`, truncation psi (1 = none), and a
        shift added to each of the first 16 latent dimensions. Returns the image grid."""
        seed = validate.as_seed(seed)
        psi = validate.as_float(truncation, "Truncation", 0.0, 2.0)
        n = validate.as_int(grid_size, "Grid size", 1, MAX_GRID)
        shifts = [validate.as_float(s, f"Latent slider {i}", -10.0, 10.0) for i, s in enumerate(shifts)]
        try:
            m = self.model(model, request)
        except Unavailable as exc:  # a Hub model offline: say so, and show no other model's samples
            gr.Warning(str(exc))
            return None
        n = min(n, m.card.get("max_grid", MAX_GRID))  # a slow Hub model draws a few (its card says so)
        return sampling.explore_grid(m, n, seed, psi, shifts)

    def new_seed(self, model, truncation, grid_size, *shifts, request: gr.Request = None):
        """Draw a fresh random seed and sample with it. Returns (seed, image grid)."""
        seed = fresh_seed()
        return seed, self.explore(model, seed, truncation, grid_size, *shifts, request=request)

    def reset_latents(self, model, seed, truncation, grid_size, request: gr.Request = None):
        """Set every latent slider back to 0 and sample. Returns (16 zeros..., image grid)."""
        zeros = [0.0] * N_SLIDERS
        return *zeros, self.explore(model, seed, truncation, grid_size, *zeros, request=request)

    def style_mix(self, model: str, coarse_seeds: str, fine_seeds: str, crossover: float, truncation: float):
        """StyleGAN style mixing: layers before `crossover` take their style from each of
        `coarse_seeds` (comma-separated, rows), the rest from each of `fine_seeds` (columns).
        Returns the table image (first row: fine sources, first column: coarse sources)."""
        m = self.model(model)
        fine = parse_seeds(fine_seeds, "Fine seeds")
        return sampling.grid_image(
            sampling.style_mix(m, parse_seeds(coarse_seeds, "Coarse seeds"), fine,
                               validate.as_int(crossover, "Crossover", 0, 64),
                               validate.as_float(truncation, "Truncation", 0.0, 2.0)),
            ncol=len(fine) + 1)

    def style_mix_if_style(self, model, *rest):
        """After a model switch: redraw the mixing table for StyleGAN models, leave it otherwise."""
        if self.family(model) != "stylegan":
            return gr.skip()
        return self.style_mix(model, *rest)

    def encode_image(self, model: str, upload, *shifts: float):
        """VAE-GAN: an uploaded image -> 28x28 grey -> its latent -> reconstruction, and the
        reconstruction moved by the latent sliders. Returns (latent, [input | reconstruction | edited])."""
        m = self.model(model)
        small = images.to_mnist_style(upload_path(upload))
        z = sampling.encode(m, small)
        return z.tolist(), self._encoded_strip(m, small, z, shifts)

    def edit_encoded(self, model: str, z, *shifts: float):
        """Redraw the encoded image's edit after a slider moves (nothing to do before an upload)."""
        if z is None:  # before an upload (and without loading a model that may need a network)
            return gr.skip()
        m = self.model(model)
        if not sampling.can_encode(m):
            return gr.skip()
        return self._encoded_strip(m, None, z, shifts)

    @staticmethod
    def _encoded_strip(m, small, z, shifts):
        shifts = [validate.as_float(v, f"Latent slider {i}", -10.0, 10.0) for i, v in enumerate(shifts)]
        recon = sampling.decode(m, z)
        edited = sampling.decode(m, z, shifts)
        first = recon if small is None else small[..., None]
        return sampling.grid_image(np.stack([first, recon, edited]), ncol=3)

    def describe_model(self, model: str, request: gr.Request = None) -> str:
        """The model's card as a short Markdown summary."""
        added = self.ctx.models.added(model, _owner(request)) if isinstance(model, str) else None
        if added is not None:
            return model_summary(added.card)
        card = self.cards[validate.as_choice(model, "model", self.names)]
        if not card.get("hub"):
            return model_summary(card)
        card = hub_models.card(model)  # cached by now?
        if not card["cached"] and not zoo.hub_reachable():
            # Said where it stays: the picture is empty and a warning fades.
            return (f"**{model} is not available on this server:** it has to be downloaded once "
                    f"({card['size_mb']:g} MB) from the Hugging Face Hub, which this server cannot reach. "
                    "Pick one of the other models (the ones without \"Hub\" in their name work offline).\n\n"
                    + model_summary(card))
        return model_summary(card)


def build(demo: gr.Blocks, ctx: AppContext, cards: list[dict]) -> Menu:
    """Lay out the Explore tab; returns its model menu, which live runs saved to the zoo join."""
    h = ExploreHandlers(ctx, cards)
    saved = gr.State([])  # names this browser saved to the zoo (Explore lists them for it alone)
    names = h.names
    shift_names = [f"z{i}" for i in range(N_SLIDERS)]
    explore = endpoint(h.explore, ["model", "seed", "truncation", "grid_size", *shift_names], request=True)
    new_seed = endpoint(h.new_seed, ["model", "truncation", "grid_size", *shift_names], request=True)
    reset_latents = endpoint(h.reset_latents, ["model", "seed", "truncation", "grid_size"], request=True)
    style_mix = endpoint(h.style_mix, ["model", "coarse_seeds", "fine_seeds", "crossover", "truncation"])
    style_mix_if_style = endpoint(h.style_mix_if_style, ["model", "coarse_seeds", "fine_seeds", "crossover",
                                                         "truncation"])
    encode_image = endpoint(h.encode_image, ["model", "image", *shift_names])
    edit_encoded = endpoint(h.edit_encoded, ["model", "z", *shift_names])
    describe_model = endpoint(h.describe_model, ["model"], request=True)

    # Controls, samples and sliders side by side: at 1400 x 900 the whole grid sits above the fold,
    # enlarged to its box with crisp pixels (the CSS above), and the sliders are beside it.
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            model = gr.Dropdown(choices(cards), value=names[0] if names else None, label="Model")
            with gr.Row():
                seed = gr.Number(value=0, label="Seed", precision=0, minimum=0, maximum=validate.MAX_SEED)
                new_seed_btn = gr.Button("New seed", elem_id="new-seed")
            # ψ = 0 drew 16 identical dark tiles, which looked broken to a newcomer: say what it does.
            truncation = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Truncation ψ (1 = none)",
                                   info="below 1 pulls every noise vector towards the centre: more typical, "
                                        "less varied samples; at 0 every tile is the same G(0), often faint",
                                   elem_id="explore-truncation")
            grid_size = gr.Slider(1, MAX_GRID, value=16, step=1, label="Grid size")
            # Below the controls: a long card (StyleGAN's) pushed Seed and Truncation off the screen.
            info = gr.Markdown(model_summary(cards[0]) if cards else "No models in weights/.", label="Model card",
                               elem_id="explore-card")
        with gr.Column(scale=2, min_width=440):
            image = gr.Image(label="Samples", type="numpy", format="png", elem_id="explore-image",
                             elem_classes="pixelated", interactive=False, height=640)
        with gr.Column(scale=1, min_width=260):
            gr.Markdown("**Latent sliders**: shift dimension *i* of every noise vector.")
            sliders = [gr.Slider(-3.0, 3.0, value=0.0, step=0.05, label=f"z[{i}]", elem_id=f"z-{i}")
                       for i in range(N_SLIDERS)]
            reset_btn = gr.Button("Reset sliders", elem_id="reset-sliders")
    has_encoder = any(c.get("family") == "vaegan" for c in cards)
    first_encoder = bool(cards) and cards[0].get("family") == "vaegan"
    with gr.Accordion("Encode your own image (VAE-GAN)", open=True, visible=first_encoder,
                      elem_id="encode-image") as encoding:
        gr.Markdown("A VAE-GAN also has an encoder: upload a picture of a garment (any size; it becomes a "
                    "28x28 grey image, light on black, as in Fashion-MNIST), see the model rebuild it, then "
                    "drag the latent sliders above to edit it. Left to right: your image as the model "
                    "sees it, the reconstruction, the edit.")
        with gr.Row():
            upload = gr.Image(label="Your image", type="filepath", sources=["upload", "clipboard"],
                              height=220, elem_id="encode-upload")
            encoded_view = gr.Image(label="Input | reconstruction | edited", type="numpy", format="png",
                                    interactive=False, elem_id="encoded-image", elem_classes="pixelated",
                                    height=220)
        encoded_z = gr.State(None)
    has_style = any(c.get("family") == "stylegan" for c in cards)
    first_style = bool(cards) and cards[0].get("family") == "stylegan"
    with gr.Accordion("Style mixing (StyleGAN)", open=True, visible=first_style,
                      elem_id="style-mixing") as mixing:
        gr.Markdown("StyleGAN's mapping network turns each noise vector z into a style w that every layer "
                    "reads. Take the early layers' styles (7x7: pose and shape) from one seed and the later "
                    "ones (28x28: texture and detail) from another. Rows: coarse seeds; columns: fine seeds.")
        with gr.Row():
            coarse = gr.Textbox("1, 2, 3", label="Coarse seeds (rows)", max_lines=1)
            fine = gr.Textbox("4, 5, 6, 7", label="Fine seeds (columns)", max_lines=1)
            crossover = gr.Slider(0, 7, value=2, step=1, label="Crossover: layers before this come from the row")
        mix_image = gr.Image(label="Style mixing", type="numpy", format="png", interactive=False,
                             elem_id="style-mix-image", elem_classes="pixelated", height=360)

    with gr.Accordion("Compare the zoo", open=False, elem_id="zoo-comparison"):
        gr.Markdown(
            "How good is each model? An independent classifier, trained on real images only, turns 10,000 "
            "samples into features; the **Frechet distance** between them and the real test set's features "
            "is FID's formula on a small classifier (lower is better; compare within a data set only). "
            "*untrained G*: the same architecture before training (the ceiling); *real floor*: real "
            "training images against the test images (what a perfect generator would reach). "
            "*Class accuracy*: how often the classifier agrees with the class a conditional model was asked for.")
        gr.Dataframe(value=zoo.comparison_rows([c for c in cards if not c.get("hub")]), headers=zoo.COMPARISON_COLUMNS, interactive=False,
                     wrap=True, elem_id="zoo-table")

    menu = Menu(model, saved, cards)

    def relabel(picked, names):
        # A Hub model fetched just now loses its "needs a network" mark; other picks change nothing.
        if not h.cards.get(picked, {}).get("hub"):
            return gr.skip()
        return gr.Dropdown(choices=menu.entries(names))

    controls = [model, seed, truncation, grid_size, *sliders]
    edits(model)(describe_model, model, info, api_name="describe_model")
    if has_encoder:
        edits(model)(lambda m: gr.Accordion(visible=h.family(m) == "vaegan"), model,
                     encoding, api_visibility="private")
        upload.upload(encode_image, [model, upload, *sliders], [encoded_z, encoded_view], api_name="encode_image",
                      preprocess=False)
        for s in sliders:
            edits(s)(edit_encoded, [model, encoded_z, *sliders], encoded_view, api_visibility="private",
                     trigger_mode="always_last", show_progress="hidden", preprocess=False)
    mix_inputs = [model, coarse, fine, crossover, truncation]
    if has_style:
        edits(model)(lambda m: gr.Accordion(visible=h.family(m) == "stylegan"), model, mixing,
                     api_visibility="private").then(
            style_mix_if_style, mix_inputs, mix_image, api_visibility="private", show_progress="hidden",
            preprocess=False)
        for i, control in enumerate((coarse, fine, crossover, truncation)):
            # Truncation belongs to every model: for one without style layers it leaves the table alone.
            edits(control)(style_mix if control is not truncation else style_mix_if_style, mix_inputs,
                           mix_image, api_name="style_mix" if i == 0 else None,
                           api_visibility="public" if i == 0 else "undocumented",
                           trigger_mode="always_last", show_progress="hidden", preprocess=False)
    # edits() fires on a person's edits only, so the buttons' own updates never re-trigger a render.
    # preprocess=False hands our validators the raw values: NaN or a string sent to the API gets
    # our sentence instead of Gradio's conversion error.
    for i, control in enumerate((model, seed, truncation, grid_size, *sliders)):
        drawn = edits(control)(explore, controls, image, api_name="explore" if i == 0 else None,
                               api_visibility="public" if i == 0 else "undocumented",
                               trigger_mode="always_last", show_progress="hidden", preprocess=False)
        if control is model:  # after the drawing, which fetched a Hub model if it could
            drawn.then(relabel, [model, saved], model, api_visibility="private", show_progress="hidden")
    new_seed_btn.click(new_seed, [model, truncation, grid_size, *sliders], [seed, image],
                       api_name="new_seed", preprocess=False)
    reset_btn.click(reset_latents, [model, seed, truncation, grid_size], [*sliders, image],
                    api_name="reset_latents", preprocess=False)
    demo.load(explore, controls, image, api_visibility="private", show_progress="hidden", preprocess=False)
    if first_style:
        demo.load(style_mix, mix_inputs, mix_image, api_visibility="private", show_progress="hidden",
                  preprocess=False)
    return menu


MAX_MIX_SEEDS = 8


def parse_seeds(text, name: str) -> list[int]:
    """"1, 2, 3" -> [1, 2, 3]: 1 to 8 seeds, each a valid seed."""
    if not isinstance(text, str):
        raise UserError(f"{name} must be text like '1, 2, 3'.")
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    if not 1 <= len(parts) <= MAX_MIX_SEEDS:
        raise UserError(f"{name}: give 1 to {MAX_MIX_SEEDS} seeds separated by commas, got {len(parts)}.")
    return [validate.as_seed(p) for p in parts]
