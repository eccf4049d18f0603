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
    read_config,
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

    ``config.batch_size`` is per process (per device), as in open_clip and timm: under
    torchrun the global batch is ``batch_size`` × world size, recorded in the run's config.
    ``epochs`` with ``resume`` extends a finished or interrupted run to that many epochs
    (the learning-rate schedule depends only on the epoch number, so nothing else moves).
    ``tensorboard`` draws the log in ``RUN_DIR/tensorboard/`` as well (None: when the
    package is installed).

    Raises:
        GeovarioError: for a run directory that already holds a run (without ``resume``),
            a resume with another number of processes, a store whose feature dimension
            differs from the model's, a checkpoint of another model, or
            ``tensorboard=True`` without the tensorboard package.
    """
    run_dir = Path(run_dir)
    if resume:
        model_config, config = read_run_config(run_dir)
        if epochs is not None:
            config = replace(config, epochs=epochs)
    elif (run_dir / CONFIG_NAME).exists():
        raise GeovarioError(f"{run_dir}: already holds a run; resume it with --resume or "
                            "choose another directory")
    session = Training(run_dir, model_config, config, progress=progress,
                       tensorboard=tensorboard)
    session.resume() if resume else session.start()
    return session.run_epochs()


class Training:
    """One training run: set up from the configs, then started or resumed, then run."""

    def __init__(self, run_dir: Path, model_config: ModelConfig, config: TrainConfig, *,
                 progress: bool, tensorboard: bool | None):
        _, self.device = distributed.init_distributed(config.device)  # resolves "auto"
        self.rank, self.world = distributed.rank(), distributed.world_size()
        self.main = self.rank == 0
        self.board = self.main and tensorboard_wanted(tensorboard)  # refused before writing
        self.run_dir, self.model_config, self.progress = run_dir, model_config, progress
        torch.manual_seed(config.seed)
        self.store = open_store(config.train_store)
        if self.store.dim != model_config.feature_dim:
            raise GeovarioError(f"train: {self.store.path} holds {self.store.dim}-d features, "
                                f"the model expects feature_dim={model_config.feature_dim}")
        if config.loss == "semivariogram" and "variogram" not in config.loss_options:
            config = replace(config, loss_options={**config.loss_options, "variogram": str(
                fit_run_variogram(run_dir, self.store, config.seed, progress and self.main))})
        self.config = config
        train_rows, self.val_rows = split_rows(len(self.store), config.val_fraction, config.seed)
        self.batches = StoreBatches(self.store, train_rows, config.batch_size, config.seed,
                                    self.rank, self.world)
        self.model = build_model(model_config).to(self.device)
        self.loss_fn = build_loss(config.loss, **config.loss_options).to(self.device)
        #: A refitted variogram describes image-head embeddings, so the loss compares those.
        self.feature_space = "head" if config.refit_every else "backbone"
        self.refitter = VariogramRefitter(
            self.store, train_rows, every=config.refit_every, smoothing=config.refit_smoothing,
            sample=config.refit_sample, seed=config.seed) if config.refit_every else None
        features = self.store.dim if self.loss_fn.needs_features else 0
        self.queue = SampleQueue(config.queue_size, features).to(self.device)
        # The fused kernel makes one pass over each parameter where the default CPU Adam
        # makes about ten: a sixth of a CPU step before (benchmarks/RESULTS.md, "Demo").
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr,
                                          weight_decay=config.weight_decay,
                                          fused=self.device.type == "cpu" or None)
        self.generator = torch.Generator().manual_seed(config.seed + 1)
        self.position = {"epoch": 0, "batch": 0, "step": 0}

    def start(self) -> None:
        """A new run: write its config, fit the first head-space variogram if refitting."""
        if self.main:
            write_run_config(self.run_dir, self.model_config, self.config, self.world)
        if self.refitter is not None:
            self.refitter.refit(self.model, self.loss_fn, 0, self.device, smoothing=1.0)

    def resume(self) -> None:
        """Load the checkpoint (if any): weights, queue, optimizer, noise and position.

        Raises:
            GeovarioError: "<run>: trained by N processes ..." for another world size,
                since the global batch (and so every step) would differ.
        """
        saved = read_world_size(self.run_dir)
        if saved != self.world:
            raise GeovarioError(f"{self.run_dir}: trained by {saved} process(es) (global "
                                f"batch {saved * self.config.batch_size}); resume it with "
                                f"the same number, not {self.world}")
        path = self.run_dir / CHECKPOINT_NAME
        if not path.exists():
            return self.start()
        if self.main:  # --epochs may have changed
            write_run_config(self.run_dir, self.model_config, self.config, self.world)
        self.position = load_training_state(
            path, model=self.model, queue=self.queue, optimizer=self.optimizer,
            generator=self.generator, model_config=self.model_config.to_dict())
        if "variogram" in self.position:
            self.loss_fn.set_variogram(FittedVariogram.from_dict(self.position["variogram"]))

    def checkpoint(self, epoch: int, batch: int, step: int) -> None:
        """Save the full training state (rank 0), then let every rank go on."""
        if self.main:
            save_training_state(self.run_dir / CHECKPOINT_NAME, model=self.model,
                                queue=self.queue, optimizer=self.optimizer,
                                generator=self.generator,
                                position={"epoch": epoch, "batch": batch, "step": step,
                                          **_loss_state(self.loss_fn, self.refitter)},
                                model_config=self.model_config.to_dict())
        distributed.barrier()

    def open_log(self) -> RunLog:
        """The run's log from the resumed step on, with the loss's settings at step 0."""
        step = self.position["step"]
        log = RunLog(self.run_dir / LOG_NAME, enabled=self.main,
                     mirror=TensorBoardLog(self.run_dir, step) if self.board else None)
        log.rewind(step)
        settings = self.loss_fn.settings()
        if step == 0 and settings:
            log.write({"step": 0, "kind": "loss", "loss": self.config.loss, **settings})
            if self.board and self.config.loss == "semivariogram":
                log.mirror.add_variogram(self.loss_fn.variogram)
            if self.progress and self.main:
                print(f"train: {self.config.loss} loss {json.dumps(settings)}", file=sys.stderr)
        return log

    def run_epochs(self) -> dict:
        """Train from the current position to the last epoch; the last epoch's summary."""
        config, batches, model = self.config, self.batches, self.model
        network = DistributedDataParallel(model) if self.world > 1 else model
        log = self.open_log()
        summary: dict = {}
        step = self.position["step"]
        for epoch in range(self.position["epoch"], config.epochs):
            start = self.position["batch"] if epoch == self.position["epoch"] else 0
            lr = config.lr_at_epoch(epoch)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            bar = tqdm(total=len(batches), initial=start, unit="batch",
                       desc=f"epoch {epoch + 1}/{config.epochs}",
                       disable=not (self.progress and self.main))
            losses, tick, seen = [], time.perf_counter(), 0
            for index, batch in enumerate(batches.epoch(epoch, start), start=start):
                out = contrastive_step(network, self.queue, self.loss_fn, batch, config,
                                       self.generator, self.device, self.feature_space)
                self.optimizer.zero_grad(set_to_none=True)
                out.loss.backward()
                self.optimizer.step()
                step += 1
                if self.refitter is not None and self.refitter.due(step):
                    self.refitter.refit(model, self.loss_fn, step, self.device)
                loss = float(distributed.all_gather(out.loss.detach().reshape(1)).mean())
                losses.append(loss)
                seen += batches.global_size
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4f}")
                if step % config.log_every == 0:
                    elapsed = time.perf_counter() - tick
                    log.write({"step": step, "epoch": epoch, "loss": loss, "lr": lr,
                               "logit_scale": model.logit_scale.detach().exp().item(),
                               "samples_per_s": seen / max(elapsed, 1e-9),
                               **{k: float(v) for k, v in self.loss_fn.last_stats.items()}})
                    tick, seen = time.perf_counter(), 0
                if step % config.checkpoint_every == 0 and index + 1 < len(batches):
                    self.checkpoint(epoch, index + 1, step)
            bar.close()
            summary = {"step": step, "epoch": epoch, "kind": "epoch", "lr": lr,
                       "train_loss": float(np.mean(losses)) if losses else None}
            if len(self.val_rows) and self.main:
                summary.update(validate(model, self.store, self.val_rows, config.batch_size,
                                        self.device))
            log.write(summary)
            if self.main:
                save_weights(self.run_dir / WEIGHTS_NAME, model, self.model_config.to_dict())
            self.checkpoint(epoch + 1, 0, step)
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


def write_run_config(run_dir: Path, model_config: ModelConfig, config: TrainConfig,
                     world_size: int = 1) -> None:
    """Write a run's config (read by :func:`read_run_config`) and its global batch."""
    write_config(run_dir, model_config, config.to_dict(), world_size=world_size,
                 global_batch_size=config.batch_size * world_size)


def read_world_size(run_dir: Path) -> int:
    """How many processes trained the run (1 for runs written before it was recorded)."""
    return int(read_config(run_dir).get("world_size", 1))


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
