"""Loading runs by ``hf:OWNER/NAME[@REVISION]``: pushed runs predict as the local ones."""

import huggingface_hub
import huggingface_hub.constants
import numpy as np
import pytest
from tests.helpers.fake_hub import assert_one_line_error

from geovario.cli import main
from geovario.errors import GeovarioError
from geovario.hub.push import push_run
from geovario.hub.refs import HUB_FILES, resolve_run_dir
from geovario.inference import Predictor
from geovario.rundir import WEIGHTS_NAME
from geovario.store import open_store

REAL_SNAPSHOT_DOWNLOAD = huggingface_hub.snapshot_download


def predictions(run, runs):
    predictor = Predictor(run, gallery=f"store:{runs / 'train'}", device="cpu")
    return predictor.predict_features(open_store(runs / "test").features(np.arange(64)), k=3)


def assert_same(a, b):
    np.testing.assert_array_equal(a.topk_coords, b.topk_coords)
    np.testing.assert_array_equal(a.topk_probs, b.topk_probs)


def test_a_pushed_run_loads_by_name_and_predicts_as_the_local_run(runs, hub, tmp_path):
    push_run(runs / "run", "me/geo-run")
    assert sorted(hub.files("me/geo-run")) == sorted([*HUB_FILES, "README.md"])
    assert hub.files("me/geo-run")["variogram.png"].startswith(b"\x89PNG")
    assert_same(predictions("hf:me/geo-run", runs), predictions(runs / "run", runs))
    assert hub.downloads == [("me/geo-run", None, list(HUB_FILES))]
    folder = resolve_run_dir("hf:me/geo-run")
    assert folder.is_relative_to(tmp_path / "hf-cache")
    # The embedded gallery goes to geovario's user cache, not into huggingface_hub's.
    assert not (folder / "gallery-cache").exists()
    assert list((tmp_path / "user-cache" / "geovario" / "gallery-cache").glob("gallery-*"))


def test_a_revision_is_pushed_to_and_loaded_from_its_branch(runs, hub):
    push_run(runs / "run", "me/geo-run")
    commit = push_run(runs / "other", "me/geo-run", revision="exp", commit_message="other")
    assert hub.files("me/geo-run", "exp")[WEIGHTS_NAME] == (runs / "other" / WEIGHTS_NAME
                                                           ).read_bytes()
    assert 'Predictor("hf:me/geo-run@exp")' in hub.files("me/geo-run", "exp")[
        "README.md"].decode()
    other = predictions("hf:me/geo-run@exp", runs)
    assert hub.downloads[-1][:2] == ("me/geo-run", "exp")
    assert_same(other, predictions(runs / "other", runs))
    assert not np.array_equal(other.topk_probs, predictions("hf:me/geo-run", runs).topk_probs)
    assert_same(predictions(f"hf:me/geo-run@{commit.oid}", runs), other)


def test_offline_a_cached_run_loads_and_an_uncached_one_is_one_line(runs, hub, monkeypatch):
    push_run(runs / "run", "me/geo-run")
    online = predictions("hf:me/geo-run", runs)
    # From here on huggingface_hub's own snapshot_download, offline, reads the same cache.
    monkeypatch.setattr(huggingface_hub, "snapshot_download", REAL_SNAPSHOT_DOWNLOAD)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert_same(predictions("hf:me/geo-run", runs), online)
    with pytest.raises(GeovarioError, match=r"^hf:me/elsewhere: not in the local Hugging Face "
                       r"cache and HF_HUB_OFFLINE is set$"):
        resolve_run_dir("hf:me/elsewhere")


@pytest.mark.parametrize("ref, message", [
    ("hf:geo-run", "hf:geo-run: not a Hugging Face run reference like hf:OWNER/NAME[@REVISION]"),
    ("hf:me/geo-run@", "hf:me/geo-run@: not a Hugging Face run reference like "
                       "hf:OWNER/NAME[@REVISION]"),
    ("hf:me/nothing", "hf:me/nothing: no model repository me/nothing on the Hugging Face Hub "
                      "(or it is private: log in with `hf auth login`)"),
    ("hf:me/geo-run@v9", "hf:me/geo-run@v9: the Hugging Face repository me/geo-run has no "
                         "revision 'v9'"),
    ("hf:me/card-only", "hf:me/card-only: the repository holds no geovario run (no "
                        "model.safetensors and config.json)"),
])
def test_bad_run_references_are_one_line(runs, hub, capsys, ref, message):
    push_run(runs / "run", "me/geo-run")
    hub.create_repo("me/card-only")
    hub.create_commit("me/card-only", [huggingface_hub.CommitOperationAdd(
        "README.md", b"# hello")], commit_message="card")
    assert main(["predict", ref, "--store", str(runs / "test"), "--device", "cpu"]) == 2
    assert_one_line_error(capsys, "predict", message)
