"""``geovario train``: train GeoCLIP (or a variant) on a feature store; runs under torchrun."""

import argparse
import json
from pathlib import Path

from geovario.errors import GeovarioError
from geovario.losses import LOSSES
from geovario.losses.semivariogram import (
    DEFAULT_HARD_MARGIN,
    FALSE_NEGATIVE_MODES,
    RULES,
    SCALES,
)
from geovario.models import GEOCLIP_SIGMAS, ModelConfig
from geovario.models.config import INITS
from geovario.train import TrainConfig
from geovario.train.config import AMP_MODES

DEFAULTS = TrainConfig()


def register(subparsers) -> None:
    """Add the ``train`` command."""
    parser = subparsers.add_parser(
        "train", help="train on a feature store (also under torchrun)",
        description="Train the image head and location encoder on cached backbone features. "
        "Defaults are GeoCLIP's. Run under `torchrun --nproc_per_node N` for several GPUs.")
    parser.add_argument("--store", type=Path, help="training feature store")
    parser.add_argument("--out", type=Path, required=True, help="run directory")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last checkpoint (with "
                        "--epochs: extend it to that many epochs)")
    add_training_arguments(parser)
    parser.add_argument("--loss", choices=sorted(LOSSES), default=DEFAULTS.loss)
    group = parser.add_argument_group("semivariogram loss (--loss semivariogram)")
    group.add_argument("--variogram", type=Path, default=None,
                       help="variogram JSON of the training features (default: fitted on a "
                       "sample of the store into RUN_DIR/variogram.json)")
    group.add_argument("--hard-strength", type=float, default=1.0,
                       help="beta: hard negatives' weight exp(beta * residual)")
    group.add_argument("--max-weight", type=float, default=3.0,
                       help="upper bound of a hard negative's weight")
    group.add_argument("--hard-margin", type=float, default=DEFAULT_HARD_MARGIN,
                       help="m: a far pair is a hard negative only when it looks more alike "
                       "than expected by more than m per-lag spreads of the dissimilarity")
    group.add_argument("--false-negatives", choices=FALSE_NEGATIVE_MODES, default="downweight")
    group.add_argument("--false-strength", type=float, default=1.0,
                       help="lambda: false negatives' weight 1 - lambda * correlation, or "
                       "(soft-positive) their share of the target, at most lambda in all")
    group.add_argument("--residual-scale", choices=SCALES, default="sill")
    group.add_argument("--semivariogram-rule", choices=RULES, default="abstract",
                       help="abstract: the paper's reading; prototype: the April 2025 rule")
    group.add_argument("--refit-every", type=int, default=0, metavar="N",
                       help="refit the variogram on the image head's embeddings every N steps "
                       "(the loss then compares head embeddings); 0: never")
    group.add_argument("--refit-smoothing", type=float, default=DEFAULTS.refit_smoothing,
                       help="share of each refit blended into the current variogram")
    group.add_argument("--refit-sample", type=int, default=DEFAULTS.refit_sample,
                       help="training images embedded for each refit")
    parser.set_defaults(func=run)


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``train`` and ``ablate``: optimisation, queue, noise, model."""
    parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs)
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    parser.add_argument("--lr", type=float, default=DEFAULTS.lr)
    parser.add_argument("--weight-decay", type=float, default=DEFAULTS.weight_decay)
    parser.add_argument("--lr-decay", type=float, default=DEFAULTS.lr_decay,
                        help="learning-rate factor per epoch")
    parser.add_argument("--queue-size", type=int, default=DEFAULTS.queue_size)
    parser.add_argument("--batch-noise-m", type=float, default=DEFAULTS.batch_noise_m)
    parser.add_argument("--queue-noise-m", type=float, default=DEFAULTS.queue_noise_m)
    parser.add_argument("--no-noise", action="store_true", help="no GPS noise augmentation")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
    parser.add_argument("--val-fraction", type=float, default=DEFAULTS.val_fraction)
    parser.add_argument("--sigmas", default=",".join(f"{s:g}" for s in GEOCLIP_SIGMAS),
                        help="location-encoder scales, e.g. 1,16,256,4096")
    parser.add_argument("--init", choices=INITS, default=ModelConfig.init,
                        help="location: the published GeoCLIP location encoder only, image "
                        "head random and logit scale log(1/0.07) (the paper's set-up); "
                        "geoclip: every published part whose shape fits (location encoder, "
                        "768-d image head, trained logit scale); scratch: all random")
    parser.add_argument("--device", default=DEFAULTS.device)
    parser.add_argument("--amp", choices=AMP_MODES, default=DEFAULTS.amp,
                        help="bfloat16 autocast of the forward pass: auto (on CUDA only), "
                        "bf16 (on any device) or off; Fourier features always run in float32")
    parser.add_argument("--checkpoint-every", type=int, default=DEFAULTS.checkpoint_every)
    parser.add_argument("--log-every", type=int, default=DEFAULTS.log_every)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def configs_from_args(args: argparse.Namespace,
                      store_path: Path | None) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configs a command line asks for."""
    from geovario.store import open_store

    if store_path is None:
        raise GeovarioError("--store is required (or --resume with an existing run)")
    store = open_store(store_path)
    try:
        sigmas = tuple(float(s) for s in args.sigmas.split(","))
    except ValueError:
        raise GeovarioError(f"--sigmas: expected numbers separated by commas, got "
                            f"{args.sigmas!r}") from None
    model = ModelConfig(backbone=store.backbone, feature_dim=store.dim, sigmas=sigmas,
                        init=args.init, seed=args.seed)
    train = TrainConfig(
        train_store=str(store_path), epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, lr_decay=args.lr_decay, queue_size=args.queue_size,
        batch_noise_m=0.0 if args.no_noise else args.batch_noise_m,
        queue_noise_m=0.0 if args.no_noise else args.queue_noise_m, seed=args.seed,
        val_fraction=args.val_fraction, loss=getattr(args, "loss", "infonce"),
        loss_options=loss_options(args), refit_every=getattr(args, "refit_every", 0),
        refit_smoothing=getattr(args, "refit_smoothing", DEFAULTS.refit_smoothing),
        refit_sample=getattr(args, "refit_sample", DEFAULTS.refit_sample),
        device=args.device,
        amp=args.amp, checkpoint_every=args.checkpoint_every, log_every=args.log_every)
    return model, train


def loss_options(args: argparse.Namespace) -> dict:
    """The loss's options from the command line (none for InfoNCE)."""
    if getattr(args, "loss", None) != "semivariogram":
        return {}
    options = {"hard_strength": args.hard_strength, "max_weight": args.max_weight,
               "hard_margin": args.hard_margin,
               "false_negatives": args.false_negatives, "false_strength": args.false_strength,
               "residual_scale": args.residual_scale, "rule": args.semivariogram_rule}
    if args.variogram is not None:
        options["variogram"] = str(args.variogram.resolve())
    return options


def run(args: argparse.Namespace) -> int:
    """Train, then print the last epoch's summary as JSON."""
    from geovario import distributed
    from geovario.train import train

    try:
        if args.resume:
            epochs = args.epochs if args.epochs != DEFAULTS.epochs else None
            summary = train(args.out, resume=True, epochs=epochs, progress=not args.quiet)
        else:
            model, config = configs_from_args(args, args.store)
            summary = train(args.out, model, config, progress=not args.quiet)
        if distributed.rank() == 0:
            print(json.dumps(summary))
    finally:
        distributed.cleanup()
    return 0
