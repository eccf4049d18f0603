"""``geovario train``: train GeoCLIP (or a variant) on a feature store; runs under torchrun."""

import argparse
import shlex
import sys
from dataclasses import fields
from pathlib import Path

from geovario.commands.options import add_device, add_folder, add_quiet, required_folder
from geovario.errors import GeovarioError
from geovario.losses import BUILT_IN_LOSSES
from geovario.losses.options import LOSS_OPTIONS, option_flag, parse_loss_options
from geovario.models.config import GEOCLIP_SIGMAS, INITS, ModelConfig
from geovario.rundir import CONFIG_NAME, WEIGHTS_NAME
from geovario.train import TrainConfig
from geovario.train.config import AMP_MODES

DEFAULTS = TrainConfig()
#: ``--tensorboard``: what ``train(tensorboard=...)`` gets for each choice. (Not ``--log``:
#: torchrun's own parser would take that for an abbreviation of its ``--log-dir``.)
TENSORBOARD_MODES = {"auto": None, "on": True, "off": False}
#: Every run setting's default, by argparse dest. The options themselves default to None,
#: so that ``--resume`` can tell which ones the user gave.
SETTINGS: dict[str, object] = {}


def _setting(parser, flag: str, default, help: str = "", **kwargs) -> None:
    """Add a run setting: default None on the command line, the real default in its help."""
    shown = default if not isinstance(default, float) else f"{default:g}"
    parser.add_argument(flag, default=None, help=f"{help} (default: {shown})".lstrip(),
                        **kwargs)
    SETTINGS[flag.lstrip("-").replace("-", "_")] = default


def setting(args: argparse.Namespace, dest: str):
    """The value of a run setting: what the command line gave, else its default."""
    value = getattr(args, dest, None)
    return SETTINGS[dest] if value is None else value


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``train`` command."""
    parser.description = (
        "Train the image head and location encoder on cached backbone features. "
        "Defaults are GeoCLIP's. Run under `torchrun --nproc_per_node N` for several GPUs.")
    add_folder(parser, "RUN", "run folder: where training writes the model, or the run "
               "--resume continues")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in RUN from its last checkpoint with the "
                        "settings it was started with (--epochs N extends it to N epochs, "
                        "--device moves it; other settings are refused)")
    parser.add_argument("--store", type=Path, help="training feature store")
    parser.add_argument("--tensorboard", choices=list(TENSORBOARD_MODES), default="auto",
                        help="also draw metrics.jsonl as TensorBoard logs in RUN/tensorboard "
                        "(`tensorboard --logdir RUN`); auto: when the tensorboard package "
                        "is installed (default: auto)")
    add_training_arguments(parser)
    add_device(parser, "training", unset=f"{DEFAULTS.device}; with --resume, the run's own")
    SETTINGS["device"] = DEFAULTS.device
    _setting(parser, "--loss", DEFAULTS.loss, "contrastive loss, by its registered name "
             f"(built in: {', '.join(BUILT_IN_LOSSES)})")
    parser.add_argument("--loss-option", action="append", default=[], metavar="KEY=VALUE",
                        help="an option of the chosen loss, e.g. hard_strength=1 or a "
                        "registered loss's own; repeatable, and over the flags below")
    group = parser.add_argument_group("the run's variogram (a loss that uses one)")
    group.add_argument("--variogram", type=Path, default=None,
                       help="variogram JSON of the training features (default: fitted on a "
                       "sample of the store into RUN/variogram.json)")
    _setting(group, "--refit-every", 0, "refit the variogram on the image head's embeddings "
             "every N steps (the loss then compares head embeddings); 0: never", type=int,
             metavar="N")
    _setting(group, "--refit-smoothing", DEFAULTS.refit_smoothing, "share of each refit "
             "blended into the current variogram", type=float)
    _setting(group, "--refit-sample", DEFAULTS.refit_sample, "training images embedded for "
             "each refit", type=int)
    for name in LOSS_OPTIONS:
        add_loss_arguments(parser.add_argument_group(f"{name} loss (--loss {name})"), name)
    parser.set_defaults(func=run)


def add_loss_arguments(group, loss: str) -> None:
    """A built-in loss's options as flags, from its options dataclass (``train``, ``ablate``)."""
    for option in fields(LOSS_OPTIONS[loss]):
        kind = {} if option.metadata["choices"] else {"type": type(option.default)}
        _setting(group, option_flag(option), option.default, option.metadata["help"],
                 choices=option.metadata["choices"], **kind)


def flag_options(args: argparse.Namespace, loss: str) -> dict:
    """A built-in loss's options as its flags set them (defaults where not given)."""
    options_class = LOSS_OPTIONS.get(loss)
    if options_class is None:
        return {}
    return {option.name: setting(args, _dest(option)) for option in fields(options_class)}


def _dest(option) -> str:
    return option_flag(option).lstrip("-").replace("-", "_")


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``train`` and ``ablate``: optimisation, queue, noise, model, --quiet."""
    _setting(parser, "--epochs", DEFAULTS.epochs, "training epochs", type=int)
    _setting(parser, "--batch-size", DEFAULTS.batch_size, "batch size per process (per "
             "device); under torchrun the global batch is this × the number of processes",
             type=int)
    _setting(parser, "--lr", DEFAULTS.lr, "Adam's learning rate", type=float)
    _setting(parser, "--weight-decay", DEFAULTS.weight_decay, "Adam's weight decay", type=float)
    _setting(parser, "--lr-decay", DEFAULTS.lr_decay, "learning-rate factor per epoch",
             type=float)
    _setting(parser, "--queue-size", DEFAULTS.queue_size, "GPS queue length", type=int)
    _setting(parser, "--batch-noise-m", DEFAULTS.batch_noise_m, "GPS noise on batch points, "
             "metres", type=float)
    _setting(parser, "--queue-noise-m", DEFAULTS.queue_noise_m, "GPS noise on queue points, "
             "metres", type=float)
    _setting(parser, "--no-noise", False, "no GPS noise augmentation", action="store_true")
    _setting(parser, "--seed", DEFAULTS.seed, "seed of initialisation, batch order and noise",
             type=int)
    _setting(parser, "--val-fraction", DEFAULTS.val_fraction, "share of the store held out "
             "for validation", type=float)
    _setting(parser, "--sigmas", ",".join(f"{s:g}" for s in GEOCLIP_SIGMAS),
             "location-encoder scales, e.g. 1,16,256,4096")
    _setting(parser, "--init", ModelConfig.init, "location: the published GeoCLIP location "
             "encoder only, image head random and logit scale log(1/0.07) (the paper's "
             "set-up); geoclip: every published part whose shape fits (location encoder, "
             "768-d image head, trained logit scale); scratch: all random", choices=INITS)
    _setting(parser, "--amp", DEFAULTS.amp, "bfloat16 autocast of the forward pass: auto (where "
             "the hardware multiplies bfloat16 natively: CUDA, CPUs with AVX512-BF16 or AMX), "
             "bf16 (on any device) or off; Fourier features always run in "
             "float32", choices=AMP_MODES)
    _setting(parser, "--checkpoint-every", DEFAULTS.checkpoint_every, "steps between "
             "checkpoints", type=int)
    _setting(parser, "--log-every", DEFAULTS.log_every, "steps between metrics.jsonl lines",
             type=int)
    add_quiet(parser)


def configs_from_args(args: argparse.Namespace,
                      store_path: Path | None) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configs a command line asks for."""
    from geovario.store import open_store

    if store_path is None:
        raise GeovarioError("--store is required (or --resume with an existing run)")
    store = open_store(store_path)
    store.check_one_view("train")
    sigmas_text = setting(args, "sigmas")
    try:
        sigmas = tuple(float(s) for s in sigmas_text.split(","))
    except ValueError:
        raise GeovarioError(f"--sigmas: expected numbers separated by commas, got "
                            f"{sigmas_text!r}") from None
    model = ModelConfig(backbone=store.backbone, feature_dim=store.dim, sigmas=sigmas,
                        init=setting(args, "init"), seed=setting(args, "seed"))
    noise = not setting(args, "no_noise")
    names = ("epochs", "batch_size", "lr", "weight_decay", "lr_decay", "queue_size", "seed",
             "val_fraction", "device", "amp", "checkpoint_every", "log_every")
    train = TrainConfig(
        train_store=str(store_path), **{name: setting(args, name) for name in names},
        batch_noise_m=setting(args, "batch_noise_m") if noise else 0.0,
        queue_noise_m=setting(args, "queue_noise_m") if noise else 0.0,
        loss=setting(args, "loss") if hasattr(args, "loss") else DEFAULTS.loss,
        loss_options=loss_options(args) if hasattr(args, "loss") else {},
        variogram=str(args.variogram.resolve()) if getattr(args, "variogram", None) else None,
        **{name: setting(args, name) for name in ("refit_every", "refit_smoothing",
                                                  "refit_sample") if hasattr(args, name)})
    return model, train


def loss_options(args: argparse.Namespace) -> dict:
    """The chosen loss's options: its flags', then ``--loss-option KEY=VALUE`` over them.

    Raises:
        GeovarioError: "--hard-strength is an option of the semivariogram loss, not of
            infonce" for another built-in loss's flag, or a malformed ``--loss-option``.
    """
    loss = setting(args, "loss")
    for other, options_class in LOSS_OPTIONS.items():
        given = [option_flag(f) for f in fields(options_class)
                 if getattr(args, _dest(f), None) is not None]
        if other != loss and given:
            raise GeovarioError(f"{given[0]} is an option of the {other} loss, not of {loss} "
                                f"(use --loss {other}, or --loss-option for {loss}'s own)")
    pairs = getattr(args, "loss_option", [])
    return {**flag_options(args, loss), **parse_loss_options(pairs, _options_class(loss, pairs))}


def _options_class(loss: str, pairs: list[str]) -> type | None:
    """The loss's options class; a registered loss's is looked up only when needed (torch)."""
    if loss in LOSS_OPTIONS or not pairs:
        return LOSS_OPTIONS.get(loss)
    from geovario.losses import loss_class

    return loss_class(loss).options_class


def refused_on_resume(args: argparse.Namespace) -> list[str]:
    """The run settings given on a ``--resume`` command line that would change the run.

    ``--epochs`` extends it and ``--device`` only says where it runs; others are refused.
    """
    given = [dest for dest in SETTINGS
             if dest not in ("epochs", "device") and getattr(args, dest, None)]
    given += ["store"] if args.store is not None else []
    given += ["variogram"] if args.variogram is not None else []
    given += ["loss_option"] if args.loss_option else []
    return ["--" + dest.replace("_", "-") for dest in given]


def epoch_line(summary: dict, epochs: int) -> str:
    """An epoch's summary for the terminal: ``epoch 3/6  loss 4.12  hard 18 %  41 s``."""
    parts = [f"epoch {summary['epoch'] + 1}/{epochs}"]
    if summary.get("train_loss") is not None:
        parts.append(f"loss {summary['train_loss']:.3g}")
    for key, label in (("hard_share", "hard"), ("false_share", "false"),
                       ("penalised_share", "penalised"), ("val_batch_top1", "val top-1")):
        if key in summary:
            parts.append(f"{label} {100 * summary[key]:.0f} %")
    if "val_loss" in summary:
        parts.append(f"val loss {summary['val_loss']:.3g}")
    parts.append(duration(summary.get("seconds", 0.0)))
    return "  ".join(parts)


def duration(seconds: float) -> str:
    """``41 s``, ``3 min 05 s`` or ``2 h 07 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _print_epoch(summary: dict, epochs: int) -> None:
    print(epoch_line(summary, epochs), flush=True)


def run(args: argparse.Namespace) -> int:
    """Train, printing one line per epoch; Ctrl-C saves and says how to go on (exit 130)."""
    from geovario import distributed
    from geovario.train.interrupt import TrainingInterrupted

    args.run = required_folder(args.run, "RUN")
    resume = f"geovario train {shlex.quote(str(args.run))} --resume"
    try:
        return _train(args, resume)
    except TrainingInterrupted as stop:
        if distributed.rank() == 0:
            print(f"train: stopped at step {stop.step:,} (epoch {stop.epoch + 1}/{stop.epochs}) "
                  f"and saved; go on with: {resume}", file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:  # before training began, or a second Ctrl-C
        if distributed.rank() == 0:
            again = (f"go on from the last checkpoint with: {resume}"
                     if (args.run / CONFIG_NAME).is_file()
                     else "nothing was saved yet; run the same command again")
            print(f"train: interrupted; {again}", file=sys.stderr)
        return 130
    finally:
        distributed.cleanup()


def _train(args: argparse.Namespace, resume: str) -> int:
    from geovario import distributed
    from geovario.train import train
    from geovario.train.runfiles import read_run_config, trained_epochs

    options = dict(progress=not args.quiet, tensorboard=TENSORBOARD_MODES[args.tensorboard],
                   on_epoch=_print_epoch)
    if args.resume:
        refused = refused_on_resume(args)
        if refused:
            raise GeovarioError(f"--resume keeps the settings in {args.run}/config.json; "
                                f"{', '.join(refused)} would change them (only --epochs "
                                "extends a run; start another RUN to change more)")
        done, planned = trained_epochs(args.run), read_run_config(args.run)[1].epochs
        if done >= (args.epochs or planned):
            print(f"{args.run} has finished all {done} epochs; add --epochs N (more than "
                  f"{done}) to train further")
            return 0
        train(args.run, resume=True, epochs=args.epochs, device=args.device, **options)
    else:
        model, config = configs_from_args(args, args.store)
        train(args.run, model, config, **options)
    if distributed.rank() == 0:
        print(f"train: done; the model is in {args.run / WEIGHTS_NAME}; evaluate it with: "
              f"geovario evaluate {shlex.quote(str(args.run))} --store TEST_STORE")
    return 0
