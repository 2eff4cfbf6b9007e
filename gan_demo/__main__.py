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


def cmd_sample(args) -> None:
    from . import sampling, validate, zoo

    n = validate.as_int(args.n, "--n", 1, sampling.MAX_SAMPLES)
    seed = validate.as_seed(args.seed)
    psi = validate.as_float(args.truncation, "--truncation", 0.0, 2.0)
    out = Path(args.out)
    if out.suffix.lower() not in (".npz", ".png"):
        raise UserError(f"--out must end in .npz or .png, got {out.name!r}.")
    model = zoo.load(args.name)
    images, z = sampling.generate(model, n, seed, psi)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npz":
        np.savez(out, images=images, z=z.astype(np.float32))
    else:
        from PIL import Image

        g = sampling.grid(images)
        Image.fromarray(g[..., 0] if g.shape[-1] == 1 else g).save(out)
    print(f"wrote {n} samples of {args.name} (seed {seed}, truncation {psi:g}) to {out}")


def cmd_train(args) -> None:
    from .training.image import ImageTrainConfig, train_image_gan

    cfg = ImageTrainConfig(
        family=args.family, dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, loss=args.loss, d_steps=args.d_steps, width=args.width,
        latent_dim=args.latent_dim, seed=args.seed, data_root=args.data_root, device=args.device,
        max_steps=args.max_steps,
    )
    for name, value, lo in (("--epochs", cfg.epochs, 1), ("--batch-size", cfg.batch_size, 1),
                            ("--width", cfg.width, 1), ("--latent-dim", cfg.latent_dim, 1),
                            ("--d-steps", cfg.d_steps, 1)):
        if value < lo:
            raise UserError(f"{name} must be at least {lo}, got {value}.")
    if not (0 < cfg.lr < 1):
        raise UserError(f"--lr must be between 0 and 1, got {cfg.lr}.")
    card = train_image_gan(cfg, args.out, resume=args.resume, progress=not args.quiet)
    t = card["training"]
    print(f"wrote {args.out}.safetensors and {args.out}.json: {t['steps']} steps, "
          f"{t['epochs_done']} epochs, {t['wall_time_s']} s on {t['device']}")


def cmd_train_toy(args) -> None:
    import torch

    from .training.toy import HISTORY_COLUMNS, ToyGAN, ToyTrainConfig, recommended

    steps = validate_steps(args.steps)
    cfg = ToyTrainConfig(dataset=args.dataset, loss=args.loss, minibatch_disc=args.minibatch_disc,
                         train_weaker=args.train_weaker, d_steps=args.d_steps, seed=args.seed,
                         lr_d=args.lr, lr_g=args.lr, batch_size=args.batch_size, pack=args.pack,
                         noise_dist=args.noise_dist,
                         minibatch_std=(recommended(args.dataset).get("minibatch_std", False)
                                        if args.minibatch_std is None else args.minibatch_std),
                         total_steps=0 if args.constant_lr else steps)
    out = Path(args.out)
    if out.suffix.lower() != ".npz":
        raise UserError(f"--out must end in .npz, got {out.name!r}.")
    if args.threads:
        torch.set_num_threads(args.threads)
    gan = ToyGAN(cfg)
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
    samples = gan.samples(2500, seed=args.seed + 12345)
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
        print(f"{args.dataset} {args.loss}: {report} after {gan.step_count} steps")
    else:
        print(f"{args.dataset} {args.loss}: KL {final['kl']:.3f}, JS {final['js']:.3f} after {gan.step_count} steps")


def validate_steps(steps: int) -> int:
    from . import validate

    return validate.as_int(steps, "--steps", 1, 10_000_000)


def build_parser() -> argparse.ArgumentParser:
    from .losses import LOSSES
    from .models import image_families

    parser = argparse.ArgumentParser(prog="python -m gan_demo", description="GAN Playground tools.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list the model zoo")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("sample", help="sample a zoo model to .npz (images, z) or a .png grid")
    p.add_argument("name", help="zoo name (see `models`) or a Hugging Face repo id owner/name")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truncation", type=float, default=1.0, help="psi in [0, 2]; 1 = none")
    p.add_argument("--out", required=True, help="FILE.npz or FILE.png")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("train", help="train an image GAN and write weights + card")
    p.add_argument("family", choices=image_families())
    p.add_argument("--dataset", choices=["fashion", "mnist"], default="fashion")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--loss", choices=list(LOSSES), default="ns")
    p.add_argument("--d-steps", type=int, default=1)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--latent-dim", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--data-root", default=None, help="data folder (else $GAN_DEMO_DATA, else ./data)")
    p.add_argument("--resume", action="store_true", help="continue from OUT.ckpt.safetensors")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", required=True, help="path stem, e.g. weights/dcgan-fashion")
    p.set_defaults(func=cmd_train)

    from dataclasses import asdict

    from .training.toy import RECOMMENDED, RECOMMENDED_STEPS, ToyTrainConfig

    toy = {**asdict(ToyTrainConfig()), **RECOMMENDED}
    p = sub.add_parser("train-toy", help="train a GAN on a 1D/2D toy distribution, write samples + history")
    p.add_argument("--dataset", choices=["ring8", "grid25", "gauss1d", "spiral", "moons"], default="ring8")
    p.add_argument("--loss", choices=list(LOSSES), default=toy["loss"])
    p.add_argument("--minibatch-disc", action="store_true", help="minibatch discrimination in D")
    p.add_argument("--train-weaker", action="store_true", help="update only the network that is losing")
    p.add_argument("--d-steps", type=int, default=toy["d_steps"])
    p.add_argument("--steps", type=int, default=RECOMMENDED_STEPS)
    p.add_argument("--lr", type=float, default=toy["lr_d"], help="learning rate of D and G")
    p.add_argument("--constant-lr", action="store_true", help="no decay over the second half")
    p.add_argument("--batch-size", type=int, default=toy["batch_size"])
    p.add_argument("--pack", type=int, default=1, help="PacGAN: D judges this many samples at once")
    p.add_argument("--noise-dist", choices=["gaussian", "uniform"], default=toy["noise_dist"])
    p.add_argument("--minibatch-std", action=argparse.BooleanOptionalAction, default=None,
                   help="minibatch standard deviation feature in D (Karras et al. 2018); "
                        "default: on for grid25, off otherwise")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--out", required=True, help="FILE.npz")
    p.set_defaults(func=cmd_train_toy)
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
