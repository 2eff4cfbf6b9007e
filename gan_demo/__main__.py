"""The command line: ``python -m gan_demo {models,sample,train} ...``.

Flags and .npz keys here are a contract other tools call as written: extend, never rename.
A mistake a user can make exits with code 2 and one sentence on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .errors import UserError



def cmd_models(args) -> None:
    from . import zoo

    cards = zoo.list_models()
    print(f"{'name':<24} {'family':<8} {'dataset':<8} {'image':<10} latent")
    for card in cards:
        cfg = card["config"]
        size = f"{cfg['image_size']}x{cfg['image_size']}x{cfg['channels']}"
        print(f"{card['name']:<24} {card['family']:<8} {card.get('dataset', '?'):<8} {size:<10} {cfg['latent_dim']}")
    translators = zoo.list_models(kind="translation")
    if translators:
        print(f"\n{'translation model':<24} {'family':<8} {'dataset':<12} generator")
        for card in translators:
            cfg = card["config"]
            print(f"{card['name']:<24} {card['family']:<8} {card.get('dataset', '?'):<12} "
                  f"ngf {cfg.get('ngf')}, {cfg.get('n_blocks')} blocks")
    sketchers = zoo.list_models(kind="sketch")
    if sketchers:
        print(f"\n{'sketch model':<24} {'family':<8} {'dataset':<12} classes for hints")
        for card in sketchers:
            print(f"{card['name']:<24} {card['family']:<8} {card.get('dataset', '?'):<12} "
                  f"{', '.join(card.get('classes', []))}")


def cmd_sample(args) -> None:
    import torch

    from . import sampling, validate, zoo

    n = validate.as_int(args.n, "--n", 1, sampling.MAX_SAMPLES)
    seed = validate.as_seed(args.seed)
    psi = validate.as_float(args.truncation, "--truncation", 0.0, 2.0)
    out = Path(args.out)
    if out.suffix.lower() not in (".npz", ".png"):
        raise UserError(f"--out must end in .npz or .png, got {out.name!r}.")
    model = zoo.load(args.name)
    labels = None
    if args.label is not None or args.labels_all:
        if not sampling.is_conditional(model):
            raise UserError(f"{args.name} is not a conditional model: --label and --labels-all "
                            "need one (see `models`).")
        if args.labels_all:
            if n % len(model.classes):
                raise UserError(f"--labels-all needs --n to be a multiple of {len(model.classes)}, got {n}.")
            labels = sampling.default_labels(model, n)
        else:
            labels = torch.full((n,), sampling.class_index(model, args.label))
    elif sampling.is_conditional(model):
        labels = sampling.default_labels(model, n)
    images, z = sampling.generate(model, n, seed, psi, labels=labels)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npz":
        extra = {} if labels is None else {"labels": labels.numpy().astype(np.int64)}
        np.savez(out, images=images, z=z.astype(np.float32), **extra)
    else:
        from PIL import Image

        g = sampling.grid(images)
        Image.fromarray(g[..., 0] if g.shape[-1] == 1 else g).save(out)
    print(f"wrote {n} samples of {args.name} (seed {seed}, truncation {psi:g}) to {out}")


def cmd_interpolate(args) -> None:
    from . import plots, sampling, validate, zoo

    seed_a, seed_b = validate.as_seed(args.seed_a), validate.as_seed(args.seed_b)
    steps = validate.as_int(args.steps, "--steps", 2, sampling.MAX_FRAMES)
    psi = validate.as_float(args.truncation, "--truncation", 0.0, 2.0)
    fps = validate.as_float(args.fps, "--fps", 1.0, 50.0)
    out = Path(args.out)
    if out.suffix.lower() not in (".gif", ".png", ".npz"):
        raise UserError(f"--out must end in .gif, .png (a strip) or .npz, got {out.name!r}.")
    model = zoo.load(args.name)
    classes = [None if c is None else sampling.class_index(model, c) for c in (args.class_a, args.class_b)]
    frames = sampling.interpolate(model, seed_a, seed_b, steps, args.mode, psi, *classes)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":
        out.write_bytes(plots.gif_bytes(plots.frames_for_gif(frames, args.scale), fps=fps))
    elif out.suffix.lower() == ".npz":
        np.savez(out, images=frames)
    else:
        from PIL import Image

        strip = sampling.grid(frames, scale=args.scale, ncol=len(frames))
        Image.fromarray(strip[..., 0] if strip.shape[-1] == 1 else strip).save(out)
    print(f"wrote {steps} frames of {args.name} ({args.mode}, seed {seed_a} -> {seed_b}) to {out}")


def cmd_push(args) -> None:
    from . import zoo

    url = zoo.push(args.name, args.repo_id, private=args.private)
    print(f"pushed {args.name} to {url}")


def cmd_pull(args) -> None:
    from . import translation, zoo

    if args.repo_id == translation.OFFICIAL_NAME:
        paths = translation.download_official()
        translation.load_official()  # refuse a broken download now rather than in the app
        print(f"downloaded the official CycleGAN generators into {paths['AtoB'].parent}")
        return
    path = zoo.pull(args.repo_id, args.name)
    print(f"pulled {args.repo_id} into {path}; use it as {path.stem!r}")


def cmd_train_classifier(args) -> None:
    from .metrics.classifier import ClassifierTrainConfig, train_classifier

    if args.dataset == "horse2zebra":
        from .metrics.photo_classifier import PhotoClassifierTrainConfig, train_photo_classifier

        card = train_photo_classifier(PhotoClassifierTrainConfig(epochs=args.epochs or 12, seed=args.seed,
                                                                 data_root=args.data_root),
                                      progress=not args.quiet)
        print(f"horse2zebra classifier: test accuracy {100 * card['test_accuracy']:.2f} % on "
              f"{sum(card['test_images'].values())} photos ({card['training']['wall_time_s']} s)")
        return
    args.epochs = args.epochs or 4

    card = train_classifier(ClassifierTrainConfig(dataset=args.dataset, epochs=args.epochs, seed=args.seed,
                                                  data_root=args.data_root), progress=not args.quiet)
    print(f"{args.dataset} classifier: test accuracy {100 * card['test_accuracy']:.2f} % on "
          f"{card['test_images']} images ({card['training']['wall_time_s']} s)")


def cmd_evaluate(args) -> None:
    import json

    from . import validate, zoo
    from .metrics.evaluation import evaluate_generator

    n = validate.as_int(args.n, "--n", 100, 100_000)
    model = zoo.load(args.name)
    kind = zoo.get_family(model.card["family"]).kind
    if kind == "translation":
        from .metrics.evaluation import evaluate_translation

        report = evaluate_translation(model, data_root=args.data_root)
    elif kind == "sketch":
        from .metrics.evaluation import evaluate_sketch

        report = evaluate_sketch(model, data_root=args.data_root, n=n, seed=args.seed)
    else:
        report = evaluate_generator(model, n, seed=args.seed, data_root=args.data_root)
    print(json.dumps(report, indent=2))
    if args.update_card:
        path = zoo.update_card_metrics(args.name, report)
        print(f"metrics written to {path}")


def cmd_sketch(args) -> None:
    from PIL import Image

    from . import sketch, validate, zoo

    scale = validate.as_int(args.scale, "--scale", 1, 64)
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise UserError(f"--out must end in .png, got {out.name!r}.")
    model = zoo.load(args.model)
    if zoo.get_family(model.card["family"]).kind != "sketch":
        raise UserError(f"{args.model} is not a sketch model; use "
                        f"{', '.join(zoo.model_names(kind='sketch')) or 'pix2pix-fashion-sketch'}.")
    result = sketch.draw(model, args.input, args.hint, validate.as_seed(args.seed))
    out.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(result.garments[0], "L")
    img.resize((28 * scale, 28 * scale), Image.NEAREST).save(out)
    print(f"wrote {out} ({28 * scale} x {28 * scale}) from {args.input}"
          + (f" with the hint {result.hint!r}" if result.hint else ""))


def cmd_translate(args) -> None:
    from PIL import Image

    from . import translation, zoo

    if args.direction not in translation.DIRECTIONS:
        raise UserError(f"--direction must be AtoB or BtoA, got {args.direction!r}.")
    model = (translation.load_official() if args.model == translation.OFFICIAL_NAME
             else zoo.load(args.model))
    if zoo.get_family(model.card["family"]).kind != "translation":
        raise UserError(f"{args.model} is not a translation model; use a CycleGAN such as "
                        f"{', '.join(zoo.model_names(kind='translation')) or 'cyclegan-horse2zebra'}.")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for src in args.inputs:
        try:
            result = translation.translate_only(model, src, args.direction, args.work_size)
        except UserError as exc:  # one bad file should not stop a batch
            print(f"skipped {src}: {exc}", file=sys.stderr)
            failed += 1
            continue
        target = out / (Path(src).stem + ".png")
        Image.fromarray(result).save(target)
        print(f"{src} -> {target} ({result.shape[1]}x{result.shape[0]})")
    if failed:
        raise UserError(f"{failed} of {len(args.inputs)} inputs could not be translated.")


def _flags_for(title: str, args, **fixed):
    """One trainer's config from ``train``'s flags: the values a left-out flag means
    (``train_flag_sources``), then ``fixed`` (the command's own: data, device), then what was given."""
    from dataclasses import replace

    from . import settings

    cls, base = train_flag_sources()[title]
    return replace(base, **fixed, **settings.given_flags(cls, args))


def _cyclegan_config(args):
    from . import settings

    cfg = _flags_for("cyclegan", args, dataset=args.dataset or "horse2zebra", data_root=args.data_root,
                     device=args.device)
    cfg = settings.check(cfg, by_flag=True)  # the limits the config declares, named by flag
    if args.any_size and cfg.size % 4:
        raise UserError(f"--size must be a multiple of 4, got {cfg.size}.")
    if cfg.size not in (128, 256) and not args.any_size:
        raise UserError(f"--size must be 128 or 256, got {cfg.size} (--any-size allows other multiples of 4).")
    if cfg.decay_from is not None and not 0 <= cfg.decay_from <= cfg.epochs:
        raise UserError(f"--decay-from must be between 0 and --epochs, got {cfg.decay_from}.")
    if cfg.attention_d_from is not None and (cfg.generator != "attention"
                                             or not 0 <= cfg.attention_d_from <= cfg.epochs):
        raise UserError("--attention-d-from needs --generator attention and an epoch between 0 and --epochs, "
                        f"got {cfg.attention_d_from}.")
    if cfg.decoder != "resize" and cfg.generator == "resnet":
        raise UserError("--decoder needs --generator residual or attention (the reference keeps its "
                        "transposed convolutions, so the released weights load).")
    if cfg.lambda_mask_identity > 0 and cfg.generator != "attention":
        raise UserError("--lambda-mask-identity needs --generator attention (only it has masks).")
    return cfg


def _pix2pix_config(args):
    from . import settings

    if args.dataset not in (None, "fashion", "mnist"):
        raise UserError(f"pix2pix trains on fashion or mnist, not {args.dataset}.")
    cfg = settings.check(_flags_for("pix2pix", args, dataset=args.dataset or "fashion", data_root=args.data_root,
                                    device=args.device), by_flag=True)
    if cfg.decay_from is not None and cfg.decay_from > cfg.epochs:
        raise UserError(f"--decay-from must be between 0 and --epochs, got {cfg.decay_from}.")
    return cfg


def _image_config(args):
    from dataclasses import replace

    from . import settings, validate
    from .training.image_config import ImageConfig, check_train_config, recipe

    if args.dataset not in (None, "fashion", "mnist"):
        raise UserError(f"{args.family} trains on fashion or mnist, not {args.dataset}.")
    # A flag left out takes the model's recipe (image_config.recipe: the family's own settings);
    # --lr is both rates, named as typed when it is out of range.
    lr = {}
    if args.lr is not None:
        spec = settings.spec(ImageConfig, "lr_d")
        lr = dict.fromkeys(("lr_d", "lr_g"), validate.as_float(args.lr, "--lr", spec.lo, spec.hi))
    cfg = replace(recipe(args.family), **{**lr, "dataset": args.dataset or "fashion", "data_root": args.data_root,
                                          "device": args.device, **settings.given_flags(ImageConfig, args)})
    return check_train_config(cfg)  # the limits ImageConfig declares, named by flag


def train_config(args):
    """The validated config ``train`` runs with these flags (``UserError`` for a bad one)."""
    if args.family == "cyclegan":
        return _cyclegan_config(args)
    if args.family == "pix2pix":
        return _pix2pix_config(args)
    return _image_config(args)


def cmd_train(args) -> None:
    cfg = train_config(args)
    if args.family == "cyclegan":
        from .training.cyclegan import train_cyclegan as train
    elif args.family == "pix2pix":
        from .training.pix2pix import train_pix2pix as train
    else:
        from .training.image import train_image_gan as train
    _report_training(args.out, train(cfg, args.out, resume=args.resume, progress=not args.quiet))


def _report_training(out: str, card: dict) -> None:
    t = card["training"]
    print(f"wrote {out}.safetensors and {out}.json: {t['steps']} steps, "
          f"{t['epochs_done']} epochs, {t['wall_time_s']} s on {t['device']}")


def cmd_train_toy(args) -> None:
    import torch

    from dataclasses import replace

    from . import settings
    from .training.toy import HISTORY_COLUMNS, ToyGAN, ToyTrainConfig, recipe, recommended_steps

    steps = validate_steps(recommended_steps(args.dataset) if args.steps is None else args.steps)
    # Every setting's flag (settings.add_flags); one left out means the recipe for this data set.
    given = {k: v for k, v in settings.flag_values(ToyTrainConfig, args).items() if v is not None}
    lr = {} if args.lr is None else {"lr_d": args.lr, "lr_g": args.lr}
    cfg = replace(recipe(args.dataset, 0 if args.constant_lr else steps), **lr, **given)
    out = Path(args.out)
    if out.suffix.lower() != ".npz":
        raise UserError(f"--out must end in .npz, got {out.name!r}.")
    if args.threads:
        torch.set_num_threads(args.threads)
    gan = ToyGAN(cfg)
    tricks = [name for name, on in (("minibatch discrimination", cfg.minibatch_disc),
                                    ("minibatch std", cfg.minibatch_std), ("train the weaker", cfg.train_weaker),
                                    (f"pack {cfg.pack}", cfg.pack > 1),
                                    (f"{cfg.n_discriminators} discriminators ({cfg.gman})", cfg.n_discriminators > 1),
                                    (f"G weight average {cfg.g_average:g}", cfg.g_average > 0)) if on]
    noise = f"{cfg.noise_dim}-d {cfg.noise_dist} noise" + (
        f" + a one-hot code of {cfg.noise_codes}" if cfg.noise_codes else "")
    print(f"{args.dataset} {cfg.loss}: batch {cfg.batch_size}, lr {cfg.lr_d:g}, {steps:,} steps, {noise}, "
          f"{cfg.d_steps} D step(s) per G step" + "".join(f", {t}" for t in tricks), flush=True)
    bar = None
    if not args.quiet:
        from tqdm import tqdm
        bar = tqdm(total=steps, unit="step", dynamic_ncols=True)
    while gan.step_count < steps:
        chunk = min(200, steps - gan.step_count)
        gan.run(chunk)
        if bar is not None:
            h = gan.evals[-1] if gan.evals else {}
            bar.update(chunk)
            bar.set_postfix(modes=h.get("modes"), hq=h.get("hq_pct"), refresh=False)
        if gan.check_divergence() is not None:
            break
    if bar is not None:
        bar.close()
    final = gan.evaluate()
    samples = gan.samples(2500, seed=cfg.seed + 12345)
    history = gan.history()
    out.parent.mkdir(parents=True, exist_ok=True)
    cols = [c for c in HISTORY_COLUMNS if c in history]
    np.savez(out, samples=samples.astype(np.float32),
             history=np.column_stack([history[c].astype(np.float64) for c in cols]),
             history_columns=np.array(cols), **{c: history[c] for c in cols})
    div = gan.check_divergence()
    if div is not None:
        print(f"diverged at step {div}")
    if gan.data.modes is not None:
        from .metrics import mode_coverage

        report = mode_coverage(samples, gan.data.modes, gan.data.sigma)
        print(f"{args.dataset} {cfg.loss}: {report} after {gan.step_count} steps")
    else:
        print(f"{args.dataset} {cfg.loss}: KL {final['kl']:.3f}, JS {final['js']:.3f} after {gan.step_count} steps")


def validate_steps(steps: int) -> int:
    from . import validate

    return validate.as_int(steps, "--steps", 1, 10_000_000)


# One function per command, each adding its subparser and flags; build_parser lists them.
def _parser_models(sub) -> None:
    p = sub.add_parser("models", help="list the model zoo")
    p.set_defaults(func=cmd_models)


def _parser_sample(sub) -> None:
    p = sub.add_parser("sample", help="sample a zoo model to .npz (images, z) or a .png grid")
    p.add_argument("name", help="zoo name (see `models`) or a Hugging Face repo id owner/name")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truncation", type=float, default=1.0, help="psi in [0, 2]; 1 = none")
    p.add_argument("--label", default=None,
                   help="conditional models: every sample of this class (name like Sneaker, or index)")
    p.add_argument("--labels-all", action="store_true",
                   help="conditional models: N/10 samples of each class, in turn (labels 0,1,...,9,0,...)")
    p.add_argument("--out", required=True, help="FILE.npz (images, z, and labels for conditional models) "
                                                "or FILE.png")
    p.set_defaults(func=cmd_sample)


def _parser_interpolate(sub) -> None:
    p = sub.add_parser("interpolate", help="walk from one latent (and class) to another: GIF, PNG strip or .npz")
    p.add_argument("name")
    p.add_argument("--seed-a", type=int, default=0)
    p.add_argument("--seed-b", type=int, default=1)
    p.add_argument("--steps", type=int, default=16)
    p.add_argument("--mode", choices=["lerp", "slerp"], default="slerp")
    p.add_argument("--class-a", default=None, help="conditional models: class at the start")
    p.add_argument("--class-b", default=None, help="conditional models: class at the end")
    p.add_argument("--truncation", type=float, default=1.0)
    p.add_argument("--fps", type=float, default=12.0)
    p.add_argument("--scale", type=int, choices=range(1, 9), default=4, metavar="1-8",
                   help="pixel upscale of GIF/PNG frames")
    p.add_argument("--out", required=True, help="FILE.gif, FILE.png or FILE.npz (images)")
    p.set_defaults(func=cmd_interpolate)


def _parser_push(sub) -> None:
    p = sub.add_parser("push", help="upload a zoo model to a Hugging Face repo (needs a token)")
    p.add_argument("name")
    p.add_argument("repo_id", help="owner/name")
    p.add_argument("--private", action="store_true")
    p.set_defaults(func=cmd_push)


def _parser_pull(sub) -> None:
    p = sub.add_parser("pull", help="download a zoo model from a Hugging Face repo into weights/, "
                                    "or the official CycleGAN generators")
    p.add_argument("repo_id", help="owner/name, or official-horse2zebra (the released CycleGAN files)")
    p.add_argument("--name", default=None, help="local zoo name (default: the repo's name)")
    p.set_defaults(func=cmd_pull)


def _parser_train_classifier(sub) -> None:
    p = sub.add_parser("train-classifier", help="train the independent classifier used by the metrics")
    p.add_argument("--dataset", choices=["fashion", "mnist", "horse2zebra"], default="fashion")
    p.add_argument("--epochs", type=int, default=None, help="default 4; 12 for horse2zebra")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-root", default=None)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train_classifier)


def _parser_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="Frechet distance (and class accuracy) of a zoo model")
    p.add_argument("name")
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-root", default=None)
    p.add_argument("--update-card", action="store_true", help="write the figures into the model card")
    p.set_defaults(func=cmd_evaluate)


def train_flag_sources() -> dict[str, tuple[type, object]]:
    """Each trainer of ``train`` by title: its config class, and the config a left-out flag means."""
    from .training.cyclegan import CycleGANTrainConfig
    from .training.image_config import ImageConfig, recipe
    from .training.pix2pix import Pix2PixTrainConfig

    # `train cyclegan` without --epochs has always trained 5 epochs (the paper's 200 take weeks here).
    return {"image GANs": (ImageConfig, recipe("dcgan")), "cyclegan": (CycleGANTrainConfig, CycleGANTrainConfig(epochs=5)),
            "pix2pix": (Pix2PixTrainConfig, Pix2PixTrainConfig())}


def _parser_train(sub) -> None:
    from . import settings
    from .models import image_families

    # One command for three trainers; each one's flags come from its config (settings.py), and
    # --help shows them under its own heading.
    top = sub.add_parser("train", help="train an image GAN (or a CycleGAN, or pix2pix) and write weights + card")
    p = top.add_argument_group("shared flags (one that only some trainers read says which)")
    groups = {"image GANs": top.add_argument_group("image GANs (dcgan, cgan, vaegan, stylegan)"),
              "cyclegan": top.add_argument_group("cyclegan"), "pix2pix": top.add_argument_group("pix2pix")}
    top.add_argument("family", choices=[*image_families(), "cyclegan", "pix2pix"],
                     help="what to train: an image GAN family, a CycleGAN (photo to photo) or pix2pix (drawing "
                          "to garment)")
    p.add_argument("--dataset", choices=["fashion", "mnist", "horse2zebra"], default=None,
                   help="fashion or mnist for image GANs and pix2pix (default fashion); horse2zebra for cyclegan "
                        "(its default)")
    settings.add_trainer_flags(p, groups, train_flag_sources(),
                               notes={"--lr": "image GANs: both D's and G's (--lr-d, --lr-g set one)",
                                      "--width": "cyclegan: 16 with --small, else 64"})
    groups["cyclegan"].add_argument("--any-size", action="store_true",
                                    help="allow other crop sizes than 128 and 256 (multiples of 4)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--data-root", default=None, help="data folder (else $GAN_DEMO_DATA, else ./data)")
    p.add_argument("--resume", action="store_true",
                   help="continue an unfinished schedule from its training state, DIR/training/NAME.ckpt.* "
                        "for --out DIR/NAME (deleted once the schedule is done)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", required=True, help="path stem, e.g. weights/dcgan-fashion")
    top.set_defaults(func=cmd_train)


def _parser_sketch(sub) -> None:
    p = sub.add_parser("sketch", help="turn a line drawing into a garment with pix2pix: one PNG")
    p.add_argument("input", metavar="IN", help="a drawing: dark lines on a light ground (or the reverse)")
    p.add_argument("--out", required=True, help="output PNG")
    p.add_argument("--model", default="pix2pix-fashion-sketch", help="a sketch model of the zoo")
    p.add_argument("--hint", default=None, help="a class name to steer the model, e.g. 'Ankle boot'")
    p.add_argument("--seed", type=int, default=0, help="seeds pix2pix's dropout noise")
    p.add_argument("--scale", type=int, default=1, help="enlarge the 28 x 28 result this many times")
    p.set_defaults(func=cmd_sketch)


def _parser_translate(sub) -> None:
    p = sub.add_parser("translate", help="translate photos with a CycleGAN: one PNG per input, same size")
    p.add_argument("inputs", nargs="+", metavar="IN", help="image files")
    p.add_argument("--model", default="cyclegan-horse2zebra",
                   help="a translation model of the zoo, or official-horse2zebra (after `pull`)")
    p.add_argument("--direction", default="AtoB", help="AtoB (horse -> zebra) or BtoA (zebra -> horse)")
    p.add_argument("--work-size", type=int, default=None, choices=range(32, 1025), metavar="32-1024",
                   help="the generator runs at about this many pixels squared (default: the scale the "
                        "model was trained at, 144 for ours, 256 for the official)")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_translate)


def _parser_train_toy(sub) -> None:
    from . import settings
    from .training.toy import (RECOMMENDED_BY_DATASET, RECOMMENDED_STEPS, RECOMMENDED_STEPS_BY_DATASET,
                              ToyTrainConfig, recommended)

    p = sub.add_parser("train-toy", help="train a GAN on a 1D/2D toy distribution, write samples + history")
    p.add_argument("--dataset", choices=["ring8", "grid25", "gauss1d", "spiral", "moons"], default="ring8")
    p.add_argument("--steps", type=int, default=None,
                   help=f"default {RECOMMENDED_STEPS:,} ({', '.join(f'{d} {n:,}' for d, n in RECOMMENDED_STEPS_BY_DATASET.items())})")
    p.add_argument("--lr", type=float, default=None,
                   help=f"learning rate of D and G (default {recommended('ring8')['lr_d']:g})")
    p.add_argument("--constant-lr", action="store_true", help="no decay over the second half")
    # The rest is ToyTrainConfig's settings, one flag each; left out, the data set's recipe
    # (training/toy.py RECOMMENDED) or the config's default applies.
    def toy_default(name: str) -> str:
        def text(v):
            return "on" if v is True else "off" if v is False else f"{v:g}" if isinstance(v, float) else str(v)

        base = recommended("ring8")[name] if name in recommended("ring8") else settings.spec(ToyTrainConfig, name).default
        others = [f"{d} {text(r[name])}" for d, r in RECOMMENDED_BY_DATASET.items() if r.get(name, base) != base]
        return f"default {text(base)}" + (f" ({', '.join(others)})" if others else "")

    settings.add_flags(p, ToyTrainConfig, defaults={n: None for n in settings.specs(ToyTrainConfig)},
                       none_help=toy_default)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--out", required=True, help="FILE.npz")
    p.set_defaults(func=cmd_train_toy)


COMMANDS = (_parser_models, _parser_sample, _parser_interpolate, _parser_push, _parser_pull, _parser_train_classifier,
            _parser_evaluate, _parser_train, _parser_sketch, _parser_translate, _parser_train_toy)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_demo", description="GAN Playground tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
