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


def _ckpt_paths(stem: Path) -> tuple[Path, Path]:
    return stem.parent / (stem.name + ".ckpt.safetensors"), stem.parent / (stem.name + ".ckpt.json")


def save_checkpoint(stem: str | Path, nets: dict[str, nn.Module],
                    optimizers: dict[str, torch.optim.Optimizer], meta: dict[str, Any]) -> Path:
    stem = Path(stem)
    tensors: dict[str, torch.Tensor] = {}
    groups: dict[str, Any] = {}
    for name, net in nets.items():
        for k, v in net.state_dict().items():
            tensors[f"net.{name}.{k}"] = v.detach().cpu().contiguous()
    for name, opt in optimizers.items():
        sd = opt.state_dict()
        groups[name] = sd["param_groups"]
        for idx, state in sd["state"].items():
            for k, v in state.items():
                tensors[f"opt.{name}.state.{idx}.{k}"] = torch.as_tensor(v).detach().cpu().contiguous()
    weights, meta_path = _ckpt_paths(stem)
    weights.parent.mkdir(parents=True, exist_ok=True)
    tmp = weights.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(weights)  # a run killed mid-write keeps the previous checkpoint
    meta_path.write_text(json.dumps({**meta, "param_groups": groups}, indent=2))
    return weights


def has_checkpoint(stem: str | Path) -> bool:
    return all(p.is_file() for p in _ckpt_paths(Path(stem)))


def load_checkpoint(stem: str | Path, nets: dict[str, nn.Module],
                    optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, Any]:
    """Restore nets and optimisers in place; returns the saved meta (epoch, step, ...)."""
    weights, meta_path = _ckpt_paths(Path(stem))
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
