"""What a run reference names: a run folder, a run on the Hub, or a built-in model.

Wherever geovario takes a run it takes three kinds of reference:

- a folder written by ``geovario train`` (``runs/sv``);
- ``hf:OWNER/NAME[@REVISION]``, a run pushed to the Hugging Face Hub (see
  :mod:`geovario.hub.refs`);
- a built-in name: ``geoclip`` is the published GeoCLIP (CLIP ViT-L/14 features, its
  image head, location encoder and logit scale, from the ``geoclip`` package), ready
  without training. A folder that happens to be called ``geoclip`` is ``./geoclip``.
"""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from geovario.checkpoint import load_weights
from geovario.errors import GeovarioError
from geovario.hub.refs import is_hub_ref, resolve_run_dir
from geovario.models.config import ModelConfig
from geovario.rundir import CONFIG_NAME, GALLERY_CACHE_NAME, WEIGHTS_NAME, read_model_config

#: Built-in run names and what they are.
BUILTIN_RUNS = {"geoclip": "the published GeoCLIP (CLIP ViT-L/14 + its 100K gallery)"}


@dataclass(frozen=True)
class LoadedRun:
    """A run's model (on the CPU, in eval mode) and where its files and caches live.

    Attributes:
        ref: the reference as given.
        config: the model's shape and the backbone it expects.
        model: the ``GeoCLIP`` model with the run's weights.
        gallery_cache: folder for its embedded galleries (None: no cache).
        own_folder: the user's run folder, where outputs such as predictions may go
            (None for a Hub snapshot or a built-in model).
    """

    ref: str
    config: ModelConfig
    model: object
    gallery_cache: Path | None
    own_folder: Path | None


def is_builtin(ref: str | Path) -> bool:
    """Whether ``ref`` is a built-in model's name (as a string; ``./geoclip`` is a folder)."""
    return isinstance(ref, str) and ref in BUILTIN_RUNS


def load_run(ref: str | Path, cache: bool = True) -> LoadedRun:
    """Load the model a run reference names.

    Raises:
        GeovarioError: "<ref>: no config.json; not a geovario run directory ..." (naming
            the references that work) for a folder that is not a run; or for a checkpoint
            that does not fit its config, a Hub reference that cannot be resolved, or a
            built-in model whose package files are missing.
    """
    if is_builtin(ref):
        from geovario.models.pretrained import PUBLISHED_CONFIG, published_geoclip

        if (Path(ref) / CONFIG_NAME).is_file():
            print(f"note: {ref!r} is geovario's built-in {BUILTIN_RUNS[ref]}; write "
                  f"./{ref} for the run folder of that name", file=sys.stderr)
        return LoadedRun(str(ref), PUBLISHED_CONFIG, published_geoclip().eval(),
                         user_gallery_cache_dir() if cache else None, None)
    from geovario.models.geoclip import GeoCLIP

    if not is_hub_ref(ref) and not (Path(ref) / CONFIG_NAME).is_file():
        raise GeovarioError(f"{ref}: no {CONFIG_NAME}; not a geovario run directory (give one "
                            "written by geovario train, hf:OWNER/NAME, or "
                            f"{' or '.join(BUILTIN_RUNS)} for the published model)")
    run_dir = resolve_run_dir(ref)
    config = read_model_config(run_dir)
    model = GeoCLIP(config)
    load_weights(run_dir / WEIGHTS_NAME, model, config.to_dict())
    return LoadedRun(str(ref), config, model.eval(),
                     gallery_cache_dir(ref) if cache else None,
                     None if is_hub_ref(ref) else Path(ref))


def gallery_cache_dir(ref: str | Path) -> Path:
    """Where a run's embedded galleries are kept.

    A local run keeps them in its own folder. A Hub run's snapshot belongs to
    huggingface_hub's cache, so they go to geovario's user cache instead, shared by every
    Hub run (each file is keyed by the weights and the gallery).
    """
    if not is_hub_ref(ref):
        return Path(ref) / GALLERY_CACHE_NAME
    return user_gallery_cache_dir()


def user_gallery_cache_dir() -> Path:
    """The gallery cache of runs without a folder of their own (Hub runs, built-in models)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "geovario" / GALLERY_CACHE_NAME
