"""Score a zoo generator with the independent classifier: Frechet distance and class accuracy.

The Frechet distance compares the classifier's penultimate features of generated samples with
those of the real test set (a small-data analogue of FID, not comparable with published FIDs).
Two references make the number readable: the real training set against the test set (the floor a
perfect generator would reach) and an untrained generator of the same architecture (the ceiling).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..data import load_images
from ..sampling import latents, truncates_in_w
from ..zoo import LoadedModel, build_generator
from . import frechet_distance
from .classifier import load_classifier, predict


@torch.inference_mode()
def _samples(G: torch.nn.Module, z: torch.Tensor, labels: torch.Tensor | None, batch: int = 500) -> torch.Tensor:
    G.eval()
    parts = []
    for i in range(0, len(z), batch):
        ll = None if labels is None else labels[i:i + batch]
        parts.append(G(z[i:i + batch], ll).float().clamp(-1, 1))
    return torch.cat(parts)


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """Class k for samples k, k + C, k + 2C, ...: n / C of each class (the `--labels-all` layout)."""
    return torch.arange(n) % num_classes


class FrechetProbe:
    """The Frechet distance of a generator while it trains, on a fixed set of noise vectors against
    the real test set: the points of a card's curve over training (fewer samples than `evaluate`,
    so its values run a little higher than the card's final figure)."""

    def __init__(self, dataset: str, latent_dim: int, num_classes: int, conditional: bool,
                 n: int = 2000, seed: int = 0, data_root: str | None = None):
        self.clf, _ = load_classifier(dataset)
        x_test, _ = load_images(dataset, data_root, train=False).tensors()
        _, self.real = predict(self.clf, x_test)
        self.z = torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed))
        self.labels = balanced_labels(n, num_classes) if conditional else None

    def __call__(self, G: torch.nn.Module) -> float:
        was_training = G.training
        device = next(G.parameters()).device
        labels = None if self.labels is None else self.labels.to(device)
        fakes = _samples(G, self.z.to(device), labels).cpu()
        G.train(was_training)
        return round(frechet_distance(predict(self.clf, fakes)[1], self.real), 2)


def evaluate_generator(model: LoadedModel, n: int = 10_000, seed: int = 0,
                       data_root: str | None = None) -> dict[str, float]:
    dataset = model.card.get("dataset", "fashion")
    clf, clf_card = load_classifier(dataset)
    real = load_images(dataset, data_root, train=False)
    x_test, y_test = real.tensors()
    _, real_feats = predict(clf, x_test)
    conditional = bool(model.card.get("conditional"))
    labels = balanced_labels(n, len(model.classes)) if conditional else None
    z = latents(model, n, seed)

    fake_preds, fake_feats = predict(clf, _samples(model.generator.cpu(), z, labels))
    untrained = build_generator(model.card)
    torch.manual_seed(seed)
    untrained.apply(lambda m: m.reset_parameters() if hasattr(m, "reset_parameters") else None)
    _, untrained_feats = predict(clf, _samples(untrained, z, labels))
    train_x, _ = load_images(dataset, data_root, train=True).tensors()
    pick = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(seed))[:min(n, len(train_x))]
    _, train_feats = predict(clf, train_x[pick])

    report = {
        "samples": n,
        "test_images": len(x_test),
        "classifier_test_accuracy": clf_card["test_accuracy"],
        "frechet_distance": round(frechet_distance(fake_feats, real_feats), 3),
        "frechet_untrained_generator": round(frechet_distance(untrained_feats, real_feats), 3),
        "frechet_real_train_vs_test": round(frechet_distance(train_feats, real_feats), 3),
    }
    if conditional:
        report["class_accuracy"] = round(float((fake_preds == labels.numpy()).mean()), 4)
        report["class_accuracy_per_class"] = {
            name: round(float((fake_preds[labels.numpy() == k] == k).mean()), 4)
            for k, name in enumerate(model.classes)}
    else:
        counts = np.bincount(fake_preds, minlength=len(model.classes)) / n
        report["predicted_class_shares"] = {name: round(float(c), 4) for name, c in zip(model.classes, counts)}
    if truncates_in_w(model):
        report["w_pca"] = w_spread(model.generator, z)
    return report


@torch.inference_mode()
def w_spread(G: torch.nn.Module, z: torch.Tensor) -> dict:
    """How many directions StyleGAN's w uses: the variance share of its top principal components
    and how many it takes to hold 90 % of the variance. A mapping network that collapses w onto a
    few directions draws few kinds of garment however z varies."""
    w = torch.cat([G.w(chunk).float() for chunk in z.split(1000)])
    var = torch.linalg.svdvals(w - w.mean(0)).pow(2)
    share = (var / var.sum()).numpy()
    cumulative = np.cumsum(share)
    return {"dims": int(w.shape[1]), "top1_share": round(float(share[0]), 4),
            "top5_share": round(float(cumulative[min(4, len(share) - 1)]), 4),
            "components_for_90pct": int(np.searchsorted(cumulative, 0.9) + 1)}


def evaluate_translation(model: LoadedModel, data_root=None, work: int | None = None) -> dict:
    """A CycleGAN pair on the real test photos: how often the independent horse/zebra classifier
    reads a translation as the target domain, and how well the cycle brings the photo back."""
    from .. import translation
    from ..data import photo_files, unpaired_folder
    from .photo_classifier import load_photo_classifier, predict_b

    dataset = model.card.get("dataset", "horse2zebra")
    folder = unpaired_folder(dataset, data_root)
    clf, clf_card = load_photo_classifier(dataset)
    work = work or translation.model_work_size(model)
    report: dict = {"classifier_test_accuracy": clf_card["test_accuracy"], "work_size": work}
    for direction, split, target_is_b in (("AtoB", "testA", True), ("BtoA", "testB", False)):
        outs, l1, psnr, real = [], [], [], []
        for path in photo_files(folder / split):
            t = translation.translate(model, path, direction, work)
            outs.append(t.output)
            real.append(t.input)
            l1.append(t.cycle_l1)
            psnr.append(t.cycle_psnr)
        p_fake, p_real = predict_b(clf, np.stack(outs)), predict_b(clf, np.stack(real))
        hit = (p_fake >= 0.5) if target_is_b else (p_fake < 0.5)
        before = (p_real >= 0.5) if target_is_b else (p_real < 0.5)
        report[direction] = {
            "test_photos": len(outs),
            "read_as_target": round(float(hit.mean()), 4),
            "read_as_target_before_translation": round(float(before.mean()), 4),
            "cycle_l1": round(float(np.mean(l1)), 4),
            "cycle_psnr_db": round(float(np.mean(psnr)), 2),
        }
    return report


EXAMPLE_SKETCHES = Path(__file__).resolve().parents[2] / "examples" / "sketches"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def evaluate_sketch(model: LoadedModel, data_root=None, n: int = 10_000, seed: int = 0,
                    examples: Path = EXAMPLE_SKETCHES) -> dict:
    """A sketch model on the test set: L1 and SSIM against the real image, and how often the
    independent classifier reads the output as the true class, without and with the class hint.
    Then the same reading of the example sketches drawn by hand (``examples/sketches``), and the
    stroke figures of both kinds of drawing, which say whether the model sees them alike."""
    from .. import sketch
    from . import ssim

    dataset = model.card.get("dataset", "fashion")
    clf, clf_card = load_classifier(dataset)
    test = load_images(dataset, data_root, train=False)
    pick = np.arange(min(n, len(test.images)))
    real, labels = test.images[pick], test.labels[pick]
    lines = sketch.edge_maps(real)
    report: dict = {"test_images": len(pick), "classifier_test_accuracy": clf_card["test_accuracy"],
                    "edge_strokes": sketch.stroke_stats(lines)}
    for key, hints in (("no_hint", None), ("with_hint", torch.as_tensor(labels))):
        fake = _sketch_outputs(model, lines, hints, seed)
        preds, _ = predict(clf, torch.from_numpy(fake).float().div(127.5).sub(1).unsqueeze(1))
        diff = np.abs(fake.astype(np.float64) - real.astype(np.float64)) / 255.0
        report[key] = {"l1": round(float(diff.mean()), 4), "ssim": round(float(ssim(fake, real).mean()), 4),
                       "class_accuracy": round(float((preds == labels).mean()), 4)}
    slugs = {_slug(c): k for k, c in enumerate(model.classes)}
    files = sorted(p for p in examples.glob("*.png") if p.stem in slugs)
    if files:
        drawn = np.stack([sketch.strokes(p) for p in files])
        fake = _sketch_outputs(model, drawn, None, seed)
        preds, _ = predict(clf, torch.from_numpy(fake).float().div(127.5).sub(1).unsqueeze(1))
        truth = np.array([slugs[p.stem] for p in files])
        report["hand_drawn_examples"] = {
            "sketches": len(files), "read_as_drawn_class": round(float((preds == truth).mean()), 4),
            "read_as": {p.stem: model.classes[k] for p, k in zip(files, preds)},
            "strokes": sketch.stroke_stats(drawn)}
    return report


@torch.inference_mode()
def _sketch_outputs(model: LoadedModel, lines, hints, seed: int, batch: int = 1000) -> np.ndarray:
    from ..sketch import to_model_input

    G = model.generator.cpu().eval()
    x = to_model_input(torch.as_tensor(np.asarray(lines, dtype=bool)))
    noise = torch.Generator().manual_seed(seed)
    out = [G(x[i:i + batch], None if hints is None else hints[i:i + batch], noise=noise)
           for i in range(0, len(x), batch)]
    return torch.cat(out)[:, 0].clamp(-1, 1).add(1).mul(127.5).round().byte().numpy()
