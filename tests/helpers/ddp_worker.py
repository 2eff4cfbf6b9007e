"""Run by tests/test_distributed.py under torchrun: train a few steps, dump this rank's weights."""

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gan_demo.training.image import train_image_gan
from gan_demo.training.image_config import recipe  # noqa: E402


def main(out_dir: str, family: str) -> None:
    torch.set_num_threads(1)
    rank = int(__import__("os").environ["RANK"])

    def dump(G, D):
        state = {f"G.{k}": v.detach().cpu().contiguous() for k, v in G.named_parameters()}
        state.update({f"D.{k}": v.detach().cpu().contiguous() for k, v in D.named_parameters()})
        save_file(state, f"{out_dir}/rank{rank}.safetensors")

    cfg = recipe(family, dataset="mnist", width=8, latent_dim=8, batch_size=16, max_steps=4,
                 device="cpu", checkpoint_every=10**6)
    train_image_gan(cfg, f"{out_dir}/model", progress=False, on_finish=dump)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
