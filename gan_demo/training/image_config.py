"""One image GAN run's settings, for ``python -m gan_demo train`` and the Images tab alike.

``ImageConfig`` declares every setting once (``settings.setting``): the CLI's flags, the Images tab's
widgets, the checks (a web visitor within the ``web`` limits, since the server's CPU is shared) and
the settings a running trainer takes are all read from it. Its defaults are the tab's, sized for a
2-core CPU (recognisable garments within three minutes, benchmarks/live_images.py); ``recipe(model)``
is what the command line trains the zoo's models with, as the toy trainer's ``recipe`` is for toy data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .. import settings
from ..errors import UserError
from ..losses import LOSS_TITLES
from ..models import FAMILIES
from ..settings import setting

# The help of the settings every trainer has (training/cyclegan.py and pix2pix.py say the same).
MAX_MINUTES_HELP = "stop after this much training time in this run and write the model (--resume goes on)"
DECAY_HELP = "epoch where the learning rate starts its linear decay to 0 at --epochs"
AMP_HELP = ("bf16 autocast: auto = where the device computes bf16 in hardware (CUDA, a CPU with AVX-512 BF16 "
            "or AMX), off = float32 throughout")

# The model menu: the family each entry builds, and what makes it that model. Batch norm couples a
# batch's samples, which breaks the per-sample gradient penalty (Gulrajani et al. 2017, section 4):
# a WGAN-GP critic uses layer norm instead.
MODELS: dict[str, dict[str, Any]] = {
    "dcgan": dict(family="dcgan"),
    "cgan": dict(family="cgan"),
    "wgan-gp": dict(family="dcgan", d_norm="layer", loss="wgan-gp"),
    "vaegan": dict(family="vaegan"),
    "stylegan": dict(family="stylegan"),
}
MODEL_TITLES = {"dcgan": "DCGAN", "cgan": "Conditional DCGAN", "wgan-gp": "WGAN-GP critic (DCGAN G)",
                "vaegan": "VAE-GAN", "stylegan": "StyleGAN"}
# The live trainer runs the D and G steps alone; VAE-GAN's encoder step and StyleGAN's R1 schedule
# are the command line's.
LIVE_MODELS = ("dcgan", "cgan", "wgan-gp")


def model_loss(model: str) -> str:
    """The loss a model is usually trained with (picking a model in the tab selects it)."""
    spec = MODELS.get(model)
    if spec is None:
        raise UserError(f"Unknown model {str(model)[:40]!r}; choose one of: {', '.join(MODELS)}.")
    return spec.get("loss") or FAMILIES[spec["family"]].train_defaults.get("loss", "ns")


@dataclass
class ImageConfig:
    """An image GAN run. The fields with ``widget=True`` are the Images tab's controls, in the order its
    endpoints take them positionally: append a new one at the end of that group."""

    dataset: str = setting("fashion", "Data", choices=(("Fashion-MNIST", "fashion"), ("MNIST digits", "mnist")),
                           widget=True, cli="")  # the command's --dataset, shared by every trainer
    # The command line names it first, as FAMILY (dcgan, cgan, vaegan, stylegan).
    model: str = setting("dcgan", "Model", choices=tuple((t, k) for k, t in MODEL_TITLES.items()), widget=True,
                         cli="", web_choices=LIVE_MODELS)
    loss: str = setting("ns", "Loss", choices=tuple((t, k) for k, t in LOSS_TITLES.items()), live=True, widget=True,
                        help="the GAN loss (image GANs: hinge for cgan)")
    train_weaker: bool = setting(False, "Train only the weaker network", live=True, widget=True, cli="")
    d_steps: int = setting(1, "D steps per G step", lo=1, hi=100, web=(1, 10), live=True, widget=True,
                           help="D (critic) steps per G step (WGAN-GP paper: 5)")
    # Twice Radford et al.'s 2e-4: on a 3-minute CPU run it reached a Frechet distance of 325 vs 360
    # (2,500 steps of batch 32, width 16), and batch 64 only 432 in the same time (fewer steps).
    lr_d: float = setting(4e-4, "D learning rate", lo=1e-8, hi=1.0, web=(1e-6, 0.1), live=True, widget=True,
                          help="D's Adam learning rate")
    lr_g: float = setting(4e-4, "G learning rate", lo=1e-8, hi=1.0, web=(1e-6, 0.1), live=True, widget=True,
                          help="G's Adam learning rate")
    batch_size: int = setting(32, "Batch size", lo=2, hi=4096, web=(4, 256), live=True, widget=True,
                              slider=(8, 128, 8))
    width: int = setting(16, "Width (channels; slower when wider)", lo=1, hi=1024, web=(4, 64), widget=True,
                         slider=(8, 64, 8), help="channels of G's first layer")
    latent_dim: int = setting(64, "Noise size", lo=1, hi=4096, web=(2, 256), widget=True, slider=(8, 128, 8))
    seed: int = setting(0, "Seed", lo=0, hi=2**32 - 1, widget=True)
    # 0: never (the command line's default); the tab measures often, for its chart.
    eval_every: int = setting(200, "Frechet distance every K steps", lo=0, hi=10**9, web=(20, 100_000), live=True,
                              widget=True, slider=(50, 2000, 50), cli="--frechet-every",
                              help="every this many steps, measure the Frechet distance for the chart (the "
                                   "card's curve over training; 0 = off)")
    # A GAN's weights keep circling the equilibrium; their average sits nearer it (Yazici et al. 2019).
    g_average: float = setting(0.0, "G weight average", lo=0.0, hi=0.9999, live=True, widget=True,
                               help="0 to 0.9999: an exponential moving average of G's weights with this decay per "
                                    "step (0.999 averages about 1,000 steps); what is drawn, measured and saved "
                                    "comes from the average, which sits nearer the equilibrium than G; 0 = off")
    fid_samples: int = setting(500, "Samples per Frechet distance", lo=50, hi=100_000, web=(50, 5000), live=True,
                               cli="")
    # -- what the command line's schedule adds ------------------------------------------------------
    epochs: int = setting(5, "Epochs", lo=1, hi=100_000)
    beta1: float = setting(0.5, "Adam beta1", lo=0.0, hi=0.9999, help="Adam beta1 (WGAN-GP paper: 0)")
    beta2: float = setting(0.999, "Adam beta2", lo=0.0, hi=0.9999, help="Adam beta2 (WGAN-GP paper: 0.9)")
    d_norm: str | None = setting(None, "D's normalisation", choices=("batch", "layer", "none"), kind=str,
                                 optional=True, help="D's normalisation (default: layer for a WGAN-GP critic, "
                                                     "batch otherwise)")
    mode_seeking: float | None = setting(None, "Mode seeking", lo=0.0, hi=100.0, kind=float, optional=True,
                                         help="MSGAN lambda: reward different images for different z "
                                              "(default: 1 for cgan, else 0)")
    r1: float | None = setting(None, "R1 gamma", lo=0.0, hi=100.0, kind=float, optional=True,
                               help="R1 penalty gamma (default: 0.1 for stylegan, else 0)")
    kl_weight: float = setting(1.0, "KL weight", lo=0.0, hi=1000.0,
                               help="vaegan: weight of KL(q(z|x) || N(0, I)) per pixel (training/steps.py vaegan_step)")
    feature_weight: float = setting(1.0, "Feature weight", lo=0.0, hi=1000.0,
                                    help="vaegan: weight of the reconstruction's distance in D's features")
    # exponential moving average of G's weights (0: off); the shipped G is the average
    max_steps: int | None = setting(None, "Max steps", lo=1, hi=10**9, kind=int, optional=True,
                                    help="stop after this many steps")
    max_minutes: float | None = setting(None, "Max minutes", lo=1e-6, hi=1e7, kind=float, optional=True,
                                        help=MAX_MINUTES_HELP)
    # epoch where every learning rate starts falling linearly to 0 (None: constant)
    decay_from: float | None = setting(None, "Decay from epoch", lo=0.0, hi=100_000.0, kind=float, optional=True,
                                       help=DECAY_HELP)
    live_preview: str | None = setting(None, "Live preview folder", kind=str, optional=True,
                                       help="write the fixed-z sample grid (64 noise vectors) to DIR every "
                                            "--preview-every steps")
    preview_every: int = setting(100, "Preview every K steps", lo=1, hi=10**9, help="steps between live-preview grids")
    amp: str = setting("auto", "Mixed precision", choices=("auto", "on", "off"), help=AMP_HELP)
    data_root: str | None = None  # the server's setting, not the user's (see data.data_root)
    device: str = "auto"
    checkpoint_every: int = 500  # steps

    @property
    def family(self) -> str:
        return MODELS[self.model]["family"]


def resolved(cfg: ImageConfig) -> ImageConfig:
    """``cfg`` with its "the model's default" settings (None) filled in: D's normalisation, mode
    seeking and R1 as the model and its family train them."""
    spec, family = MODELS[cfg.model], FAMILIES[MODELS[cfg.model]["family"]]
    d_norm = cfg.d_norm or spec.get("d_norm") or ("layer" if cfg.loss == "wgan-gp" else "batch")
    extra = family.train_defaults
    return replace(cfg, d_norm=d_norm,
                   mode_seeking=extra.get("mode_seeking", 0.0) if cfg.mode_seeking is None else cfg.mode_seeking,
                   r1=extra.get("r1", 0.0) if cfg.r1 is None else cfg.r1)


def recipe(model: str = "dcgan", **changes: Any) -> ImageConfig:
    """What ``python -m gan_demo train MODEL`` trains when a flag is left out: Radford et al.'s Adam
    settings at batch 64 and width 32, no Frechet probes, and the family's own settings
    (models/__init__.py ``train_defaults``: hinge and mode seeking for cgan, StyleGAN's betas and R1)."""
    family = FAMILIES[MODELS[model]["family"]]
    own = dict(family.train_defaults)
    lr = own.pop("lr", 2e-4)
    base = ImageConfig(model=model, batch_size=64, width=32, lr_d=lr, lr_g=lr, eval_every=0, fid_samples=2000,
                       **own)
    return replace(base, **changes)


# What the command line's schedule runs and the live trainer does not (it steps until paused).
CLI_ONLY = ("epochs", "max_steps", "max_minutes", "decay_from", "live_preview", "preview_every")


def check_image_config(cfg: ImageConfig) -> ImageConfig:
    """A web visitor's (or the live trainer's) config, within the web limits; ``UserError`` otherwise."""
    cfg = settings.check(cfg, web=True)
    default = ImageConfig()
    for name in CLI_ONLY:
        if getattr(cfg, name) != getattr(default, name):
            raise UserError(f"{settings.spec(ImageConfig, name).named()} is a setting of the command line's "
                            "schedule (python -m gan_demo train); a live run steps until it is paused.")
    if cfg.model not in LIVE_MODELS:  # settings.check said so already; kept for callers that skip it
        raise UserError(f"{MODEL_TITLES[cfg.model]} trains from the command line "
                        f"(python -m gan_demo train {cfg.model}); live: {', '.join(LIVE_MODELS)}.")
    return cfg


def check_train_config(cfg: ImageConfig) -> ImageConfig:
    """The command line's config: every limit, named by its flag; ``UserError`` for the first one broken."""
    cfg = settings.check(cfg, by_flag=True)
    if cfg.decay_from is not None and cfg.decay_from > cfg.epochs:
        raise UserError(f"--decay-from must be between 0 and --epochs, got {cfg.decay_from}.")
    return cfg
