"""The model zoo: a name -> generator class + weights + card, from ``weights/`` or the Hugging Face Hub.

A zoo entry is two files side by side, in the layout of ``PyTorchModelHubMixin``:
``NAME.safetensors`` (the generator's state dict, nothing else) and ``NAME.json`` (the card: family,
config, data set, classes, how it was trained, metrics). On the hub the same pair is stored as
``model.safetensors`` + ``config.json``. Weights only ever load from safetensors: never a pickle.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable, TypeVar

from safetensors.torch import load_file, save_file
from torch import nn

from .errors import UserError, shown
from .models import config_from_dict, get_family

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
HUB_WEIGHTS, HUB_CARD = "model.safetensors", "config.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
T = TypeVar("T")


@dataclass
class LoadedModel:
    name: str
    generator: nn.Module
    card: dict[str, Any]
    # Things derived from the weights alone (PCA directions), computed on first use.
    _memo: dict = field(default_factory=dict, repr=False, compare=False)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def latent_dim(self) -> int:
        return int(self.card["config"]["latent_dim"])

    @property
    def classes(self) -> list[str]:
        return list(self.card.get("classes") or [])

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per key for this model; concurrent callers wait for the first."""
        with self._memo_lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]


def _read_card(path: Path) -> dict[str, Any]:
    try:
        card = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"The model card {path.name} cannot be read: {exc}.") from None
    if not isinstance(card, dict) or "family" not in card or "config" not in card:
        raise UserError(f"The model card {path.name} lacks 'family' or 'config'.")
    return card


def list_models(weights_dir: Path = WEIGHTS_DIR, kind: str = "image") -> list[dict[str, Any]]:
    """Cards of the models of one kind shipped in ``weights_dir`` (by default the generators that
    sample from noise; "translation" for CycleGAN pairs), sorted by name."""
    cards = []
    for card_path in sorted(weights_dir.glob("*.json")):
        if card_path.with_suffix(".safetensors").is_file() and not card_path.stem.endswith(".ckpt"):
            try:
                card = _read_card(card_path)
            except UserError:
                continue  # a broken card hides one model, it does not take down the zoo
            if _kind(card) == kind:
                cards.append({"name": card_path.stem, **card})
    return cards


def _kind(card: dict[str, Any]) -> str:
    try:
        return get_family(card["family"]).kind
    except UserError:
        return "unknown"


def model_names(weights_dir: Path = WEIGHTS_DIR, kind: str = "image") -> list[str]:
    return [c["name"] for c in list_models(weights_dir, kind)]


def build_generator(card: dict[str, Any]) -> nn.Module:
    family = get_family(card["family"])
    return family.generator(config_from_dict(family, card["config"]))


def _load_pair(name: str, weights: Path, card_path: Path, device: str) -> LoadedModel:
    card = _read_card(card_path)
    G = build_generator(card)
    try:
        state = load_file(str(weights), device="cpu")
        G.load_state_dict(state)
    except Exception as exc:  # corrupt file or a card that does not match its weights
        raise UserError(f"The weights of {name!r} do not load: {str(exc).splitlines()[0]}") from None
    return LoadedModel(name, G.to(device).eval(), card)


def save(G: nn.Module, card: dict[str, Any], stem: str | Path) -> Path:
    """Write ``STEM.safetensors`` and ``STEM.json``; returns the weights path."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in G.state_dict().items()}
    weights = stem.parent / (stem.name + ".safetensors")
    save_file(state, str(weights))
    (stem.parent / (stem.name + ".json")).write_text(json.dumps(card, indent=2) + "\n")
    return weights


def load(name: str, device: str = "cpu", weights_dir: Path = WEIGHTS_DIR) -> LoadedModel:
    """Load a zoo model by local name, or by Hugging Face repo id (``owner/repo``)."""
    if not isinstance(name, str) or not name:
        raise UserError("Choose a model by name.")
    if "/" in name:
        return load_from_hub(name, device)
    if not _NAME.match(name) or not (weights_dir / f"{name}.safetensors").is_file():
        known = ", ".join(model_names(weights_dir)) or "none"
        raise UserError(f"Unknown model {shown(name)}; the zoo has: {known}.")
    return _load_pair(name, weights_dir / f"{name}.safetensors", weights_dir / f"{name}.json", device)


def validate_repo_id(repo_id: str) -> str:
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id) or ".." in repo_id:
        raise UserError(f"{shown(repo_id)} is not a Hugging Face repo id (owner/name).")
    return repo_id


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the Hub's host answers a TCP connection within ``timeout_s`` (False when
    HF_HUB_OFFLINE is set: then only the local cache is used)."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)),
                                 timeout=timeout_s).close()
        return True
    except OSError:
        return False


def load_from_hub(repo_id: str, device: str = "cpu", revision: str | None = None) -> LoadedModel:
    """Fetch ``model.safetensors`` + ``config.json`` with huggingface_hub and load them."""
    validate_repo_id(repo_id)
    from huggingface_hub import hf_hub_download

    # huggingface_hub retries an unreachable host for ~25 s; a 3 s look first keeps an offline
    # failure fast, and a model fetched before still loads from the local cache.
    online = hub_reachable()
    try:
        card_path = hf_hub_download(repo_id, HUB_CARD, revision=revision, local_files_only=not online)
        weights = hf_hub_download(repo_id, HUB_WEIGHTS, revision=revision, local_files_only=not online)
    except Exception as exc:  # offline, unknown repo, gated repo: all end as one sentence
        why = "the Hub cannot be reached from this server" if not online else type(exc).__name__
        raise UserError(f"Could not fetch {shown(repo_id)} from the Hugging Face Hub ({why}); "
                        f"check the network and the repo id, or use a local model: "
                        f"{', '.join(model_names()) or 'none'}.") from None
    return _load_pair(repo_id, Path(weights), Path(card_path), device)


def update_card_metrics(name: str, metrics: dict[str, Any], weights_dir: Path = WEIGHTS_DIR) -> Path:
    """Merge evaluation figures into a local model's card under ``metrics``."""
    if not _NAME.match(name) or not (weights_dir / f"{name}.json").is_file():
        raise UserError(f"Unknown local model {name!r}; the zoo has: {', '.join(model_names(weights_dir))}.")
    path = weights_dir / f"{name}.json"
    card = _read_card(path)
    card.setdefault("metrics", {}).update(metrics)
    path.write_text(json.dumps(card, indent=2) + "\n")
    return path


def push(name: str, repo_id: str, private: bool = False, weights_dir: Path = WEIGHTS_DIR) -> str:
    """Upload a local model as ``model.safetensors`` + ``config.json`` to a hub model repo."""
    validate_repo_id(repo_id)
    if not _NAME.match(name) or not (weights_dir / f"{name}.safetensors").is_file():
        raise UserError(f"Unknown local model {name!r}; the zoo has: {', '.join(model_names(weights_dir))}.")
    from huggingface_hub import HfApi

    api = HfApi()
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_file(path_or_fileobj=str(weights_dir / f"{name}.safetensors"), path_in_repo=HUB_WEIGHTS,
                        repo_id=repo_id, commit_message=f"Upload {name} from GAN Playground")
        api.upload_file(path_or_fileobj=str(weights_dir / f"{name}.json"), path_in_repo=HUB_CARD,
                        repo_id=repo_id, commit_message=f"Card of {name}")
    except Exception as exc:
        raise UserError(f"Could not push to {repo_id!r} ({type(exc).__name__}); check the network and "
                        "that you are logged in (`huggingface-cli login` or $HF_TOKEN).") from None
    return f"https://huggingface.co/{repo_id}"


def pull(repo_id: str, name: str | None = None, weights_dir: Path = WEIGHTS_DIR) -> Path:
    """Download a hub model into ``weights_dir`` as ``NAME.safetensors`` + ``NAME.json``.

    It is loaded once first, so a repo whose card and weights do not match never enters the zoo.
    """
    name = name or validate_repo_id(repo_id).split("/")[1]
    if not _NAME.match(name) or name.endswith(".ckpt"):
        raise UserError(f"{name!r} is not a usable local model name (letters, digits, . _ -).")
    model = load_from_hub(repo_id)
    card = {**model.card, "source": f"https://huggingface.co/{repo_id}"}
    return save(model.generator, card, weights_dir / name)


class ModelCache:
    """Loaded models kept for the app's lifetime: one per name and device, safe across threads.

    The app owns one instance; there is no module-level cache.
    """

    MAX_ADDED = 32  # models saved from live runs kept loaded; older ones are forgotten

    def __init__(self, device: str = "cpu", weights_dir: Path = WEIGHTS_DIR):
        self.device = device
        self.weights_dir = weights_dir
        self._models: dict[str, LoadedModel] = {}
        self._owned: dict[str, tuple[str | None, LoadedModel]] = {}  # saved at run time: name -> (owner, model)
        self._lock = threading.Lock()

    def add_file(self, name: str, weights: Path, owner: str | None = None) -> LoadedModel:
        """Make a pair written at run time (``weights`` + its ``.json`` card) loadable as ``name``
        by ``owner`` (a browser session) alone."""
        if not _NAME.match(name):
            raise UserError(f"A zoo name uses letters, digits, '.', '_' and '-' only; got {name!r}.")
        weights = Path(weights)
        model = _load_pair(name, weights, weights.with_suffix(".json"), self.device)
        model.card.setdefault("name", name)
        with self._lock:
            self._owned[name] = (owner, model)
            for old in list(self._owned)[:-self.MAX_ADDED]:  # dicts keep insertion order: oldest first
                del self._owned[old]
        return model

    def added(self, name: str, owner: str | None = None) -> LoadedModel | None:
        """A model ``owner`` saved at run time by ``add_file``, or None (also for anyone else)."""
        with self._lock:
            entry = self._owned.get(name)
        return entry[1] if entry is not None and entry[0] == owner else None

    def get(self, name: str, loader: Callable[[], LoadedModel] | None = None) -> LoadedModel:
        """The model called ``name``: from ``weights_dir``, or from ``loader()`` for models that
        live elsewhere (the official CycleGAN files in the download cache)."""
        with self._lock:
            if name not in self._models:
                self._models[name] = loader() if loader else load(name, self.device, self.weights_dir)
            return self._models[name]



COMPARISON_COLUMNS = ["model", "family", "data", "trained", "Frechet distance", "untrained G", "real floor",
                      "class accuracy %"]


def comparison_rows(cards: list[dict[str, Any]]) -> list[list[Any]]:
    """One row per zoo model for the app's comparison table, from the metrics in its card
    (``python -m gan_demo evaluate NAME --update-card``); missing figures stay empty."""
    rows = []
    for card in cards:
        m, t = card.get("metrics") or {}, card.get("training") or {}
        trained = (f"{t.get('epochs_done', '?')} epochs, {t.get('steps', '?')} steps, "
                   f"{t.get('wall_time_s', 0) / 60:.0f} min" if t else "")
        acc = m.get("class_accuracy")
        rows.append([card["name"], card["family"], card.get("dataset", ""), trained,
                     m.get("frechet_distance"), m.get("frechet_untrained_generator"),
                     m.get("frechet_real_train_vs_test"), None if acc is None else round(100 * acc, 1)])
    return rows
