"""Resumable training checkpoints in safetensors (no pickles): nets, optimisers and counters.

Optimiser state is flattened to ``opt.<name>.state.<param index>.<key>`` tensors; the rest of it
(param groups, step counters, RNG seeds) goes into the JSON beside the weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn


def checkpoint_paths(stem: str | Path) -> tuple[Path, Path]:
    stem = Path(stem)
    return stem.parent / (stem.name + ".ckpt.safetensors"), stem.parent / (stem.name + ".ckpt.json")


def state_stem(out: str | Path) -> Path:
    """Where a run writing ``DIR/NAME`` keeps its training state: ``DIR/training/NAME.ckpt.*``, so
    ``weights/training/`` holds the states of unfinished schedules that are committed between sessions."""
    out = Path(out)
    return out.parent / "training" / out.name


def delete_checkpoint(stem: str | Path) -> None:
    for path in checkpoint_paths(stem):
        path.unlink(missing_ok=True)


def save_checkpoint(stem: str | Path, nets: dict[str, nn.Module],
                    optimizers: dict[str, torch.optim.Optimizer], meta: dict[str, Any],
                    extra: dict[str, torch.Tensor] | None = None, compact_moments: bool = False) -> Path:
    """Write the state atomically: a run killed mid-write keeps the previous one whole. ``extra``
    holds other tensors of the run (an image pool), read back by ``load_checkpoint_extras``.
    ``compact_moments`` stores the optimisers' float32 moments in bf16 (float32's exponent range,
    8 bits of mantissa): two thirds of a state are Adam's two moments, and a state committed
    between sessions must fit in 40 MB. Loading casts them back to the parameters' dtype, as
    ``Optimizer.load_state_dict`` does for every state tensor but ``step``."""
    stem = Path(stem)
    tensors: dict[str, torch.Tensor] = {f"extra.{k}": v.detach().cpu().contiguous() for k, v in (extra or {}).items()}
    groups: dict[str, Any] = {}
    for name, net in nets.items():
        for k, v in net.state_dict().items():
            tensors[f"net.{name}.{k}"] = v.detach().cpu().contiguous()
    for name, opt in optimizers.items():
        sd = opt.state_dict()
        groups[name] = sd["param_groups"]
        for idx, state in sd["state"].items():
            for k, v in state.items():
                v = torch.as_tensor(v).detach().cpu()
                if compact_moments and k != "step" and v.dtype == torch.float32:
                    v = v.to(torch.bfloat16)
                tensors[f"opt.{name}.state.{idx}.{k}"] = v.contiguous()
    weights, meta_path = checkpoint_paths(stem)
    weights.parent.mkdir(parents=True, exist_ok=True)
    tmp = weights.with_name(weights.name + ".tmp")
    save_file(tensors, str(tmp))
    meta_tmp = meta_path.with_name(meta_path.name + ".tmp")
    meta_tmp.write_text(json.dumps({**meta, "param_groups": groups}))
    tmp.replace(weights)
    meta_tmp.replace(meta_path)
    return weights


def load_checkpoint_meta(stem: str | Path) -> dict[str, Any]:
    meta_path = checkpoint_paths(stem)[1]
    return json.loads(meta_path.read_text()) if meta_path.is_file() else {}


def load_checkpoint_extras(stem: str | Path) -> dict[str, torch.Tensor]:
    tensors = load_file(str(checkpoint_paths(stem)[0]))
    return {k[len("extra."):]: v for k, v in tensors.items() if k.startswith("extra.")}


def has_checkpoint(stem: str | Path) -> bool:
    return all(p.is_file() for p in checkpoint_paths(Path(stem)))


def load_checkpoint(stem: str | Path, nets: dict[str, nn.Module],
                    optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, Any]:
    """Restore nets and optimisers in place; returns the saved meta (epoch, step, ...)."""
    weights, meta_path = checkpoint_paths(Path(stem))
    tensors = load_file(str(weights))
    meta = json.loads(meta_path.read_text())
    for name, net in nets.items():
        prefix = f"net.{name}."
        net.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    for name, opt in optimizers.items():
        prefix = f"opt.{name}.state."
        state: dict[int, dict[str, torch.Tensor]] = {}
        for k, v in tensors.items():
            if k.startswith(prefix):
                idx, key = k[len(prefix):].split(".", 1)
                state.setdefault(int(idx), {})[key] = v
        opt.load_state_dict({"state": state, "param_groups": meta["param_groups"][name]})
    return meta
