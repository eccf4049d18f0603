"""The files of a run directory: written by training, read by inference and the tools.

A run directory holds ``config.json`` (model and training config), ``metrics.jsonl``
(the training log), ``checkpoint.safetensors`` (the full training state),
``model.safetensors`` (the weights inference needs), ``variogram.json`` (the fit the
loss used: a run holds its own copy, so a copied or pushed run is whole),
``tensorboard/`` (TensorBoard's view of the log), ``gallery-cache/`` (embedded
galleries) and, once evaluated, ``evaluation.json``, ``predictions.csv`` and (by
``ablate`` and the demo) ``evaluation-settings.json``, what it was evaluated on. A run
on the Hugging Face Hub also holds ``variogram.png`` and a model card. Only this module
knows the names.
"""

from pathlib import Path

from geovario import __version__
from geovario.errors import GeovarioError
from geovario.fileio import read_json, write_json_atomic
from geovario.models.config import ModelConfig

CONFIG_NAME = "config.json"
CHECKPOINT_NAME = "checkpoint.safetensors"
WEIGHTS_NAME = "model.safetensors"
LOG_NAME = "metrics.jsonl"
VARIOGRAM_NAME = "variogram.json"
VARIOGRAM_PLOT_NAME = "variogram.png"
MODEL_CARD_NAME = "README.md"
TENSORBOARD_NAME = "tensorboard"
GALLERY_CACHE_NAME = "gallery-cache"
EVALUATION_NAME = "evaluation.json"
PREDICTIONS_NAME = "predictions.csv"
EVALUATION_SETTINGS_NAME = "evaluation-settings.json"


def read_config(run_dir: str | Path) -> dict:
    """The raw ``config.json`` of a run: ``{"model": {...}, "train": {...}, ...}``.

    Raises:
        GeovarioError: "<run_dir>: no config.json ..." when the folder holds no run.
    """
    path = Path(run_dir) / CONFIG_NAME
    if not path.is_file():
        raise GeovarioError(f"{run_dir}: no {CONFIG_NAME}; not a geovario run directory")
    return read_json(path)


def read_model_config(run_dir: str | Path) -> ModelConfig:
    """The model config of a run, all inference needs to rebuild its network."""
    return ModelConfig.from_dict(_section(run_dir, "model"),
                                 source=str(Path(run_dir) / CONFIG_NAME))


def read_train_section(run_dir: str | Path) -> dict:
    """The training part of a run's config, as saved."""
    return _section(run_dir, "train")


def _section(run_dir: str | Path, name: str) -> dict:
    section = read_config(run_dir).get(name)
    if not isinstance(section, dict):
        raise GeovarioError(f"{Path(run_dir) / CONFIG_NAME}: no {name!r} section")
    return section


def write_config(run_dir: str | Path, model_config: ModelConfig, train: dict,
                 **facts) -> None:
    """Write a run's ``config.json``: the training config, and facts about how it ran.

    ``train`` is the training config as a plain dict; ``facts`` are top-level keys such
    as ``world_size`` and ``global_batch_size``.
    """
    write_json_atomic(Path(run_dir) / CONFIG_NAME, {"geovario_version": __version__,
                                                    "model": model_config.to_dict(),
                                                    "train": train, **facts})


def recorded_variogram(train: dict) -> str | None:
    """The variogram a run's config records (its ``train`` section), or None.

    Runs written before the variogram was a run setting kept it in ``loss_options``.
    """
    return train.get("variogram", train.get("loss_options", {}).get("variogram"))


def variogram_file(run_dir: str | Path, given: str | None) -> Path | None:
    """The variogram file a run uses (``given`` as its config records it), or None.

    A run records ``"variogram": "variogram.json"``, its own copy; runs trained before it
    kept one recorded the path they were given, which serves while it exists, else the
    run's own ``variogram.json``.

    Raises:
        GeovarioError: "<run>/config.json: the loss's variogram <path> is not there ..."
    """
    if given is None:
        return None
    for path in (Path(run_dir) / given, Path(run_dir) / VARIOGRAM_NAME):
        if path.is_file():
            return path
    raise GeovarioError(f"{Path(run_dir) / CONFIG_NAME}: the loss's variogram {given} is not "
                        f"there, nor a {VARIOGRAM_NAME} in the run")
