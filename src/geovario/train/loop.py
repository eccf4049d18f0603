"""The training loop on a feature store: resumable, and the same under torchrun.

It writes a run directory (:mod:`geovario.rundir`): the config, ``metrics.jsonl`` (loss,
learning rate, logit scale, the loss's own statistics and samples/s every few steps; one
line per epoch) and its TensorBoard view, the full training state every
``checkpoint_every`` steps and at each epoch's end, and the weights for inference.
"""

import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

from geovario import distributed
from geovario.checkpoint import load_training_state, save_training_state, save_weights
from geovario.errors import GeovarioError
from geovario.losses import build_loss, loss_class
from geovario.models import ModelConfig, build_model
from geovario.models.queue import SampleQueue
from geovario.progress import progress_bar
from geovario.rundir import CHECKPOINT_NAME, CONFIG_NAME, LOG_NAME, WEIGHTS_NAME, variogram_file
from geovario.store import open_store
from geovario.train.config import TrainConfig
from geovario.train.data import StoreBatches, split_rows
from geovario.train.interrupt import StopRequests, TrainingInterrupted
from geovario.train.refit import VariogramRefitter
from geovario.train.runfiles import (
    own_variogram,
    read_run_config,
    read_world_size,
    with_absolute_paths,
    write_run_config,
)
from geovario.train.runlog import RunLog, settings_line
from geovario.train.step import contrastive_step
from geovario.train.tally import EpochTally
from geovario.train.tensorboard import TensorBoardLog, tensorboard_wanted
from geovario.train.validate import validate

#: ``on_epoch(summary, epochs)``: called on rank 0 with each epoch's line of the log.
EpochCallback = Callable[[dict, int], None]


def train(run_dir: str | Path, model_config: ModelConfig | None = None,
          config: TrainConfig | None = None, *, resume: bool = False,
          epochs: int | None = None, device: str | None = None, progress: bool = True,
          tensorboard: bool | None = None, on_epoch: EpochCallback | None = None) -> dict:
    """Train (or, with ``resume``, continue) a run; returns the last epoch's summary.

    ``config.batch_size`` is per process (per device), as in open_clip and timm: under
    torchrun the global batch is ``batch_size`` × world size, recorded in the run's config.
    ``epochs`` with ``resume`` extends a finished or interrupted run to that many epochs
    (the learning-rate schedule depends only on the epoch number, so nothing else moves);
    ``device`` with ``resume`` moves it to another device. Ctrl-C (or SIGTERM) finishes
    the step, saves a checkpoint and raises :class:`TrainingInterrupted`.
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
        config = replace(config, epochs=epochs or config.epochs,
                         device=device or config.device)
    elif (run_dir / CONFIG_NAME).exists():
        raise GeovarioError(f"{run_dir}: already holds a run; resume it with --resume or "
                            "choose another directory")
    else:
        config = with_absolute_paths(config)
    session = Training(run_dir, model_config, config, progress=progress,
                       tensorboard=tensorboard)
    session.on_epoch = on_epoch
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
        self.store.check_one_view("train")
        if self.store.dim != model_config.feature_dim:
            raise GeovarioError(f"train: {self.store.path} holds {self.store.dim}-d features, "
                                f"the model expects feature_dim={model_config.feature_dim}")
        needs_variogram = loss_class(config.loss).needs_variogram
        if config.refit_every and not needs_variogram:
            raise GeovarioError(f"train: refit_every needs a loss that uses a variogram; "
                                f"{config.loss!r} does not")
        # The run keeps its own copy of the variogram its loss uses, and records no other.
        config = replace(config, variogram=own_variogram(
            run_dir, config.variogram, self.store, config.seed, progress and self.main)
            if needs_variogram else None)
        self.config = config
        train_rows, self.val_rows = split_rows(len(self.store), config.val_fraction, config.seed)
        self.batches = StoreBatches(self.store, train_rows, config.batch_size, config.seed,
                                    self.rank, self.world)
        self.model = build_model(model_config).to(self.device)
        self.loss_fn = build_loss(config.loss, variogram=variogram_file(run_dir, config.variogram),
                                  **config.loss_options).to(self.device)
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
        self.on_epoch: EpochCallback | None = None

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
        self.loss_fn.set_extra_state(_saved_loss_state(self.position))

    def checkpoint(self, epoch: int, batch: int, step: int, tally: EpochTally) -> None:
        """Save the full training state (rank 0), then let every rank go on."""
        if self.main:
            save_training_state(self.run_dir / CHECKPOINT_NAME, model=self.model,
                                queue=self.queue, optimizer=self.optimizer,
                                generator=self.generator,
                                position={"epoch": epoch, "batch": batch, "step": step,
                                          "tally": tally.to_dict(),
                                          "loss_state": self.loss_fn.get_extra_state()},
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
            if self.board and self.loss_fn.needs_variogram:
                log.mirror.add_variogram(self.loss_fn.variogram)
            if self.progress and self.main:
                print(settings_line(self.config.loss, settings), file=sys.stderr)
        return log

    def run_epochs(self) -> dict:
        """Train from the current position to the last epoch; the last epoch's summary.

        Raises:
            TrainingInterrupted: after Ctrl-C or SIGTERM, once the state is saved.
        """
        network = DistributedDataParallel(self.model) if self.world > 1 else self.model
        log = self.open_log()
        summary: dict = {}
        try:
            with StopRequests() as stop:
                for epoch in range(self.position["epoch"], self.config.epochs):
                    summary = self.run_epoch(epoch, network, log, stop)
        finally:
            log.close()
        return summary

    def run_epoch(self, epoch: int, network, log: RunLog, stop: StopRequests) -> dict:
        """One epoch from the current position; its summary, as logged."""
        config, batches, model, step = self.config, self.batches, self.model, self.position["step"]
        start = self.position["batch"] if epoch == self.position["epoch"] else 0
        tally = EpochTally.from_dict(self.position.get("tally") if start else None)
        lr = config.lr_at_epoch(epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        bar = progress_bar(total=len(batches), initial=start, unit="batch",
                           desc=f"epoch {epoch + 1}/{config.epochs}",
                           enabled=self.progress and self.main)
        tick, seen, signum = time.perf_counter(), 0, 0
        for index, batch in enumerate(batches.epoch(epoch, start), start=start):
            out = contrastive_step(network, self.queue, self.loss_fn, batch, config,
                                   self.generator, self.device, self.feature_space)
            self.optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            self.optimizer.step()
            step += 1
            if self.refitter is not None and self.refitter.due(step):
                self.refitter.refit(model, self.loss_fn, step, self.device)
            # One gather: the mean loss, and whether any rank was asked to stop.
            shared = distributed.all_gather(torch.stack([
                out.loss.detach().float(), out.loss.new_tensor(stop.signum)]).reshape(1, 2))
            loss, signum = float(shared[:, 0].mean()), int(shared[:, 1].max())
            tally.add(loss, self.loss_fn.last_stats)
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
            if index + 1 < len(batches) and (signum or step % config.checkpoint_every == 0):
                self.checkpoint(epoch, index + 1, step, tally)
                if signum:
                    bar.close()
                    raise TrainingInterrupted(self.run_dir, epoch, config.epochs, step, signum)
        bar.close()
        summary = {"step": step, "epoch": epoch, "kind": "epoch", "lr": lr, **tally.means()}
        if len(self.val_rows) and self.main:
            summary.update(validate(model, self.store, self.val_rows, config.batch_size,
                                    self.device))
        summary["seconds"] = tally.seconds
        log.write(summary)
        if self.main:
            save_weights(self.run_dir / WEIGHTS_NAME, model, self.model_config.to_dict())
            if self.on_epoch is not None:
                self.on_epoch(summary, config.epochs)
        self.position = {"epoch": epoch + 1, "batch": 0, "step": step}
        self.checkpoint(epoch + 1, 0, step, EpochTally())
        if signum and epoch + 1 < config.epochs:
            raise TrainingInterrupted(self.run_dir, epoch + 1, config.epochs, step, signum)
        return summary


def _saved_loss_state(position: dict) -> dict:
    """The loss's state in a checkpoint's position.

    Older checkpoints kept a refitted variogram in the position itself, in the shape a
    variogram-guided loss's state has.
    """
    return position.get("loss_state", {key: position[key] for key in ("variogram",)
                                       if key in position})
