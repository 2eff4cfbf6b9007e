"""The Gradio app: one file per tab, each only laying out widgets and wiring them to gan_demo."""

from __future__ import annotations

import os
from pathlib import Path

import gradio as gr

from .. import hub_models, plots, zoo
from ..training.live import TrainerPool
from . import (conditional, explore, gradio_patches, interpolate, latent_tools, sketch, train, train_images,
               translate, versus)
from .common import AppContext
from .sessions import CLOSED_GRACE_S, SessionSweeper

MAX_TRAINERS_ENV = "GAN_DEMO_MAX_TRAINERS"
TRAINER_IDLE_ENV = "GAN_DEMO_TRAINER_IDLE_S"  # seconds unwatched before a live trainer stops (900)
USER_ZOO_ENV = "GAN_DEMO_USER_ZOO"  # where "Save to zoo" writes (a temp folder unless set)
SESSION_GRACE_ENV = "GAN_DEMO_SESSION_GRACE_S"  # seconds a closed tab's state is kept (300)
RUNS_PER_ADDRESS_ENV = "GAN_DEMO_RUNS_PER_ADDRESS"  # live trainers one visitor (session or address) may hold (2)
PARK_AFTER_ENV = "GAN_DEMO_PARK_AFTER_S"  # seconds paused before a run's slot may go to another visitor (120)
BEHIND_PROXY_ENV = "GAN_DEMO_BEHIND_PROXY"  # 1: trust X-Forwarded-For (default: 1 on a Hugging Face Space)

INTRO = """# GAN Playground
See how generative adversarial networks work: drag the latent sliders of models this project
trained (**Explore**), walk between two of their samples (**Interpolate**), ask a conditional GAN for
a class by name (**Conditional**), find meaningful directions and do arithmetic with latents
(**Latent tools**), turn a horse into a zebra with CycleGAN (**Translate**), turn your drawing into a
garment with pix2pix (**Sketch**), or train a small GAN live and watch it learn (**Train live**)."""

MAX_UPLOAD = "10mb"

# Explore sends native-resolution grids; the browser scales them up without blurring the pixels.
CSS = """
#explore-image img, .pixelated img {
  image-rendering: pixelated; width: 100%; height: 100%; object-fit: contain;
}
/* Gradio floats an image's label over its top edge; keep a drawing's top lines and a grid's top
   row visible below it. */
.label-above .image-frame, .pixelated .image-frame, .label-above .grid-wrap, .pixelated .grid-wrap {
  padding-top: 30px;
}
/* A refused Start says why in a toast; the status tracker's red "Error" pill sat over the status
   line itself (the run's state, which a refusal does not change). */
[id$="-status"] > [data-testid="status-tracker"] {
  display: none;
}
/* A gallery's tiles are at least 100 px wide, so 8 columns overflowed a 700 px box sideways (one
   column cut off, and a click scrolled it); let its columns shrink to fit the box instead. */
#arith-grid .grid-container, #sketch-examples .grid-container {
  grid-template-columns: repeat(var(--grid-cols), minmax(0, 1fr));
  grid-template-rows: none; grid-auto-rows: auto;
}
""" + plots.dashed_run_css("B")  # Versus: run B's lines dashed

# Every listener of a single-choice dropdown binds to its `select` event (common.edits: its `input`
# comes twice for one mouse pick, and again each time the list merely loses focus). Gradio 6.31
# sends no `select` for a pick made with the keyboard (arrows or a typed filter, then Enter): the
# box showed the new model while the pictures stayed the old one's. So Enter on an open list picks
# the highlighted option the way a click does (the list's own mousedown handler), which sends
# `select`, then closes the list as a click does.
KEYBOARD_PICKS_JS = """
() => {
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (event.key !== "Enter" || !(box instanceof HTMLInputElement) || box.getAttribute("role") !== "combobox") {
      return;
    }
    const id = box.getAttribute("aria-activedescendant");
    const option = id ? document.getElementById(id) : null;
    if (!option || option.dataset.index === undefined) {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    option.dispatchEvent(new MouseEvent("mousedown", {bubbles: true, cancelable: true}));
    box.blur();
  }, true);
}
"""


def behind_proxy(env=os.environ) -> bool:
    """Whether the app sits behind a proxy that sets X-Forwarded-For (a Space does; SPACE_ID says so)."""
    value = env.get(BEHIND_PROXY_ENV)
    if value is None:
        return bool(env.get("SPACE_ID"))
    return value.strip().lower() in ("1", "true", "yes", "on")


def build_app(ctx: AppContext | None = None) -> gr.Blocks:
    if ctx is None:
        ctx = AppContext(models=zoo.ModelCache(),
                         pool=TrainerPool(int(os.environ.get(MAX_TRAINERS_ENV, "4")),
                                          float(os.environ.get(TRAINER_IDLE_ENV, "900")),
                                          per_client=int(os.environ.get(RUNS_PER_ADDRESS_ENV, "2")),
                                          park_after_s=float(os.environ.get(PARK_AFTER_ENV, "120"))),
                         behind_proxy=behind_proxy())
        if os.environ.get(USER_ZOO_ENV):
            ctx.user_zoo = Path(os.environ[USER_ZOO_ENV])
    gradio_patches.apply()
    cards = zoo.list_models(ctx.models.weights_dir)
    hub_cards = [hub_models.card(name) for name in hub_models.names("sample")]  # beside ours, marked
    # Gradio keeps a copy of every image it sends; on a long-running Space, drop copies after 2 h.
    with gr.Blocks(title="GAN Playground", delete_cache=(3600, 7200)) as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            with gr.Tab("Explore", id="explore"):
                explore_model = explore.build(demo, ctx, cards + hub_cards)
            with gr.Tab("Interpolate", id="interpolate"):
                interpolate.build(demo, ctx, cards + hub_cards)
            with gr.Tab("Conditional", id="conditional"):
                conditional.build(demo, ctx, cards)
            with gr.Tab("Latent tools", id="latent"):
                latent_tools.build(demo, ctx, cards + hub_cards)
            with gr.Tab("Translate", id="translate"):
                translate.build(demo, ctx, zoo.list_models(ctx.models.weights_dir, kind="translation"))
            with gr.Tab("Sketch", id="sketch"):
                sketch.build(demo, ctx, zoo.list_models(ctx.models.weights_dir, kind="sketch")
                             + [hub_models.card(name) for name in hub_models.names("sketch")])
            with gr.Tab("Train live", id="train"):
                with gr.Tabs():
                    with gr.Tab("2D toy data", id="train-toy"):
                        train.build(demo, ctx)
                    with gr.Tab("Images", id="train-images"):
                        train_images.build(demo, ctx, explore_model)
                    with gr.Tab("Versus", id="versus"):
                        versus.build(demo, ctx)
    # A class of 30 shares two CPU cores: keep bursts in a bounded queue rather than in threads.
    demo.queue(max_size=256, default_concurrency_limit=2)
    name_unlabelled(demo)
    name_tools(demo)
    return demo


def name_tools(demo: gr.Blocks) -> None:
    """Name each public endpoint's handler after its API name: MCP clients list the tools by the
    handler's name (``on_tick_2`` told nobody it draws the Versus view); the docstring describes it."""
    for block_fn in demo.fns.values():
        if block_fn.fn is not None and block_fn.api_name and block_fn.api_visibility == "public":
            try:
                block_fn.fn.__name__ = block_fn.api_name
            except (AttributeError, TypeError):  # a callable object: its class names it
                pass


def name_unlabelled(demo: gr.Blocks) -> None:
    """The API page names an unlabelled output ``value_<id>``: name each by its title or element
    id instead, so a caller reads what comes back. Markdown shows no label, so nothing changes on
    the page; a chart keeps its label hidden under its title."""
    for block in demo.blocks.values():
        if not isinstance(block, gr.components.Component) or getattr(block, "label", None) is not None:
            continue
        name = getattr(block, "title", None) or (block.elem_id or "").replace("-", " ")
        if name:
            block.label = name
            if isinstance(block, gr.LinePlot):
                block.show_label = False


def serving_threads(cores: int | None = None) -> int:
    """Torch threads for a server: all cores but one, so the web server and the live views always
    have a core to themselves and watching a run barely slows it (benchmarks/toy_speed.py)."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores - 1)


def prepare_runtime() -> None:
    import torch

    from ..process_memory import limit_malloc_arenas

    limit_malloc_arenas()  # before the server's threads exist (see process_memory.py)
    torch.set_num_threads(serving_threads())


def start_housekeeping(demo: gr.Blocks) -> SessionSweeper:
    """Forget closed and long-unused sessions while the app serves (see ui/sessions.py)."""
    return SessionSweeper(demo, closed_grace_s=float(os.environ.get(SESSION_GRACE_ENV, CLOSED_GRACE_S))).start()


def mcp_enabled() -> bool:
    """GAN_DEMO_MCP=1 serves the app's endpoints as MCP tools too (at /gradio_api/mcp), described by
    their handlers' docstrings; off by default, as it needs the ``mcp`` package."""
    return os.environ.get("GAN_DEMO_MCP", "").strip().lower() in ("1", "true", "yes", "on")


def launch_kwargs() -> dict:
    """Launch settings; a Space sets GRADIO_SERVER_NAME/PORT, which Gradio reads itself."""
    return {"max_file_size": MAX_UPLOAD, "show_error": True, "css": CSS, "js": KEYBOARD_PICKS_JS,
            "server_name": os.environ.get("GRADIO_SERVER_NAME"),
            "footer_links": ["api", "gradio", "settings"], "mcp_server": mcp_enabled()}
