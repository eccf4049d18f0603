"""Checkpoints as safetensors files, written atomically.

``model.safetensors`` holds the model's weights for inference; ``checkpoint.safetensors``
holds everything a resumed run needs to continue bit for bit: weights, queue, Adam's
moments, the noise generator and the position in the epoch. Both carry the model config
as JSON metadata, so a checkpoint from another model is refused with a clear message.
"""

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open

from geovario.errors import GeovarioError, input_error
from geovario.fileio import save_tensors_atomic

FORMAT = "geovario.checkpoint"


def _save_checkpoint(tensors: dict[str, torch.Tensor], path: Path, metadata: dict) -> None:
    save_tensors_atomic(tensors, path, {k: json.dumps(v) for k, v in metadata.items()})


def read_metadata(path: Path) -> dict:
    """The JSON metadata of a checkpoint file.

    Raises:
        GeovarioError: "<path>: ..." when the file is missing or not a geovario checkpoint.
    """
    if not Path(path).is_file():
        raise GeovarioError(f"{path}: no such checkpoint")
    try:
        with safe_open(str(path), framework="pt") as handle:
            raw = handle.metadata() or {}
    except (SafetensorError, OSError) as error:
        raise input_error(path, "not a safetensors checkpoint", cause=error) from None
    meta = {k: json.loads(v) for k, v in raw.items()}
    if meta.get("format") != FORMAT:
        raise GeovarioError(f"{path}: not a geovario checkpoint")
    return meta


def save_weights(path: Path, model: torch.nn.Module, model_config: dict) -> None:
    """Model weights and config, for evaluation and prediction."""
    _save_checkpoint(model.state_dict(), Path(path), {"format": FORMAT, "model": model_config})


def load_weights(path: Path, model: torch.nn.Module, model_config: dict) -> None:
    """Load weights into ``model``, refusing a checkpoint made for another config.

    Raises:
        GeovarioError: "<path>: checkpoint was made for a different model (...)" naming the
            first differing config key, or the first missing/mismatched tensor.
    """
    meta = read_metadata(path)
    _check_config(path, meta.get("model", {}), model_config)
    _load_state(path, model, load_file(str(path)), prefix="")


def _check_config(path: Path, saved: dict, expected: dict) -> None:
    for key in sorted(set(saved) | set(expected)):
        if saved.get(key) != expected.get(key):
            raise GeovarioError(f"{path}: checkpoint was made for a different model "
                                f"({key}: {saved.get(key)!r} in the checkpoint, "
                                f"{expected.get(key)!r} in the config)")


def _load_state(path: Path, module: torch.nn.Module, tensors: dict, prefix: str) -> None:
    own = module.state_dict()
    for name, value in own.items():
        saved = tensors.get(prefix + name)
        if saved is None:
            raise GeovarioError(f"{path}: tensor {prefix + name!r} is missing")
        if saved.shape != value.shape:
            raise GeovarioError(f"{path}: tensor {prefix + name!r} has shape "
                                f"{tuple(saved.shape)}, the model expects {tuple(value.shape)}")
    module.load_state_dict({name: tensors[prefix + name] for name in own})


def save_training_state(path: Path, *, model: torch.nn.Module, queue: torch.nn.Module,
                        optimizer: torch.optim.Optimizer, generator: torch.Generator,
                        position: dict, model_config: dict) -> None:
    """Everything needed to resume: weights, queue, optimizer, RNG and position."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"queue.{k}": v for k, v in queue.state_dict().items()})
    optim = optimizer.state_dict()
    for index, state in optim["state"].items():
        for key, value in state.items():
            tensors[f"optimizer.{index}.{key}"] = torch.as_tensor(value)
    tensors["rng.noise"] = generator.get_state()
    metadata = {"format": FORMAT, "model": model_config, "position": position,
                "param_groups": optim["param_groups"]}
    _save_checkpoint(tensors, Path(path), metadata)


def load_training_state(path: Path, *, model: torch.nn.Module, queue: torch.nn.Module,
                        optimizer: torch.optim.Optimizer, generator: torch.Generator,
                        model_config: dict) -> dict:
    """Restore what :func:`save_training_state` wrote; returns the saved position.

    Raises:
        GeovarioError: as :func:`load_weights`, for a checkpoint of another model.
    """
    meta = read_metadata(path)
    _check_config(path, meta.get("model", {}), model_config)
    tensors = load_file(str(path))
    _load_state(path, model, tensors, prefix="model.")
    _load_state(path, queue, tensors, prefix="queue.")
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    generator.set_state(tensors["rng.noise"])
    return meta["position"]
