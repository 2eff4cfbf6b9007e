"""A GAN on a 1D/2D toy distribution: nets, optimisers, the fast step, evaluation and views' data.

``ToyGAN`` is synchronous and knows nothing of threads or Gradio: the CLI's ``train-toy`` calls it
in a loop, the live trainer (``live.py``) calls it from a background thread.

Why it is faster than a textbook loop (see benchmarks/toy_speed.py):
* one G forward per iteration: the fakes that D is trained on (detached) are the ones G is then
  updated through, so G's graph is built once;
* real and fake go through D in one call when no minibatch layer needs them apart;
* gradients come from ``torch.autograd.grad`` for exactly the net being updated, so D's weight
  gradients are never computed in G's step;
* fused Adam (one kernel over all tensors), real data drawn from a pre-sampled pool, and metrics
  kept as tensors until someone reads them;
* for plain MLPs (no minibatch layer, one D) and every loss but WGAN-GP, the step skips autograd
  and ``Optimizer.step`` altogether: ``fast_mlp.py`` writes the passes out by hand, which halves
  the Python and bookkeeping per step. ``hand_written=False`` in the config turns it off.
"""

from __future__ import annotations

import copy

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .. import settings
from ..data import ToyDistribution, toy_dataset
from ..errors import UserError
from ..settings import setting
from ..losses import LOSS_TITLES, PROBABILITY_LOSSES, get_loss, gradient_penalty
from ..metrics import kl_js, mode_coverage
from ..models.toy import ACTIVATIONS, DiscriminatorEnsemble, ToyConfig, ToyDiscriminator, ToyGenerator
from .fast_mlp import apply_grads, hand_mlps, output_grads
from .steps import take_live_settings, update_average

# "Train only the weaker network": when one player is clearly ahead, skip its update for that
# step. D's batch accuracy (real above, fake below the midpoint of its mean scores) measures who
# leads: above WEAKER_HI D is winning and only G steps; below WEAKER_LO G is winning and only D
# steps; in between both do. (Always picking exactly one side pins D at 50 %, where it teaches G
# nothing: we tried.)
WEAKER_LO, WEAKER_HI = 0.55, 0.85

HISTORY_COLUMNS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "wasserstein", "modes", "hq_pct",
                   "kl", "js", "updated")


TOY_DATASETS = (("Ring of 8 Gaussians", "ring8"), ("Grid of 25 Gaussians", "grid25"),
                ("1D Gaussian N(4, 0.5)", "gauss1d"), ("Spiral", "spiral"), ("Two moons", "moons"),
                ("Draw your own", "custom"))


@dataclass
class ToyTrainConfig:
    """One toy run's settings. The fields with ``widget=True`` are the Train tab's controls, in the
    order its endpoints take them positionally: append a new one at the end of that group."""

    dataset: str = setting("ring8", "Data", choices=TOY_DATASETS, widget=True, cli="")
    loss: str = setting("ns", "Loss", choices=tuple((t, k) for k, t in LOSS_TITLES.items()), live=True, widget=True)
    minibatch_disc: bool = setting(False, "Minibatch discrimination", widget=True,
                                   help="minibatch discrimination in D (Salimans et al. 2016)")
    train_weaker: bool = setting(False, "Train only the weaker network", live=True, widget=True,
                                 help="update only the network that is losing")
    d_steps: int = setting(1, "D steps per G step", lo=1, hi=20, live=True, widget=True)
    optimizer: str = setting("adam", "Optimiser", choices=("adam", "sgd"), widget=True)
    lr_d: float = setting(1e-3, "D learning rate", lo=1e-6, hi=1.0, live=True, widget=True, cli="")
    lr_g: float = setting(1e-3, "G learning rate", lo=1e-6, hi=1.0, live=True, widget=True, cli="")
    batch_size: int = setting(256, "Batch size", lo=2, hi=4096, live=True, widget=True, slider=(8, 1024, 8))
    noise_dim: int = setting(2, "Noise size", lo=1, hi=64, widget=True, slider=(1, 16, 1),
                             help="size of G's noise vector z")
    noise_dist: str = setting("gaussian", "Noise", choices=("gaussian", "uniform", "mixture"), widget=True,
                              help="Gaussian, uniform, or a grid of tight Gaussians with gaps (mixture)")
    hidden_layers: int = setting(3, "Hidden layers", lo=1, hi=8, widget=True, slider=(1, 6, 1))
    width: int = setting(128, "Width", lo=4, hi=512, widget=True, slider=(8, 256, 8))
    seed: int = setting(0, "Seed", lo=0, hi=2**32 - 1, widget=True)
    # GMAN (Durugkar et al. 2017): K discriminators; G minimises the mean of its losses against them
    # ("mean") or a softmax-weighted mean that leans on the harshest ones ("softmax", weights
    # softmax(lambda * loss_k); lambda 0 is the mean, a large lambda the maximum).
    n_discriminators: int = setting(1, "Discriminators", lo=1, hi=8, widget=True, cli="--discriminators",
                                    help="GMAN (Durugkar et al. 2017): K discriminators, G answers to all of "
                                         "them; applies on Reset")
    gman: str = setting("mean", "G answers to", live=True, widget=True,
                        choices=(("mean of their losses", "mean"), ("softmax-weighted (harshest first)", "softmax")),
                        help="how G weighs its K losses: their mean, or softmax(lambda * loss) weights")
    # A one-hot code of K categories appended to z (InfoGAN's categorical code, without its
    # information term); 0 = none. A continuous G maps connected noise to a connected set, so between
    # separate modes it must paint a bridge of samples (Khayatkhoei et al. 2018); with a code the
    # noise comes in K separate pieces and G can jump from mode to mode between them.
    noise_codes: int = setting(0, "Noise codes", lo=0, hi=64, widget=True,
                               help="one-hot categories appended to z, so G can jump between separate modes "
                                    "without a bridge of samples (0 = none)")
    # A moving average of G's weights (Yazici et al. 2019), decay per step; 0 = off. G's weights
    # keep circling the equilibrium, the average sits nearer it: samples, metrics and the views
    # come from the average, training goes on with G itself.
    g_average: float = setting(0.0, "G weight average", lo=0.0, hi=0.9999, live=True, widget=True,
                               help="0 to 0.9999: draw the view and samples from a moving average of G's weights "
                                    "with this decay per step (Yazici et al. 2019), which sits nearer the equilibrium "
                                    "than G itself; 0.999 averages about 1,000 steps; 0 = off; applies at once")
    pack: int = setting(1, "Pack (PacGAN)", lo=1, hi=8, widget=True,
                        help="PacGAN (Lin et al. 2018): D judges this many samples at once, so a batch of "
                             "near-copies gives itself away; the batch size must divide by it; starts new networks")
    minibatch_std: bool = setting(False, "Minibatch std feature", widget=True,
                                  help="D also sees how much the samples of a batch differ (their mean standard "
                                       "deviation), so a collapsed batch of near-copies is easy to spot (Karras et al. "
                                       "2018); cheaper than minibatch discrimination; starts new networks")
    activation: str = setting("relu", "Activation", choices=tuple(ACTIVATIONS))
    # WGAN-GP's penalty weight. The image critics use the paper's 10; on these toy nets 1 covered the
    # ring best (7-8 of 8 modes over five seeds of the WGAN-GP lesson, against 5-6.5 with 0.1).
    gp_weight: float = setting(1.0, "Gradient penalty weight", lo=0.0, hi=100.0, live=True, widget=True,
                               help="WGAN-GP's lambda (Gulrajani et al. 2017): how hard the critic's gradient "
                                    "is held near 1; used with the WGAN-GP loss; applies at once")
    clip: float = setting(0.01, "WGAN weight clip", lo=1e-4, hi=1.0, live=True)
    gman_lambda: float = setting(1.0, "GMAN softmax lambda", lo=0.0, hi=50.0, live=True,
                                 help="lambda of --gman softmax (0 = mean)")
    eval_every: int = setting(250, "Evaluate every K steps", lo=10, hi=100_000, live=True)
    # Learning-rate schedule for runs of known length (the CLI): constant for the first half, then
    # linearly down to 0, which lets the fake points settle into the modes instead of orbiting them.
    # 0 = constant (live training, whose length nobody knows in advance).
    total_steps: int = setting(0, "Steps of the schedule", lo=0, hi=10_000_000, live=True, cli="")
    eval_samples: int = setting(2500, "Samples per evaluation", lo=100, hi=20_000, live=True)
    # The hand-written step of fast_mlp.py where it applies (same maths as autograd's, faster).
    hand_written: bool = setting(True, "Hand-written step", help="the hand-written MLP step where it applies")
    points: list | None = field(default=None, repr=False)  # the drawing, for dataset "custom"

    def net_config(self, dim: int, data_scale: float = 1.0) -> ToyConfig:
        return ToyConfig(data_dim=dim, noise_dim=self.noise_dim + self.noise_codes, hidden_layers=self.hidden_layers,
                         width=self.width, activation=self.activation,
                         minibatch_disc=self.minibatch_disc, data_scale=data_scale, pack=self.pack,
                         minibatch_std=self.minibatch_std)


# What `python -m gan_demo train-toy` uses unless told otherwise; benchmarks/toy_quality.py measures
# it. Hinge loss and a large batch held the most modes in our sweeps, and the learning-rate decay
# over the second half (total_steps) lifts the high-quality share. On the grid, the minibatch-std
# feature took coverage from 19 to 25 modes (on the ring it cost high-quality share, so it is off
# there), and twice the steps at half the batch took the high-quality share from 87-92 % to 97 %
# for the same time. Samples come from a moving average of G's weights with decay 0.999 (a horizon
# of about 1,000 steps): the learning rate falls over the second half, so a long average costs no
# lag where it matters, and on seeds 0-3 it lifted each run by 0.2-0.4 points over 0.995 (the same
# G, averaged longer). What is left are bridges of samples between neighbouring modes: their share
# beyond 5 sigma falls all run long (about 25 % at step 5,000, 8-10 % at 11,000, 3 % at 20,000 and
# 1.6-3.8 % at the end), because a continuous G must step from mode to mode over the noise plane
# and sharpens those steps only as fast as the learning rate lets it. About one run in ten (2 of 22
# with decay 0.995) ends with 10 % there and scores 87-88 % high quality; which run goes bad does not
# follow the seed (the same seed ran at 87.7 % in one process and 96.4 % in another). These did no
# better (figures for seeds 0-1, where decay 0.995 gave 96.2 and 96.6 %): mixture noise (92.2-92.3 %;
# seeds 2-3: 14 modes at 49.9 %, 24 at 88.9 %), noise scaled by 4 (94.1-94.4 %), a tanh G
# (88.7-94.8 %), pack 2 (one run at 20 modes), twice the learning rate (95.8-96.3 %), batch 128 for
# 30,000 steps (95.3-95.7 %), the decay starting at a quarter or three quarters of the run (95.2-95.6,
# 96.3-96.4 %), and earlier a one-hot noise code of 25 (87.3-97.6 % over 10 runs) or 50, noise of 8
# dimensions, top-k G updates, D at twice G's learning rate and a wider G.
RECOMMENDED = dict(loss="hinge", batch_size=512, lr_d=1e-3, lr_g=1e-3, noise_dist="gaussian", g_average=0.0)
RECOMMENDED_BY_DATASET = {"grid25": dict(minibatch_std=True, batch_size=256, g_average=0.999)}
RECOMMENDED_STEPS = 12_000
RECOMMENDED_STEPS_BY_DATASET = {"grid25": 24_000}


def recommended(dataset: str) -> dict[str, Any]:
    return {**RECOMMENDED, **RECOMMENDED_BY_DATASET.get(dataset, {})}


def recommended_steps(dataset: str) -> int:
    return RECOMMENDED_STEPS_BY_DATASET.get(dataset, RECOMMENDED_STEPS)


def recipe(dataset: str, total_steps: int | None = None) -> ToyTrainConfig:
    """The named recipe for ``dataset`` (what ``train-toy`` runs) as a config: the live tab's
    defaults changed where the recipe says, over ``total_steps`` (default: its recommended length)."""
    steps = recommended_steps(dataset) if total_steps is None else total_steps
    return check_config(replace(ToyTrainConfig(dataset=dataset), **recommended(dataset), total_steps=steps))

# noise_dist "mixture": cluster centres on a MIXTURE_SIDE x MIXTURE_SIDE grid over the first two
# noise dimensions, each a Gaussian of MIXTURE_SIGMA (the gaps are 8 sigma wide).
MIXTURE_SIDE, MIXTURE_SPACING, MIXTURE_SIGMA = 10, 0.4, 0.05


def check_config(cfg: ToyTrainConfig) -> ToyTrainConfig:
    """Validate every field a person can set; returns the config or raises ``UserError``."""
    cfg = settings.check(cfg)
    if cfg.batch_size % cfg.pack:
        raise UserError(f"Batch size (batch_size) {cfg.batch_size} must be a multiple of Pack (pack) {cfg.pack}: "
                        "D judges the batch in packs of that many samples.")
    return cfg


class ToyGAN:
    """One toy GAN run (a ``live_run.LiveRun``). ``step()`` trains; ``evaluate()``, ``views()`` read
    without training."""

    POOL = 1 << 16  # real samples drawn at once; refilled when used up
    publishes_d = True  # the view draws D's landscape
    saves_to_zoo = False
    check = staticmethod(check_config)

    def __init__(self, cfg: ToyTrainConfig, device: str | torch.device = "cpu", view_only: bool = False):
        # A view-only copy is the same small nets: nothing to leave out.
        self.cfg = check_config(cfg)
        self.device = torch.device(device)
        self.data: ToyDistribution = toy_dataset(cfg.dataset, cfg.points)
        torch.manual_seed(self.cfg.seed)
        net_cfg = self.cfg.net_config(self.data.dim, self.data.scale)
        self.G = ToyGenerator(net_cfg).to(self.device)
        K = self.cfg.n_discriminators
        self.D = (ToyDiscriminator(net_cfg) if K == 1 else
                  DiscriminatorEnsemble([ToyDiscriminator(net_cfg) for _ in range(K)])).to(self.device)
        self.d_members = list(self.D.members) if K > 1 else [self.D]
        self.g_params = list(self.G.parameters())
        self.d_params = list(self.D.parameters())
        self.G_avg: ToyGenerator | None = copy.deepcopy(self.G) if self.cfg.g_average else None
        self._hand = hand_mlps(self.G, self.D)
        self.opt_g = self._optimizer(self.g_params, self.cfg.lr_g)
        self.opt_d = self._optimizer(self.d_params, self.cfg.lr_d)
        self.gen = torch.Generator(device=self.device).manual_seed(self.cfg.seed)
        self.data_gen = torch.Generator().manual_seed(self.cfg.seed + 1)
        self.eval_gen_seed = self.cfg.seed + 2
        self._pool = torch.empty(0)
        self._pool_pos = 0
        self.step_count = 0
        self._d_ahead = False  # "train only the weaker network" found D ahead at the last step
        # per-step metrics stay tensors in a growing buffer: no Python float per step
        self._buf = torch.empty(4096, 6)
        self.evals: list[dict[str, float]] = []
        self.diverged_at: int | None = None
        self._view_real: np.ndarray | None = None

    # -- construction helpers ------------------------------------------------------------------
    def _optimizer(self, params, lr):
        if self.cfg.optimizer == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=0.0)
        # beta1 = 0.5 as in DCGAN; fused Adam updates every tensor in one kernel
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), fused=True)

    def set_hyperparameters(self, **changes: Any) -> None:
        """Apply at the next step what can change mid-run (learning rates, loss, tricks, batch)."""
        take_live_settings(self, settings.live_change(self.cfg, changes, check_config))

    def noise(self, n: int, gen: torch.Generator | None = None) -> Tensor:
        gen = gen or self.gen
        shape = (n, self.cfg.noise_dim)
        if self.cfg.noise_dist == "uniform":
            z = torch.rand(shape, generator=gen, device=self.device) * 2 - 1
        else:
            z = torch.randn(shape, generator=gen, device=self.device)
        if self.cfg.noise_dist == "mixture":
            # A mixture of tight Gaussians on a grid (cf. DeLiGAN, Gurumurthy et al. 2017): the noise
            # has gaps, so G can send each cluster to one mode without painting a bridge between modes,
            # which a continuous G of connected noise cannot avoid.
            k = torch.randint(0, MIXTURE_SIDE**2, (n,), generator=gen, device=self.device)
            centres = torch.stack([k // MIXTURE_SIDE, k % MIXTURE_SIDE], 1).float()
            centres = (centres - (MIXTURE_SIDE - 1) / 2) * MIXTURE_SPACING
            z = z * MIXTURE_SIGMA
            z[:, :2] += centres[:, :shape[1]]
        if not self.cfg.noise_codes:
            return z
        return self._with_code(z, torch.randint(0, self.cfg.noise_codes, (n,), generator=gen, device=self.device))

    def _with_code(self, z: Tensor, code: Tensor) -> Tensor:
        """z with the one-hot code appended."""
        return torch.cat([z, torch.nn.functional.one_hot(code, self.cfg.noise_codes).to(z.dtype)], 1)

    def real_batch(self, n: int) -> Tensor:
        if self._pool_pos + n > len(self._pool):
            self._pool = self.data.sample(max(self.POOL, n), self.data_gen).to(self.device)
            self._pool_pos = 0
        batch = self._pool[self._pool_pos:self._pool_pos + n]
        self._pool_pos += n
        return batch

    # -- training ------------------------------------------------------------------------------
    def _d_outputs(self, D: ToyDiscriminator, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
        if D.mbd is not None or self.cfg.minibatch_std:  # batch features: real and fake apart
            return D(real), D(fake)
        out = D(torch.cat([real, fake]))
        half = len(out) // 2  # one output per pack of samples
        return out[:half], out[half:]

    def _d_loss(self, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """D's loss (summed over GMAN's discriminators: each gets exactly its own gradient) and
        the outputs on real and fake (averaged over them)."""
        total, reals, fakes = 0.0, [], []
        for D in self.d_members:
            d_real, d_fake = self._d_outputs(D, real, fake)
            loss = get_loss(self.cfg.loss)(d_real, d_fake, "d")
            if self.cfg.loss == "wgan-gp":
                loss = loss + self.cfg.gp_weight * gradient_penalty(D, real, fake)
            total = total + loss
            reals.append(d_real)
            fakes.append(d_fake)
        if len(self.d_members) == 1:
            return total, reals[0], fakes[0]
        return total, torch.stack(reals).mean(0), torch.stack(fakes).mean(0)

    def _g_loss(self, fake: Tensor) -> Tensor:
        """G's loss: against the one D, or GMAN's (softmax-)weighted mean over the K of them."""
        loss_fn = get_loss(self.cfg.loss)
        if len(self.d_members) == 1:
            return loss_fn(None, self.D(fake), "g")
        losses = torch.stack([loss_fn(None, D(fake), "g") for D in self.d_members])
        if self.cfg.gman == "softmax":
            weights = torch.softmax(self.cfg.gman_lambda * losses.detach(), 0)
        else:
            weights = torch.full_like(losses, 1.0 / len(losses))
        return (weights * losses).sum()

    def _apply(self, loss: Tensor, params: list[Tensor], opt: torch.optim.Optimizer) -> None:
        grads = torch.autograd.grad(loss, params)
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()

    def _clip(self) -> None:
        if self.cfg.loss == "wgan":
            with torch.no_grad():
                torch._foreach_clamp_min_(self.d_params, -self.cfg.clip)
                torch._foreach_clamp_max_(self.d_params, self.cfg.clip)

    @staticmethod
    def d_accuracy(d_real: Tensor, d_fake: Tensor) -> float:
        """Share of the batch D sorts right: real above, fake below the midpoint of its mean outputs."""
        mid = 0.5 * (d_real.mean() + d_fake.mean())
        return 0.5 * ((d_real > mid).float().mean() + (d_fake < mid).float().mean()).item()

    def _schedule(self) -> None:
        total = self.cfg.total_steps
        if total and self.step_count >= total // 2:
            frac = max(0.0, 1.0 - (self.step_count - total // 2) / max(1, total - total // 2))
            self.opt_d.param_groups[0]["lr"] = self.cfg.lr_d * frac
            self.opt_g.param_groups[0]["lr"] = self.cfg.lr_g * frac

    def step(self, update: str = "both") -> None:
        """One training iteration: ``update`` is "both", "d" (D only) or "g" (G only)."""
        self._schedule()
        if self._hand is not None and self.cfg.hand_written and self.cfg.loss != "wgan-gp":
            self._hand_step(update)
        else:
            self._autograd_step(update)

    def _extra_d_steps(self, update: str) -> int:
        """D's steps before the one that is measured (d_steps - 1 of them). While "train only the
        weaker network" found D ahead at the last step, D takes none of them either: skipping only
        its last update left D two free steps in three at d_steps 3, and it never fell behind. (The
        image trainer likewise decides from the previous step.)"""
        if update == "g" or (self.cfg.train_weaker and update == "both" and self._d_ahead):
            return 0
        return self.cfg.d_steps - 1

    def _autograd_step(self, update: str) -> None:
        cfg = self.cfg
        bs = cfg.batch_size
        for _ in range(self._extra_d_steps(update)):
            with torch.no_grad():
                fake = self.G(self.noise(bs))
            self._apply(self._d_loss(self.real_batch(bs), fake)[0], self.d_params, self.opt_d)
            self._clip()
        real, fake = self.real_batch(bs), self.G(self.noise(bs))
        d_loss, d_real, d_fake = self._d_loss(real, fake.detach())
        do_d, do_g = update in ("both", "d"), update in ("both", "g")
        if cfg.train_weaker and update == "both":
            acc = self.d_accuracy(d_real.detach(), d_fake.detach())
            do_d, do_g = acc <= WEAKER_HI, acc >= WEAKER_LO
            self._d_ahead = not do_d
        if do_d:
            self._apply(d_loss, self.d_params, self.opt_d)
            self._clip()
        g_loss = self._g_loss(fake)
        if do_g:
            self._apply(g_loss, self.g_params, self.opt_g)
        self._record(d_loss, g_loss, d_real, d_fake, do_d, do_g)

    @torch.no_grad()
    def _hand_step(self, update: str) -> None:
        """``step`` without autograd (see fast_mlp.py): the same updates, in the same order."""
        cfg, bs = self.cfg, self.cfg.batch_size
        hand_g, hand_d = self._hand
        g_scale, d_scale = self.G.config.data_scale, self.D.config.data_scale
        dim, d_in = self.D.config.data_dim, self.D.config.data_dim * self.D.config.pack

        def generate():
            acts = hand_g.forward(self.noise(bs))
            return acts, acts[-1] * g_scale

        def judge(x: Tensor, groups: int = 1) -> list[Tensor]:
            return hand_d.forward((x / d_scale).reshape(-1, d_in), groups)

        def update_d(acts: list[Tensor], loss_real: Tensor, loss_fake: Tensor) -> None:
            _, grads = hand_d.backward(torch.cat([loss_real, loss_fake]).unsqueeze(1), acts, groups=2)
            apply_grads(self.opt_d, self.d_params, grads)
            self._clip()

        for _ in range(self._extra_d_steps(update)):
            acts = judge(torch.cat([self.real_batch(bs), generate()[1]]), 2)
            out = acts[-1].view(-1)
            half = len(out) // 2
            update_d(acts, *output_grads(cfg.loss, out[:half], out[half:], "d")[1:])
        real = self.real_batch(bs)
        g_acts, fake = generate()
        acts = judge(torch.cat([real, fake]), 2)  # real and fake: two batches
        out = acts[-1].view(-1)
        half = len(out) // 2
        d_real, d_fake = out[:half], out[half:]
        d_loss, grad_real, grad_fake = output_grads(cfg.loss, d_real, d_fake, "d")
        do_d, do_g = update in ("both", "d"), update in ("both", "g")
        if cfg.train_weaker and update == "both":
            acc = self.d_accuracy(d_real, d_fake)
            do_d, do_g = acc <= WEAKER_HI, acc >= WEAKER_LO
            self._d_ahead = not do_d
        if do_d:
            update_d(acts, grad_real, grad_fake)
        acts = judge(fake)  # D as it is now, as G's step sees it
        g_loss, _, grad_out = output_grads(cfg.loss, None, acts[-1].view(-1), "g")
        if do_g:
            grad_x, _ = hand_d.backward(grad_out.unsqueeze(1), acts, weights=False, input_grad=True)
            _, grads = hand_g.backward(grad_x.reshape(-1, dim) * (g_scale / d_scale), g_acts)
            apply_grads(self.opt_g, self.g_params, grads)
        self._record(d_loss, g_loss, d_real, d_fake, do_d, do_g)

    def _average(self) -> None:
        if self.G_avg is not None:
            update_average(self.G_avg, self.G, self.cfg.g_average)

    @property
    def output_G(self) -> ToyGenerator:
        """The G whose samples the run shows and measures: the weight average when it is on."""
        return self.G_avg if self.G_avg is not None else self.G

    @torch.no_grad()
    def _record(self, d_loss, g_loss, d_real, d_fake, do_d: bool, do_g: bool) -> None:
        """The end of every training step (fast, autograd or slow motion)."""
        self._average()  # before any evaluation of this step
        self.step_count += 1
        if self.step_count > len(self._buf):
            self._buf = torch.cat([self._buf, torch.empty_like(self._buf)])
        dr, df = self.d_score(d_real), self.d_score(d_fake)
        self._buf[self.step_count - 1] = torch.stack([
            d_loss.detach() / len(self.d_members), g_loss.detach(), dr.mean(), df.mean(), d_real.mean() - d_fake.mean(),
            torch.tensor(float(do_d) + 2 * float(do_g))]).float().cpu()
        if self.step_count % self.cfg.eval_every == 0:
            self.evaluate()

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    # -- reading -------------------------------------------------------------------------------
    @torch.no_grad()
    def samples(self, n: int | None = None, seed: int | None = None) -> np.ndarray:
        """``n`` samples of the current G from a fixed noise seed (the same points every frame)."""
        gen = torch.Generator(device=self.device).manual_seed(self.eval_gen_seed if seed is None else seed)
        z = self.noise(n or self.cfg.eval_samples, gen)
        return self.output_G(z).float().cpu().numpy()

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Modes covered, HQ %, KL and JS on ``eval_samples`` samples; appended to the history."""
        fake = self.samples()
        real = self.data.sample(len(fake), torch.Generator().manual_seed(self.cfg.seed + 3)).numpy()
        kl, js = kl_js(real, fake, self.data.bounds)
        row = {"step": self.step_count, "kl": kl, "js": js, "modes": float("nan"), "hq_pct": float("nan")}
        if self.data.modes is not None:
            report = mode_coverage(fake, self.data.modes, self.data.sigma)
            row.update(modes=report.modes_covered, hq_pct=report.hq_pct)
        if not np.isfinite(fake).all() and self.diverged_at is None:
            self.diverged_at = self.step_count
        self.evals = self.evals[-5000:] + [row]
        return row

    def history(self) -> dict[str, np.ndarray]:
        """Per-step columns (step, d_loss, g_loss, d_real, d_fake, wasserstein, updated) and the
        evaluation columns (modes, hq_pct, kl, js) forward-filled onto the same steps."""
        n = self.step_count
        per_step = self._buf[:n].numpy()
        steps = np.arange(1, n + 1)
        out = {"step": steps.astype(np.int64)}
        for i, name in enumerate(("d_loss", "g_loss", "d_real", "d_fake", "wasserstein", "updated")):
            out[name] = per_step[:, i].astype(np.float32)
        eval_steps = np.array([e["step"] for e in self.evals], dtype=np.int64)
        for name in ("modes", "hq_pct", "kl", "js"):
            vals = np.array([e[name] for e in self.evals], dtype=np.float32)
            idx = np.searchsorted(eval_steps, steps, side="right") - 1
            out[name] = np.where(idx >= 0, vals[np.clip(idx, 0, None)] if len(vals) else np.nan, np.nan
                                 ).astype(np.float32)
        return out

    def check_divergence(self) -> int | None:
        """The step where losses or samples first became NaN/inf, or None."""
        if self.diverged_at is None and self.step_count and not torch.isfinite(self._buf[self.step_count - 1]).all():
            self.diverged_at = self.step_count
        return self.diverged_at

    def config_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self.cfg).items() if k != "points"}

    # -- what the views draw -------------------------------------------------------------------
    def d_score(self, out: Tensor) -> Tensor:
        return torch.sigmoid(out) if self.cfg.loss in PROBABILITY_LOSSES else out

    def d_pointwise(self, x: Tensor) -> Tensor:
        """D's output for each point on its own (a packed D sees the point ``pack`` times)."""
        return self.D(x.repeat_interleave(self.cfg.pack, 0)) if self.cfg.pack > 1 else self.D(x)

    def view_real(self, n: int = 600) -> np.ndarray:
        """The real points the views draw: the same ones every frame, so only the fakes move."""
        if self._view_real is None or len(self._view_real) != n:
            self._view_real = self.data.sample(n, torch.Generator().manual_seed(7)).numpy()
        return self._view_real

    @torch.no_grad()
    def decision_grid(self, res: int = 64) -> np.ndarray:
        """D's score over the view: [res, res] for 2D (row 0 = top), [res] for 1D."""
        lo, hi = self.data.bounds
        axis = torch.linspace(lo, hi, res, device=self.device)
        if self.data.dim == 1:
            return self.d_score(self.d_pointwise(axis[:, None])).cpu().numpy()
        yy, xx = torch.meshgrid(axis.flip(0), axis, indexing="ij")
        pts = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
        return self.d_score(self.d_pointwise(pts)).view(res, res).cpu().numpy()

    @torch.no_grad()
    def manifold(self, res: int = 21) -> np.ndarray:
        """G's image of a regular grid over the first two noise dimensions (others 0): [res, res, dim]
        ([1, res, dim] for 1D noise). With a noise code, one such sheet per code: [codes, ...]."""
        span = 1.0 if self.cfg.noise_dist == "uniform" else 2.5
        codes = self.cfg.noise_codes
        if codes:
            res = max(5, res // 2)  # many small sheets: a coarser grid keeps the view readable
        axis = torch.linspace(-span, span, res, device=self.device)
        if self.cfg.noise_dim == 1:
            z, shape = axis[:, None], (1, res)
        else:
            a, b = torch.meshgrid(axis, axis, indexing="ij")
            z = torch.zeros(res * res, self.cfg.noise_dim, device=self.device)
            z[:, 0], z[:, 1] = a.reshape(-1), b.reshape(-1)
            shape = (res, res)
        if not codes:
            return self.output_G(z).view(*shape, -1).cpu().numpy()
        code = torch.arange(codes, device=self.device).repeat_interleave(len(z))
        out = self.output_G(self._with_code(z.repeat(codes, 1), code))
        return out.view(codes, *shape, -1).cpu().numpy()

    def g_gradients(self, fake: np.ndarray) -> np.ndarray:
        """Minus the gradient of G's loss with respect to each fake point: where G wants it to go."""
        x = torch.as_tensor(fake, device=self.device).requires_grad_(True)
        loss = get_loss(self.cfg.loss)(None, self.d_pointwise(x), "g") * len(x)
        (grad,) = torch.autograd.grad(loss, x)
        return (-grad).cpu().numpy()

    def render(self, phase: dict | None = None, show_manifold: bool = True, show_arrows: bool = False) -> np.ndarray:
        """Real and fake points over D's landscape, with G's manifold and gradient arrows if asked."""
        from .. import plots

        return plots.toy_view(self, phase or {}, show_manifold, show_arrows)

    def step_phases(self):
        """One training step in slow motion: yields (sentence, what to highlight) between phases."""
        cfg = self.cfg
        bs = max(cfg.pack, min(cfg.batch_size, 64) // cfg.pack * cfg.pack)
        real, z = self.real_batch(bs), self.noise(bs)
        yield (f"1/6 Sample: draw {bs} real points from the data and {bs} noise vectors z.",
               {"real": real.cpu().numpy()})
        fake = self.G(z)
        fk = fake.detach().cpu().numpy()
        yield "2/6 Generate: G maps each z to a fake point.", {"real": real.cpu().numpy(), "fake": fk}
        d_loss, d_real, d_fake = self._d_loss(real, fake.detach())
        yield (f"3/6 Judge: D scores them, mean D(x) = {self.d_score(d_real).mean():.3f} on real and "
               f"D(G(z)) = {self.d_score(d_fake).mean():.3f} on fake; D's loss is "
               f"{d_loss.item() / len(self.d_members):.3f}.",
               {"real": real.cpu().numpy(), "fake": fk})
        self._apply(d_loss, self.d_params, self.opt_d)
        self._clip()
        yield ("4/6 Update D: one gradient step moves the decision landscape (background) to tell real "
               "from fake better.", {"real": real.cpu().numpy(), "fake": fk})
        arrows = self.g_gradients(fk)
        yield ("5/6 Push: the gradient of G's loss says where each fake point should move to fool the "
               "updated D (arrows).", {"fake": fk, "arrows": arrows})
        g_loss = self._g_loss(fake)
        self._apply(g_loss, self.g_params, self.opt_g)
        self._record(d_loss, g_loss, d_real, d_fake, True, True)
        with torch.no_grad():
            moved = self.G(z).cpu().numpy()
        yield (f"6/6 Update G: one gradient step moves the fakes along the arrows (G's loss was "
               f"{g_loss.item():.3f}). Step {self.step_count} done.", {"fake": moved, "arrows": arrows})
