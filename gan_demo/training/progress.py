"""What a CLI training loop reports each step: a progress bar with the losses, a NaN check, and the
mean of the last steps for the model card. Shared by the CycleGAN and pix2pix trainers."""

from __future__ import annotations

from collections import deque

import numpy as np

from ..errors import UserError


class StepLog:
    def __init__(self, total: int, done: int, progress: bool, window: int = 200):
        self.recent: deque[dict[str, float]] = deque(maxlen=window)
        self.bar = None
        if progress:
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=done, unit="step", dynamic_ncols=True)

    def record(self, step: int, epoch: int, metrics: dict[str, float]) -> None:
        """Keep one step's losses; a NaN stops the run with advice instead of training on garbage."""
        if not np.isfinite(sum(metrics.values())):
            raise UserError(f"Training diverged at step {step} (a loss is NaN); resume from the "
                            "last checkpoint with a lower --lr.")
        self.recent.append(metrics)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(epoch=epoch + 1, **{k: f"{v:.3f}" for k, v in metrics.items()}, refresh=False)

    def means(self) -> dict[str, float]:
        """Each loss averaged over the last ``window`` steps (what the card reports)."""
        if not self.recent:
            return {}
        return {k: round(float(np.mean([m[k] for m in self.recent])), 4) for k in self.recent[0]}

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
