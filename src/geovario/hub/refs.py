"""``hf:OWNER/NAME[@REVISION]`` run references, resolved to a local folder.

:func:`resolve_run_dir` downloads the run's files once into the Hugging Face cache
(``huggingface_hub.snapshot_download``) and returns that folder, so the rest of geovario
only ever sees a local run directory. With ``HF_HUB_OFFLINE=1`` a run already in the
cache loads without the network.
"""

import re
from pathlib import Path

from geovario.errors import input_error
from geovario.rundir import (
    CONFIG_NAME,
    EVALUATION_NAME,
    VARIOGRAM_NAME,
    VARIOGRAM_PLOT_NAME,
    WEIGHTS_NAME,
)

HUB_PREFIX = "hf:"
#: The run files a Hub repository holds (besides the model card), and all a load fetches.
HUB_FILES = (CONFIG_NAME, WEIGHTS_NAME, VARIOGRAM_NAME, VARIOGRAM_PLOT_NAME, EVALUATION_NAME)
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
    if not valid_repo_id(repo_id) or (at and not revision):
        raise input_error(ref, "not a Hugging Face run reference like hf:OWNER/NAME[@REVISION]")
    return repo_id, revision or None


def valid_repo_id(repo_id: str) -> bool:
    """Whether ``repo_id`` is a Hub repository id, ``OWNER/NAME``."""
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
        raise input_error(ref, f"no model repository {repo_id} on the Hugging Face Hub (or it "
                          "is private: log in with `hf auth login`)") from None
    except RevisionNotFoundError:
        raise input_error(ref, f"the Hugging Face repository {repo_id} has no revision "
                          f"{revision!r}") from None
    except LocalEntryNotFoundError:
        why = ("HF_HUB_OFFLINE is set" if huggingface_hub.constants.HF_HUB_OFFLINE
               else "the Hub cannot be reached")
        raise input_error(ref, f"not in the local Hugging Face cache and {why}") from None
    except HUB_ERRORS as error:
        raise input_error(ref, "cannot download from the Hugging Face Hub",
                          cause=error) from None
    if not (folder / WEIGHTS_NAME).is_file() or not (folder / CONFIG_NAME).is_file():
        raise input_error(ref, f"the repository holds no geovario run (no {WEIGHTS_NAME} and "
                          f"{CONFIG_NAME})")
    return folder
