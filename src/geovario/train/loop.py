"""The training loop on a feature store: resumable, and the same under torchrun.

It writes a run directory (:mod:`geovario.rundir`): the config, ``metrics.jsonl`` (loss,
learning rate, logit scale, the loss's own statistics and samples/s every few steps; one
line per epoch) and its TensorBoard view, the full training state every
``checkpoint_every`` steps and at each epoch's end, and the weights for inference.
"""

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from geovario import distributed
from geovario.checkpoint import load_training_state, save_training_state, save_weights
from geovario.errors import GeovarioError
from geovario.losses import build_loss
from geovario.models import ModelConfig, build_model
from geovario.models.queue import SampleQueue
from geovario.rundir import (
    CHECKPOINT_NAME,
    CONFIG_NAME,
    LOG_NAME,
    VARIOGRAM_NAME,
    WEIGHTS_NAME,
    read_model_config,
    read_train_section,
    write_config,
)
from geovario.store import open_store
from geovario.train.config import TrainConfig
from geovario.train.data import StoreBatches, split_rows
from geovario.train.refit import VariogramRefitter
from geovario.train.runlog import RunLog
from geovario.train.step import contrastive_step
from geovario.train.tensorboard import TensorBoardLog, tensorboard_wanted
from geovario.variogram.fitted import FittedVariogram


def read_run_config(run_dir: Path) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configs saved in a run directory.

    Raises:
        GeovarioError: "<run_dir>: no config.json ..." when the folder holds no run.
    """
    return (read_model_config(run_dir),
            TrainConfig.from_dict(read_train_section(run_dir), source=str(run_dir)))


def train(run_dir: str | Path, model_config: ModelConfig | None = None,
          config: TrainConfig | None = None, *, resume: bool = False,
          epochs: int | None = None, progress: bool = True,
          tensorboard: bool | None = None) -> dict:
    """Train (or, with ``resume``, continue) a run; returns the last epoch's summary.

    ``epochs`` with ``resume`` extends a finished or interrupted run to that many epochs
    (the learning-rate schedule depends only on the epoch number, so nothing else moves).
    ``tensorboard`` draws the log in ``RUN_DIR/tensorboard/`` as well (None: when the
    package is installed).

    Raises:
        GeovarioError: for a run directory that already holds a run (without ``resume``),
            a store whose feature dimension differs from the model's, a checkpoint of
            another model, or ``tensorboard=True`` without the tensorboard package.
    """
    run_dir = Path(run_dir)
    if resume:
        model_config, config = read_run_config(run_dir)
        if epochs is not None and epochs != config.epochs:
            config = replace(config, epochs=epochs)
            if distributed.rank() == 0:
                write_run_config(run_dir, model_config, config)
    elif (run_dir / CONFIG_NAME).exists():
        raise GeovarioError(f"{run_dir}: already holds a run; resume it with --resume or "
                            "choose another directory")
    _, device = distributed.init_distributed(distributed.resolve_device(config.device))
    rank, world = distributed.rank(), distributed.world_size()
    main = rank == 0
    board = main and tensorboard_wanted(tensorboard)  # refused before anything is written
    torch.manual_seed(config.seed)
    store = open_store(config.train_store)
    if store.dim != model_config.feature_dim:
        raise GeovarioError(f"train: {store.path} holds {store.dim}-d features, the model "
                            f"expects feature_dim={model_config.feature_dim}")
    if config.loss == "semivariogram" and "variogram" not in config.loss_options:
        config = replace(config, loss_options={**config.loss_options, "variogram": str(
            fit_run_variogram(run_dir, store, config.seed, progress and main))})
    train_rows, val_rows = split_rows(len(store), config.val_fraction, config.seed)
    batches = StoreBatches(store, train_rows, config.batch_size, config.seed, rank, world)

    model = build_model(model_config).to(device)
    options = dict(config.loss_options)
    if config.refit_every:
        options["feature_space"] = "head"
    loss_fn = build_loss(config.loss, **options).to(device)
    refitter = VariogramRefitter(store, train_rows, every=config.refit_every,
                                 smoothing=config.refit_smoothing, sample=config.refit_sample,
                                 seed=config.seed) if config.refit_every else None
    track = loss_fn.needs_features
    queue = SampleQueue(config.queue_size, store.dim if track else 0).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr,
                                 weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed + 1)
    position = {"epoch": 0, "batch": 0, "step": 0}
    if resume and (run_dir / CHECKPOINT_NAME).exists():
        position = load_training_state(run_dir / CHECKPOINT_NAME, model=model, queue=queue,
                                       optimizer=optimizer, generator=generator,
                                       model_config=model_config.to_dict())
        if "variogram" in position:
            loss_fn.set_variogram(FittedVariogram.from_dict(position["variogram"]))
    elif main:
        write_run_config(run_dir, model_config, config)
    if refitter is not None and position["step"] == 0:
        refitter.refit(model, loss_fn, 0, device, smoothing=1.0)
    network = DistributedDataParallel(model) if world > 1 else model
    log = RunLog(run_dir / LOG_NAME, enabled=main,
                 mirror=TensorBoardLog(run_dir, position["step"]) if board else None)
    log.rewind(position["step"])
    if position["step"] == 0 and loss_fn.settings():
        log.write({"step": 0, "kind": "loss", "loss": config.loss, **loss_fn.settings()})
        if board and config.loss == "semivariogram":
            log.mirror.add_variogram(loss_fn.variogram)
        if progress and main:
            print(f"train: {config.loss} loss {json.dumps(loss_fn.settings())}",
                  file=sys.stderr)

    def checkpoint(epoch: int, batch: int, step: int) -> None:
        if main:
            save_training_state(run_dir / CHECKPOINT_NAME, model=model, queue=queue,
                                optimizer=optimizer, generator=generator,
                                position={"epoch": epoch, "batch": batch, "step": step,
                                          **_loss_state(loss_fn, refitter)},
                                model_config=model_config.to_dict())
        distributed.barrier()

    summary: dict = {}
    step = position["step"]
    for epoch in range(position["epoch"], config.epochs):
        start = position["batch"] if epoch == position["epoch"] else 0
        lr = config.lr_at_epoch(epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        bar = tqdm(total=len(batches), initial=start, desc=f"epoch {epoch + 1}/{config.epochs}",
                   unit="batch", disable=not (progress and main))
        losses, tick, seen = [], time.perf_counter(), 0
        for index, batch in enumerate(batches.epoch(epoch, start), start=start):
            out = contrastive_step(network, queue, loss_fn, batch, config, generator, device)
            optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            optimizer.step()
            step += 1
            if refitter is not None and refitter.due(step):
                refitter.refit(model, loss_fn, step, device)
            loss = float(distributed.all_gather(out.loss.detach().reshape(1)).mean())
            losses.append(loss)
            seen += config.batch_size
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4f}")
            if step % config.log_every == 0:
                elapsed = time.perf_counter() - tick
                log.write({"step": step, "epoch": epoch, "loss": loss, "lr": lr,
                           "logit_scale": model.logit_scale.detach().exp().item(),
                           "samples_per_s": seen / max(elapsed, 1e-9),
                           **{k: float(v) for k, v in loss_fn.last_stats.items()}})
                tick, seen = time.perf_counter(), 0
            if step % config.checkpoint_every == 0 and index + 1 < len(batches):
                checkpoint(epoch, index + 1, step)
        bar.close()
        summary = {"step": step, "epoch": epoch, "kind": "epoch", "lr": lr,
                   "train_loss": float(np.mean(losses)) if losses else None}
        if len(val_rows) and main:
            summary.update(validate(model, store, val_rows, config.batch_size, device))
        log.write(summary)
        if main:
            save_weights(run_dir / WEIGHTS_NAME, model, model_config.to_dict())
        checkpoint(epoch + 1, 0, step)
    log.close()
    return summary


def _loss_state(loss_fn, refitter) -> dict:
    """What a resumed run needs of the loss: its refitted variogram, if it changes."""
    return {} if refitter is None else {"variogram": loss_fn.variogram.to_dict()}


def fit_run_variogram(run_dir: Path, store, seed: int, progress: bool) -> Path:
    """Fit the store's variogram once (rank 0) into ``RUN_DIR/variogram.json``."""
    path = run_dir / VARIOGRAM_NAME
    if distributed.rank() == 0 and not path.exists():
        from geovario.variogram.from_store import fit_store_variogram

        fit_store_variogram(store, seed=seed, progress=progress).save(path)
    distributed.barrier()
    return path


def write_run_config(run_dir: Path, model_config: ModelConfig, config: TrainConfig) -> None:
    """Write a run directory's config (read back by :func:`read_run_config`)."""
    write_config(run_dir, model_config, config.to_dict())


@torch.no_grad()
def validate(model, store, rows: np.ndarray, batch_size: int, device: torch.device) -> dict:
    """Loss and top-1 accuracy of each held-out image among its batch's locations."""
    model.eval()
    losses, hits, total = [], 0, 0
    coords = torch.from_numpy(store.coords.astype(np.float32))
    for first in range(0, len(rows) - 1, batch_size):
        chunk = rows[first:first + batch_size]
        if len(chunk) < 2:
            break
        features = torch.from_numpy(store.features(chunk)).to(device)
        logits = model.logits(features, coords[torch.from_numpy(chunk)].to(device)).float()
        targets = torch.arange(len(chunk), device=device)
        losses.append(float(F.cross_entropy(logits, targets)) * len(chunk))
        hits += int((logits.argmax(1) == targets).sum())
        total += len(chunk)
    model.train()
    return {"val_loss": sum(losses) / max(total, 1), "val_batch_top1": hits / max(total, 1)}
