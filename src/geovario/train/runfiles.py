"""What training keeps in a run folder besides its log and checkpoint: config, variogram.

A run folder is whole: it holds (or its checkpoint records) everything needed to
predict, evaluate, resume and push it, so a copied or pushed run works from any folder.
"""

from dataclasses import replace
from pathlib import Path

from geovario import distributed
from geovario.checkpoint import read_metadata
from geovario.fileio import write_bytes_atomic
from geovario.models import ModelConfig
from geovario.rundir import (
    CHECKPOINT_NAME,
    VARIOGRAM_NAME,
    read_config,
    read_model_config,
    read_train_section,
    write_config,
)
from geovario.train.config import TrainConfig
from geovario.variogram.fitted import FittedVariogram


def read_run_config(run_dir: Path) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configs saved in a run directory.

    Raises:
        GeovarioError: "<run_dir>: no config.json ..." when the folder holds no run.
    """
    return (read_model_config(run_dir),
            TrainConfig.from_dict(read_train_section(run_dir), source=str(run_dir)))


def with_absolute_paths(config: TrainConfig) -> TrainConfig:
    """A new run's config with its store and variogram as absolute paths.

    The command line's paths are relative to the folder it ran in; the run must find
    them from any other (a resume elsewhere, a copy of the run).
    """
    variogram = None if config.variogram is None else str(Path(config.variogram).resolve())
    return replace(config, train_store=str(Path(config.train_store).resolve()),
                   variogram=variogram)


def own_variogram(run_dir: Path, given: str | None, store, seed: int, progress: bool) -> str:
    """Give the run its own ``variogram.json`` (rank 0); the name config.json records.

    A file ``given`` is copied in (so a run recorded before runs kept their own copy gets
    one on resume); without one, the store's variogram is fitted once. The run folder so
    holds everything it needs, wherever it is moved.
    """
    path = run_dir / VARIOGRAM_NAME
    if distributed.rank() == 0 and given not in (None, VARIOGRAM_NAME):
        source = run_dir / given  # as given (absolute), or as an older run recorded it
        source = path if not source.is_file() and path.is_file() else source
        FittedVariogram.load(source)  # a missing or bad file ends here, in one line
        if source != path:
            write_bytes_atomic(path, source.read_bytes())
    elif distributed.rank() == 0 and given is None and not path.exists():
        from geovario.variogram.from_store import fit_store_variogram

        fit_store_variogram(store, seed=seed, progress=progress).save(path)
    distributed.barrier()
    return VARIOGRAM_NAME


def write_run_config(run_dir: Path, model_config: ModelConfig, config: TrainConfig,
                     world_size: int = 1) -> None:
    """Write a run's config (read by :func:`read_run_config`) and its global batch."""
    write_config(run_dir, model_config, config.to_dict(), world_size=world_size,
                 global_batch_size=config.batch_size * world_size)


def read_world_size(run_dir: Path) -> int:
    """How many processes trained the run (1 for runs written before it was recorded)."""
    return int(read_config(run_dir).get("world_size", 1))


def trained_epochs(run_dir: Path) -> int:
    """How many epochs a run has finished, by its checkpoint (0 without one)."""
    path = Path(run_dir) / CHECKPOINT_NAME
    return int(read_metadata(path)["position"]["epoch"]) if path.is_file() else 0
