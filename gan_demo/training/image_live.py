"""A GAN on Fashion-MNIST or MNIST digits that the live trainer can run: the image twin of ``ToyGAN``.

``ImageGAN`` speaks the same small protocol as ``toy.ToyGAN`` (``step``, ``evaluate``, ``history``,
``check_divergence``, ``set_hyperparameters``, ``G``/``D``), so ``live.LiveTrainer`` runs either in
its background thread and the Train tab watches either the same way. The steps themselves are the
CLI trainer's (``steps.py``), so a loss behaves here exactly as in ``python -m gan_demo train``.
No Gradio, no threads.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from .. import settings, zoo
from ..metrics.classifier import load_classifier
from ..data import IMAGE_DATASETS, load_images
from ..errors import UserError
from ..metrics import frechet_distance
from ..models import FAMILIES, config_from_dict
from .image_config import MODEL_TITLES, ImageConfig, check_image_config, resolved
from .preview import FixedGrid
from .steps import (StepConfig, discriminator_step, generator_step, shared_fake, take_live_settings,
                    update_average, use_amp)
from .toy import WEAKER_HI, WEAKER_LO

HISTORY_COLUMNS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "wasserstein", "updated", "frechet",
                   "images_per_s")


# Frechet measurements before the first ``eval_every``: the chart has its first points within
# seconds of Start instead of after 200 steps (20-60 s on a busy CPU), when the drop is steepest.
EARLY_EVALUATIONS = (10, 40, 100)


class ImageGAN:
    """One image GAN run; ``view_only`` builds just G (the live views' private copy)."""

    publishes_d = False  # the views only draw G's images, so D's weights are never copied out
    saves_to_zoo = True
    check = staticmethod(check_image_config)

    def __init__(self, cfg: ImageConfig, device: str | torch.device = "cpu", view_only: bool = False):
        self.cfg = check_image_config(cfg)
        self.device = torch.device(device)
        family = FAMILIES[self.cfg.family]
        self.conditional = family.conditional
        self.classes = list(IMAGE_DATASETS[self.cfg.dataset])
        self.model_cfg = config_from_dict(family, {"latent_dim": self.cfg.latent_dim, "width": self.cfg.width,
                                                   "num_classes": len(self.classes),
                                                   "d_norm": resolved(self.cfg).d_norm})
        torch.manual_seed(self.cfg.seed)
        # channels_last and bf16 (``use_amp``) as the command line's trainer (image.py)
        self.G = family.generator(self.model_cfg).to(self.device, memory_format=torch.channels_last)
        self.D = None if view_only else family.discriminator(self.model_cfg).to(self.device,
                                                                                  memory_format=torch.channels_last)
        # The moving average of G's weights, when asked for: the grid, the Frechet distance and a
        # saved model come from it; training goes on with G itself.
        self.G_avg = copy.deepcopy(self.G) if self.cfg.g_average else None
        self.grid = FixedGrid(self.cfg.latent_dim, len(self.classes) if self.conditional else None,
                              self.device, seed=self.cfg.seed)
        self.step_count = 0
        self.diverged_at: int | None = None
        if view_only:
            return
        data = load_images(self.cfg.dataset, self.cfg.data_root, train=True)
        # uint8 until a batch is drawn: 47 MB for Fashion-MNIST instead of 188 MB as float, per run
        self.images = torch.from_numpy(np.array(data.images)).to(self.device)
        self.labels = torch.from_numpy(data.labels.astype(np.int64)).to(self.device)
        self.data_source = data.source
        betas = (self.cfg.beta1, self.cfg.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), self.cfg.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), self.cfg.lr_d, betas=betas)
        self.gen = torch.Generator(device=self.device).manual_seed(self.cfg.seed)
        self._order = torch.empty(0, dtype=torch.long)
        self._pos = 0
        self._epoch = 0
        self._rows: list[list[float]] = []
        self._last: dict[str, float] = {"d_loss": np.nan, "g_loss": np.nan, "d_real": np.nan,
                                        "d_fake": np.nan, "wasserstein": np.nan, "d_acc": 0.7}
        self.evals: list[dict[str, float]] = []
        self.train_time_s = 0.0
        self._judge = None  # (classifier, real features), loaded at the first evaluation

    def step_config(self) -> StepConfig:
        # Conditional generators ignore z without mode seeking (see steps.py): the cgan model's default is 1.
        full = resolved(self.cfg)
        return StepConfig(loss=full.loss, amp=use_amp(self.cfg.amp, self.device), mode_seeking=full.mode_seeking, r1=full.r1)

    def set_hyperparameters(self, **changes: Any) -> None:
        take_live_settings(self, settings.live_change(self.cfg, changes, check_image_config))

    @property
    def output_G(self) -> torch.nn.Module:
        """The G whose images the run shows, measures and saves: the weight average when it is on."""
        return self.G_avg if self.G_avg is not None else self.G

    # -- training ------------------------------------------------------------------------------
    def _batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        n = self.cfg.batch_size
        if self._pos + n > len(self._order):
            # Each epoch's order depends on (seed, epoch) alone, like the CLI trainer's.
            self._order = torch.randperm(len(self.images),
                                         generator=torch.Generator().manual_seed(self.cfg.seed * 100_003 + self._epoch))
            self._pos, self._epoch = 0, self._epoch + 1
        idx = self._order[self._pos:self._pos + n].to(self.device)
        self._pos += n
        real = self.images[idx].unsqueeze(1).float().div_(127.5).sub_(1.0)  # [-1, 1], G's tanh range
        return real, (self.labels[idx] if self.conditional else None)

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.latent_dim, generator=self.gen, device=self.device)

    def _fake_classes(self, n: int) -> torch.Tensor | None:
        if not self.conditional:
            return None
        return torch.randint(len(self.classes), (n,), generator=self.gen, device=self.device)

    def step(self, update: str = "both") -> None:
        """One iteration: ``update`` "both", "d" (D only) or "g" (G only).

        "Train only the weaker network" decides from the previous step's D accuracy (the CLI's
        step functions update as they measure), with the toy trainer's thresholds.
        """
        t0 = time.perf_counter()
        cfg, step_cfg = self.cfg, self.step_config()
        do_d, do_g = update in ("both", "d"), update in ("both", "g")
        if cfg.train_weaker and update == "both":
            acc = self._last["d_acc"]
            do_d, do_g = acc <= WEAKER_HI, acc >= WEAKER_LO
        metrics = dict(self._last)
        z, fake, fake_y = None, None, None
        if do_d:
            for i in range(cfg.d_steps):
                real, labels = self._batch()
                z, fake_y = self._noise(len(real)), self._fake_classes(len(real))
                if do_g and i == cfg.d_steps - 1:  # D's last step and G's share one G(z) (steps.shared_fake)
                    fake, fake_y = shared_fake(self.G, z, step_cfg, fake_y)
                metrics.update(discriminator_step(self.G, self.D, self.opt_d, real, z, step_cfg, labels, fake_y,
                                                  fake=fake))
        if do_g:
            if fake is None:
                z, fake_y = self._noise(cfg.batch_size), self._fake_classes(cfg.batch_size)
            metrics.update(generator_step(self.G, self.D, self.opt_g, z, step_cfg, fake_y, fake=fake))
            if self.G_avg is not None:
                update_average(self.G_avg, self.G, cfg.g_average)
        self._last = metrics
        self.train_time_s += time.perf_counter() - t0
        self.step_count += 1
        self._rows.append([self.step_count, metrics["d_loss"], metrics["g_loss"], metrics["d_real"],
                           metrics["d_fake"], metrics["wasserstein"], float(do_d) + 2 * float(do_g)])
        if len(self._rows) > 200_000:  # hours of training: keep every other early row
            self._rows = self._rows[:100_000:2] + self._rows[100_000:]
        if not np.isfinite(metrics["d_loss"] + metrics["g_loss"]) and self.diverged_at is None:
            self.diverged_at = self.step_count
        if cfg.eval_every and (self.step_count % cfg.eval_every == 0 or self.step_count in EARLY_EVALUATIONS):
            self.evaluate()

    # -- reading -------------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Frechet distance of the project's classifier features: ``fid_samples`` fakes against as
        many real test images. Small samples bias it upward, so compare runs, not with the cards."""
        from ..metrics.classifier import predict

        if self._judge is None:
            clf, _ = load_classifier(self.cfg.dataset)
            x_test, _ = load_images(self.cfg.dataset, self.cfg.data_root, train=False).tensors()
            pick = torch.randperm(len(x_test), generator=torch.Generator().manual_seed(0))[:self.cfg.fid_samples]
            self._judge = (clf, predict(clf, x_test[pick])[1])
        clf, real_feats = self._judge
        gen = torch.Generator(device=self.device).manual_seed(self.cfg.seed + 2)
        n = len(real_feats)
        z = torch.randn(n, self.cfg.latent_dim, generator=gen, device=self.device)
        labels = (torch.arange(n, device=self.device) % len(self.classes)) if self.conditional else None
        G = self.output_G
        was = G.training
        G.eval()
        try:
            fake = G(z, labels).float().cpu()
        finally:
            G.train(was)
        if not torch.isfinite(fake).all():
            if self.diverged_at is None:
                self.diverged_at = self.step_count
            fid = float("nan")
        else:
            fid = frechet_distance(predict(clf, fake)[1], real_feats)
        row = {"step": self.step_count, "frechet": fid}
        self.evals = self.evals[-5000:] + [row]
        return row

    def history(self) -> dict[str, np.ndarray]:
        rows = np.asarray(self._rows, dtype=np.float64).reshape(-1, 7)
        out = {"step": rows[:, 0].astype(np.int64)}
        for i, name in enumerate(("d_loss", "g_loss", "d_real", "d_fake", "wasserstein", "updated"), 1):
            out[name] = rows[:, i].astype(np.float32)
        eval_steps = np.array([e["step"] for e in self.evals], dtype=np.int64)
        vals = np.array([e["frechet"] for e in self.evals], dtype=np.float32)
        idx = np.searchsorted(eval_steps, out["step"], side="right") - 1
        out["frechet"] = (np.where(idx >= 0, vals[np.clip(idx, 0, None)], np.nan).astype(np.float32)
                          if len(vals) else np.full(len(rows), np.nan, np.float32))
        return out

    def check_divergence(self) -> int | None:
        return self.diverged_at

    def images_per_s(self) -> float:
        """Real images through D per second of training (the views' time not counted)."""
        per_step = self.cfg.batch_size * (self.cfg.d_steps + 1)
        return self.step_count * per_step / self.train_time_s if self.train_time_s else 0.0

    def fixed_grid(self) -> np.ndarray:
        """The same 64 noise vectors every time, as one uint8 grid (conditional: a class per column)."""
        return self.grid.render(self.output_G)

    def step_phases(self):
        raise UserError("Slow motion walks through the 2D toy data; image runs step with Step instead.")

    def render(self, phase=None, show_manifold: bool = True, show_arrows: bool = False) -> np.ndarray:
        """The fixed-z grid, doubled in size for the screen."""
        from .. import plots

        return plots.enlarge(self.fixed_grid(), 2)

    def config_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self.cfg).items() if k != "data_root"}

    def save_to_zoo(self, stem, name: str, steps: int, wall_time_s: float, frechet: float | None) -> dict[str, Any]:
        """Write G as a zoo entry (``STEM.safetensors`` + card) that Explore can load as ``name``.

        Works on the views' copy (``view_only``), so saving never pauses training; the caller
        passes what the run published (its step, time and last Frechet distance).
        """
        from ..data import data_root

        family = FAMILIES[self.cfg.family]
        card = {
            "family": self.cfg.family,
            "config": asdict(self.model_cfg),
            "dataset": self.cfg.dataset,
            "classes": self.classes,
            "conditional": self.conditional,
            "description": f"{MODEL_TITLES[self.cfg.model]} trained live in GAN Playground's Train tab "
                           f"for {steps:,} steps on {self.cfg.dataset}.",
            "training": {**self.config_dict(), "steps": int(steps), "wall_time_s": round(float(wall_time_s), 1),
                         "device": str(self.device), "data_source": str(data_root(self.cfg.data_root)),
                         "torch": torch.__version__, "architecture": family.title},
            "metrics": ({"frechet_live": round(float(frechet), 3), "frechet_live_samples": self.cfg.fid_samples}
                        if frechet is not None and np.isfinite(frechet) else {}),
        }
        G = self.output_G
        was = G.training
        zoo.save(G.eval(), card, stem)
        G.train(was)
        return {"name": name, **card}
