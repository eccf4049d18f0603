"""Runs on the Hub: push, load by ``hf:`` name, predict; against a local fake of the Hub.

As in the OSV-5M download tests, the real geovario code runs and only huggingface_hub's
network calls (HfApi, snapshot_download) are replaced by :class:`FakeHub`. The fake writes
the Hugging Face cache layout, so the offline test uses the real ``snapshot_download``.
"""

import fnmatch
import hashlib
import json
import shutil
from pathlib import Path

import httpx
import huggingface_hub
import numpy as np
import pytest
import torch
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError
from tests.helpers.synthetic_testdata import make_store

from geovario.checkpoint import save_weights
from geovario.cli import main
from geovario.errors import GeovarioError
from geovario.fileio import write_json_atomic
from geovario.hub import HUB_FILES, push_run, resolve_run_dir
from geovario.inference import Predictor, evaluate
from geovario.losses.semivariogram import PAPER_ARXIV
from geovario.models import GeoCLIP, ModelConfig
from geovario.rundir import EVALUATION_NAME, WEIGHTS_NAME
from geovario.store import open_store
from geovario.train import TrainConfig, train

REAL_SNAPSHOT_DOWNLOAD = huggingface_hub.snapshot_download
SMALL = ModelConfig(backbone="synthetic", feature_dim=32, init="scratch", sigmas=(1.0, 16.0),
                    hidden=64, frequencies=16)


def _http_error(cls, url: str):
    return cls(f"404 Client Error for url: {url}",
               response=httpx.Response(404, request=httpx.Request("GET", url)))


class FakeHub:
    """Model repositories in memory: commits of files, branches pointing at commits."""

    def __init__(self) -> None:
        self.repos: dict[str, dict] = {}
        self.downloads: list[tuple[str, str | None, list[str]]] = []

    def api(self, **_):  # stands in for the HfApi class: HfApi(...) is this hub
        return self

    def create_repo(self, repo_id, *, private=False, exist_ok=False, **_):
        assert exist_ok or repo_id not in self.repos
        self.repos.setdefault(repo_id, {"private": private, "branches": {"main": "0" * 40},
                                        "commits": {"0" * 40: {}}})

    def create_branch(self, repo_id, *, branch, exist_ok=False, **_):
        branches = self.repos[repo_id]["branches"]
        assert exist_ok or branch not in branches
        branches.setdefault(branch, branches["main"])

    def create_commit(self, repo_id, operations, *, commit_message, revision=None, **_):
        repo = self.repos[repo_id]
        branch = revision or "main"
        files = dict(repo["commits"][repo["branches"][branch]])
        for operation in operations:
            with operation.as_file() as handle:
                files[operation.path_in_repo] = handle.read()
        oid = hashlib.sha1(repr(sorted(files.items())).encode()).hexdigest()
        repo["commits"][oid], repo["branches"][branch] = files, oid
        return huggingface_hub.CommitInfo(
            commit_url=f"https://huggingface.co/{repo_id}/commit/{oid}",
            commit_message=commit_message, commit_description="", oid=oid)

    def files(self, repo_id, revision="main") -> dict[str, bytes]:
        repo = self.repos[repo_id]
        return repo["commits"][repo["branches"][revision]]

    def snapshot_download(self, repo_id, *, revision=None, allow_patterns=None, **_):
        """Write the files into the HF cache as the real one does: refs/ and snapshots/."""
        self.downloads.append((repo_id, revision, allow_patterns))
        if repo_id not in self.repos:
            raise _http_error(RepositoryNotFoundError, f"https://huggingface.co/api/models/"
                                                       f"{repo_id}")
        revision = revision or "main"
        repo = self.repos[repo_id]
        commit = repo["branches"].get(revision, revision if revision in repo["commits"]
                                      else None)
        if commit is None:
            raise _http_error(RevisionNotFoundError, f"https://huggingface.co/api/models/"
                                                     f"{repo_id}/revision/{revision}")
        storage = Path(huggingface_hub.constants.HF_HUB_CACHE) / ("models--" + repo_id.replace(
            "/", "--"))
        snapshot = storage / "snapshots" / commit
        snapshot.mkdir(parents=True, exist_ok=True)
        for name, data in repo["commits"][commit].items():
            if allow_patterns is None or any(fnmatch.fnmatch(name, p) for p in allow_patterns):
                (snapshot / name).write_bytes(data)
        if revision != commit:
            (storage / "refs").mkdir(exist_ok=True)
            (storage / "refs" / revision).write_text(commit)
        return str(snapshot)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A small semivariogram run with its evaluation, another with other weights, stores."""
    root = tmp_path_factory.mktemp("hub-runs")
    make_store(root / "train", n=512, seed=0)
    make_store(root / "test", n=64, seed=1)
    train(root / "run", SMALL, TrainConfig(train_store=str(root / "train"), epochs=1,
                                           batch_size=64, queue_size=128, lr=1e-3,
                                           loss="semivariogram"), progress=False)
    gallery = f"store:{root / 'train'}"
    metrics = evaluate(Predictor(root / "run", gallery=gallery, device="cpu", cache=False),
                       root / "test")
    write_json_atomic(root / "run" / EVALUATION_NAME, metrics)
    shutil.copytree(root / "run", root / "other")
    torch.manual_seed(1)
    save_weights(root / "other" / WEIGHTS_NAME, GeoCLIP(SMALL), SMALL.to_dict())
    return root


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """The fake Hub, and a Hugging Face cache and geovario user cache of this test's own."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    fake = FakeHub()
    monkeypatch.setattr(huggingface_hub, "HfApi", fake.api)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake.snapshot_download)
    return fake


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


def test_the_model_card_has_metadata_metrics_plot_and_usage(runs, hub):
    push_run(runs / "run", "me/geo-run", datasets=("osv5m/osv5m",))
    card = huggingface_hub.ModelCard(hub.files("me/geo-run")["README.md"].decode())
    assert card.data.library_name == "geovario"
    assert {"geolocalization", "image-geolocation", "geoclip", "semivariogram",
            f"arxiv:{PAPER_ARXIV}"} <= set(card.data.tags)
    assert card.data.datasets == ["osv5m/osv5m"]
    metrics = json.loads((runs / "run" / EVALUATION_NAME).read_text())
    assert f"| acc_25km | {100 * metrics['acc_25km']:.2f} % |" in card.text
    assert f"| n | {metrics['n']} |" in card.text
    assert "](variogram.png)" in card.text
    assert 'Predictor("hf:me/geo-run")' in card.text
    assert "geovario predict hf:me/geo-run " in card.text


def test_an_infonce_run_without_evaluation_gets_no_paper_tag_and_no_table(runs, hub, tmp_path):
    run = tmp_path / "plain"
    run.mkdir()
    for name in ("config.json", WEIGHTS_NAME):
        shutil.copy(runs / "run" / name, run / name)
    config = json.loads((run / "config.json").read_text())
    config["train"].update(loss="infonce", loss_options={}, variogram=None)
    (run / "config.json").write_text(json.dumps(config))
    push_run(run, "me/plain")
    assert sorted(hub.files("me/plain")) == ["README.md", "config.json", WEIGHTS_NAME]
    card = huggingface_hub.ModelCard(hub.files("me/plain")["README.md"].decode())
    assert not any(tag.startswith("arxiv:") for tag in card.data.tags)
    assert "## Evaluation" not in card.text and card.data.datasets is None


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


def test_push_predict_and_evaluate_commands(runs, hub, tmp_path, monkeypatch, capsys):
    assert main(["push", str(runs / "run"), "me/cli-run", "--private"]) == 0
    out = capsys.readouterr().out
    assert "https://huggingface.co/me/cli-run/commit/" in out and "hf:me/cli-run" in out
    assert hub.repos["me/cli-run"]["private"] is True
    common = ["--store", str(runs / "test"), "--gallery", f"store:{runs / 'train'}",
              "--device", "cpu", "--json"]
    assert main(["predict", "hf:me/cli-run", "--ids", "s1,s2", "--top-k", "2", *common]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["run"] == "hf:me/cli-run" and len(result["results"]) == 2
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", "hf:me/cli-run", *common]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 64
    assert (tmp_path / "predictions-test.csv").is_file()  # not inside the Hugging Face cache


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
    one_line_error(capsys, "predict", message)


def one_line_error(capsys, command: str, message: str) -> None:
    """The error as ``geovario <command>: error: ...`` on one line, whether or not the CLI
    drops a message's own ``<command>: `` prefix."""
    err = capsys.readouterr().err
    assert err.startswith(f"geovario {command}: error: ") and err.count("\n") == 1, err
    assert err.endswith(message + "\n"), err


def test_bad_push_input_is_one_line(runs, hub, tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["push", str(tmp_path / "empty"), "me/x"]) == 2
    one_line_error(capsys, "push", f"{tmp_path / 'empty'}: no model.safetensors; not a trained "
                   "geovario run (training writes it at the end of each epoch)")
    assert main(["push", str(runs / "run"), "geo-run"]) == 2
    one_line_error(capsys, "push", "'geo-run' is not a Hugging Face repository id like "
                   "OWNER/NAME")
    shutil.copytree(runs / "run", tmp_path / "damaged")
    (tmp_path / "damaged" / EVALUATION_NAME).write_text("{")
    assert main(["push", str(tmp_path / "damaged"), "me/x"]) == 2
    assert f"error: {tmp_path / 'damaged' / EVALUATION_NAME}: not valid JSON (" in \
        capsys.readouterr().err

    def refused(*args, **kwargs):
        raise _http_error(HfHubHTTPError, "https://huggingface.co/api/repos/create")

    monkeypatch.setattr(hub, "create_repo", refused)
    assert main(["push", str(runs / "run"), "me/x"]) == 2
    one_line_error(capsys, "push", f"cannot upload {runs / 'run'} to Hugging Face model me/x "
                   "(HfHubHTTPError: 404 Client Error for url: "
                   "https://huggingface.co/api/repos/create)")


def test_a_run_that_named_an_outside_variogram_is_pushed_whole(runs, hub, tmp_path):
    """Runs trained before runs kept their own copy recorded the path they were given."""
    run, outside = tmp_path / "old", tmp_path / "shared" / "v.json"
    shutil.copytree(runs / "run", run)
    outside.parent.mkdir()
    (run / "variogram.json").rename(outside)
    config = json.loads((run / "config.json").read_text())
    del config["train"]["variogram"]  # older runs kept it among the loss's options
    config["train"]["loss_options"]["variogram"] = str(outside)
    (run / "config.json").write_text(json.dumps(config))

    push_run(run, "me/old")
    files = hub.files("me/old")
    assert files["variogram.json"] == outside.read_bytes()
    pushed = json.loads(files["config.json"])
    assert pushed["train"]["variogram"] == "variogram.json"
    assert "variogram" not in pushed["train"]["loss_options"]
    assert pushed["model"] == config["model"]
    outside.unlink()  # now the run references a file that is gone
    with pytest.raises(GeovarioError) as error:
        push_run(run, "me/old")
    assert str(error.value) == (f"{run / 'config.json'}: the loss's variogram {outside} is not "
                                "there, nor a variogram.json in the run")
