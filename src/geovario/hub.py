"""Runs on the Hugging Face Hub: ``hf:OWNER/NAME[@REVISION]`` references and ``push``.

Wherever geovario takes a run directory it also takes ``hf:OWNER/NAME[@REVISION]``:
:func:`resolve_run_dir` downloads the run's files once into the Hugging Face cache
(``huggingface_hub.snapshot_download``) and returns that folder, so the rest of
geovario only ever sees a local run directory. With ``HF_HUB_OFFLINE=1`` a run already
in the cache loads without the network. :func:`push_run` uploads what inference needs
and a model card generated from the run.
"""

import io
import json
import os
import re
from pathlib import Path

from geovario.errors import GeovarioError
from geovario.fileio import read_json
from geovario.rundir import (
    CONFIG_NAME,
    EVALUATION_NAME,
    GALLERY_CACHE_NAME,
    MODEL_CARD_NAME,
    VARIOGRAM_NAME,
    VARIOGRAM_PLOT_NAME,
    WEIGHTS_NAME,
    read_config,
    recorded_variogram,
    variogram_file,
)

HUB_PREFIX = "hf:"
#: The run files a Hub repository holds (besides the model card), and all a load fetches.
HUB_FILES = (CONFIG_NAME, WEIGHTS_NAME, VARIOGRAM_NAME, VARIOGRAM_PLOT_NAME, EVALUATION_NAME)
TAGS = ("geolocalization", "image-geolocation", "geoclip", "contrastive-learning")
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")

try:  # huggingface_hub >= 1.0 talks HTTP through httpx, whose errors are not OSErrors
    from httpx import HTTPError as _HttpxError
except ImportError:  # pragma: no cover - older huggingface_hub uses requests (OSError)
    _HttpxError = OSError
#: What talking to the Hub can raise (besides huggingface_hub's own HTTP errors).
HUB_ERRORS = (OSError, ValueError, _HttpxError)


def is_hub_ref(ref: str | Path) -> bool:
    """Whether a run reference names a Hub repository rather than a folder."""
    return str(ref).startswith(HUB_PREFIX)


def parse_hub_ref(ref: str) -> tuple[str, str | None]:
    """``hf:OWNER/NAME[@REVISION]`` → (repo id, revision or None).

    Raises:
        GeovarioError: "<ref>: not a Hugging Face run reference like hf:OWNER/NAME[@REVISION]".
    """
    repo_id, at, revision = ref.removeprefix(HUB_PREFIX).partition("@")
    if not _valid_repo_id(repo_id) or (at and not revision):
        raise GeovarioError(f"{ref}: not a Hugging Face run reference like "
                            "hf:OWNER/NAME[@REVISION]")
    return repo_id, revision or None


def _valid_repo_id(repo_id: str) -> bool:
    return bool(_REPO_ID.fullmatch(repo_id)) and ".." not in repo_id and "--" not in repo_id


def resolve_run_dir(ref: str | Path) -> Path:
    """The local folder of a run: ``ref`` itself, or a Hub run's snapshot in the HF cache.

    Only :data:`HUB_FILES` are downloaded, once; later calls read the cache (also with
    ``HF_HUB_OFFLINE=1``).

    Raises:
        GeovarioError: for a malformed ``hf:`` reference, a repository or revision the
            Hub does not have, a run neither reachable nor in the cache, or a repository
            that holds no geovario run.
    """
    if not is_hub_ref(ref):
        return Path(ref)
    import huggingface_hub
    from huggingface_hub.errors import (
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    repo_id, revision = parse_hub_ref(str(ref))
    try:
        folder = Path(huggingface_hub.snapshot_download(repo_id, revision=revision,
                                                        allow_patterns=list(HUB_FILES)))
    except RepositoryNotFoundError:
        raise GeovarioError(f"{ref}: no model repository {repo_id} on the Hugging Face Hub "
                            "(or it is private: log in with `hf auth login`)") from None
    except RevisionNotFoundError:
        raise GeovarioError(f"{ref}: the Hugging Face repository {repo_id} has no revision "
                            f"{revision!r}") from None
    except LocalEntryNotFoundError:
        why = ("HF_HUB_OFFLINE is set" if huggingface_hub.constants.HF_HUB_OFFLINE
               else "the Hub cannot be reached")
        raise GeovarioError(f"{ref}: not in the local Hugging Face cache and {why}") from None
    except HUB_ERRORS as error:
        raise GeovarioError(f"{ref}: cannot download from the Hugging Face Hub "
                            f"({_one_line(error)})") from None
    if not (folder / WEIGHTS_NAME).is_file() or not (folder / CONFIG_NAME).is_file():
        raise GeovarioError(f"{ref}: the repository holds no geovario run (no {WEIGHTS_NAME} "
                            f"and {CONFIG_NAME})")
    return folder


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


def run_files(run_dir: str | Path, repo_id: str, *, revision: str | None = None,
              datasets: tuple[str, ...] = ()) -> dict[str, Path | bytes]:
    """What :func:`push_run` uploads, by name in the repository: a file or generated bytes.

    Weights, config, the variogram the loss used (JSON and plot), ``evaluation.json`` if
    present and the model card. The uploaded config names the variogram as the run's own
    ``variogram.json``, so the pushed run is whole wherever it is downloaded.

    Raises:
        GeovarioError: "<run_dir>: no model.safetensors ..." for a folder without trained
            weights, "push: '<repo_id>' is not ..." for a malformed repository id,
            "<run>/config.json: the loss's variogram ... is not there ..." for a run that
            references a variogram it lacks, or "<file>: not valid JSON ..." for a damaged
            evaluation.json.
    """
    run_dir = Path(run_dir)
    if not (run_dir / WEIGHTS_NAME).is_file():
        raise GeovarioError(f"{run_dir}: no {WEIGHTS_NAME}; not a trained geovario run "
                            "(training writes it at the end of each epoch)")
    config = read_config(run_dir)
    if not _valid_repo_id(repo_id):
        raise GeovarioError(f"push: {repo_id!r} is not a Hugging Face repository id like "
                            "OWNER/NAME")
    files: dict[str, Path | bytes] = {
        name: run_dir / name for name in (WEIGHTS_NAME, CONFIG_NAME, EVALUATION_NAME)
        if (run_dir / name).is_file()}
    train = config.get("train", {})
    given = recorded_variogram(train)
    variogram = variogram_file(run_dir, given)
    fitted = None
    if variogram is not None:
        from geovario.variogram.fitted import FittedVariogram

        fitted = FittedVariogram.load(variogram)
        files[VARIOGRAM_NAME] = variogram
        files[VARIOGRAM_PLOT_NAME] = _plot_png(fitted)
        if given != VARIOGRAM_NAME:  # a run trained before runs kept a copy
            train["variogram"] = VARIOGRAM_NAME
            train.get("loss_options", {}).pop("variogram", None)
            files[CONFIG_NAME] = (json.dumps(config, indent=2) + "\n").encode()
    evaluation = read_json(files[EVALUATION_NAME]) if EVALUATION_NAME in files else None
    files[MODEL_CARD_NAME] = model_card(repo_id, config, revision=revision,
                                        evaluation=evaluation, variogram=fitted,
                                        datasets=datasets).encode()
    return files


def push_run(run_dir: str | Path, repo_id: str, *, private: bool = False,
             revision: str | None = None, commit_message: str | None = None,
             datasets: tuple[str, ...] = ()):
    """Upload :func:`run_files` (weights, config, variogram, evaluation, model card).

    The token is huggingface_hub's own (``hf auth login`` or ``HF_TOKEN``). ``revision``
    is a branch, created from main if missing. Returns huggingface_hub's ``CommitInfo``.

    Raises:
        GeovarioError: as :func:`run_files`, or "push: cannot upload ..." when the Hub
            refuses or cannot be reached.
    """
    import huggingface_hub

    run_dir = Path(run_dir)
    files = run_files(run_dir, repo_id, revision=revision, datasets=datasets)
    operations = [huggingface_hub.CommitOperationAdd(path_in_repo=name, path_or_fileobj=(
        str(content) if isinstance(content, Path) else content))
        for name, content in files.items()]
    api = huggingface_hub.HfApi()
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        if revision is not None:
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        return api.create_commit(repo_id, operations, revision=revision,
                                 commit_message=commit_message
                                 or f"Upload geovario run {run_dir.resolve().name}")
    except HUB_ERRORS as error:
        raise GeovarioError(f"push: cannot upload {run_dir} to Hugging Face model {repo_id} "
                            f"({_one_line(error)})") from None


def model_card(repo_id: str, config: dict, *, revision: str | None = None,
               evaluation: dict | None = None, variogram=None,
               datasets: tuple[str, ...] = ()) -> str:
    """The repository's README.md: metadata the Hub indexes, what the run is, how to use it.

    ``variogram`` is the :class:`~geovario.variogram.fitted.FittedVariogram` the loss used
    (its plot is expected beside the card as ``variogram.png``); ``evaluation`` the
    metrics of ``evaluation.json``.
    """
    from huggingface_hub import ModelCardData

    from geovario.metrics.compute import format_metric

    model, train = config.get("model", {}), config.get("train", {})
    loss = train.get("loss", "infonce")
    tags, text = _loss_card(loss)
    metadata = ModelCardData(library_name="geovario", datasets=list(datasets) or None,
                             tags=[*TAGS, *tags])
    ref = f"{HUB_PREFIX}{repo_id}" + (f"@{revision}" if revision else "")
    lines = ["---", metadata.to_yaml(), "---", "", f"# {repo_id}", "",
             f"A geovario run: GeoCLIP's image head and GPS location encoder, trained with "
             f"the {loss} loss on frozen `{model.get('backbone')}` features "
             f"({model.get('feature_dim')}-d)."]
    if text:
        lines[-1] += " " + text
    lines += ["", "## Use it", "",
              "With geovario installed, the run downloads once into the Hugging Face cache "
              "(afterwards it also loads with `HF_HUB_OFFLINE=1`); photos are embedded with "
              "the run's own backbone:", "", "```bash",
              f"geovario predict {ref} photo1.jpg photo2.png --top-k 5",
              f"geovario serve {ref}", "```", "", "```python",
              "from geovario import Predictor", "",
              f'predictor = Predictor("{ref}")',
              'for guess in predictor.predict("photo1.jpg", top_k=5):',
              "    print(guess.latitude, guess.longitude, guess.probability, guess.place)",
              "```"]
    if evaluation:
        lines += ["", "## Evaluation", "", "OSV-5M's metrics (`evaluation.json`):", "",
                  "| metric | value |", "|---|---|"]
        lines += [f"| {key} | {format_metric(key, value)} |" for key, value in evaluation.items()]
    if variogram is not None:
        lines += ["", "## Semivariogram", "",
                  f"![semivariogram of feature dissimilarity against distance]"
                  f"({VARIOGRAM_PLOT_NAME})", "",
                  f"{variogram.model} fit: nugget {variogram.nugget:.4g}, sill "
                  f"{variogram.sill:.4g}, practical range {variogram.range_km:,.0f} km "
                  f"(`{VARIOGRAM_NAME}`)."]
    settings = {"epochs": train.get("epochs"), "batch size": train.get("batch_size"),
                "learning rate": train.get("lr"), "queue size": train.get("queue_size"),
                "initialisation": model.get("init"), "location scales": model.get("sigmas"),
                **{key: value for key, value in train.get("loss_options", {}).items()
                   if key != "variogram"}}  # (older runs kept the variogram among them)
    lines += ["", "## Training", "", "| setting | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in settings.items() if value is not None]
    return "\n".join(lines) + "\n"


def _loss_card(loss: str) -> tuple[tuple[str, ...], str]:
    """The Hub tags and model-card sentence the loss declares.

    None for a loss this process does not know (registered by code it did not import).
    """
    from geovario.losses import LOSSES

    if loss not in LOSSES:
        return (), ""
    cls = LOSSES[loss]
    return cls.card_tags, cls.card_text


def _plot_png(fitted) -> bytes:
    """The variogram plot as PNG bytes (a bare Figure: no pyplot state)."""
    from geovario.variogram.plot import variogram_figure

    buffer = io.BytesIO()
    variogram_figure(fitted).savefig(buffer, format="png")
    return buffer.getvalue()


def _one_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
