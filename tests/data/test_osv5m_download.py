"""The real download code, pointed at a local fake of the Hub (nothing leaves the machine)."""

import shutil
from pathlib import Path

import huggingface_hub
import pytest
from huggingface_hub.errors import LocalEntryNotFoundError
from tests.helpers.osv5m_testdata import make_osv5m

from geovario.cli import main
from geovario.data.osv5m import REPO_ID, download_osv5m, load_osv5m
from geovario.errors import GeovarioError


class FakeHub:
    """Serves files from a local folder the way hf_hub_download/list_repo_files would."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.calls: list[tuple[str, bool]] = []

    def files(self) -> list[str]:
        return sorted(p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*")
                      if p.is_file())

    def list_repo_files(self, repo_id, *, repo_type=None, **_):
        assert (repo_id, repo_type) == (REPO_ID, "dataset")
        return self.files()

    def hf_hub_download(self, repo_id, filename, *, repo_type=None, local_dir=None,
                        force_download=False, **_):
        assert (repo_id, repo_type) == (REPO_ID, "dataset")
        self.calls.append((filename, force_download))
        source = self.folder / filename
        if not source.is_file():
            raise LocalEntryNotFoundError("An error happened while trying to locate the file on "
                                          "the Hub and we cannot find the requested files in "
                                          "the local cache.\nPlease check your connection.")
        target = Path(local_dir) / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return str(target)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    folder = tmp_path / "hub"
    make_osv5m(folder, "train")
    make_osv5m(folder, "test")
    shutil.copyfile(folder / "images" / "train" / "01.zip", folder / "images" / "train" / "02.zip")
    (folder / "README.md").write_text("fake")
    fake = FakeHub(folder)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake.hf_hub_download)
    monkeypatch.setattr(huggingface_hub, "list_repo_files", fake.list_repo_files)
    return fake


def test_chosen_shards_land_at_their_repository_paths(hub, tmp_path):
    root = tmp_path / "data"
    report = download_osv5m(root, "train", shards=[0, 2])
    assert [c for c, _ in hub.calls] == ["train.csv", "images/train/00.zip",
                                         "images/train/02.zip"]
    assert report.fetched == [root / "train.csv", root / "images/train/00.zip",
                              root / "images/train/02.zip"]
    assert not (root / "images/train/01.zip").exists()
    for name in ("train.csv", "images/train/00.zip"):
        assert (root / name).read_bytes() == (hub.folder / name).read_bytes()
    # 02.zip is a copy of 01.zip: together with 00.zip they hold every image but MISSING's.
    assert len(load_osv5m(root, "train", present_only=True)) == 12 - 1


def test_rerun_skips_complete_files_without_calling_the_hub(hub, tmp_path):
    root = tmp_path / "data"
    download_osv5m(root, "test", num_shards=2)
    hub.calls.clear()
    report = download_osv5m(root, "test", num_shards=2)
    assert hub.calls == [] and report.fetched == []
    assert report.present == [root / "test.csv", root / "images/test/00.zip",
                              root / "images/test/01.zip"]


def test_a_zip_cut_short_is_fetched_again(hub, tmp_path):
    root = tmp_path / "data"
    download_osv5m(root, "train", shards=[1])
    shard = root / "images/train/01.zip"
    shard.write_bytes(shard.read_bytes()[:200])
    hub.calls.clear()
    report = download_osv5m(root, "train", shards=[1])
    assert hub.calls == [("images/train/01.zip", True)]
    assert report.present == [root / "train.csv"]
    assert shard.read_bytes() == (hub.folder / "images/train/01.zip").read_bytes()


def test_all_shards_of_the_split_from_the_listing(hub, tmp_path):
    root = tmp_path / "data"
    download_osv5m(root, "train")
    assert [c for c, _ in hub.calls] == ["train.csv", "images/train/00.zip",
                                         "images/train/01.zip", "images/train/02.zip"]


def test_missing_file_names_the_repository_and_the_file(hub, tmp_path):
    with pytest.raises(GeovarioError, match=r"^osv5m download: cannot fetch images/train/07.zip "
                       r"from Hugging Face dataset osv5m/osv5m into .*LocalEntryNotFoundError"):
        download_osv5m(tmp_path / "data", "train", shards=[7])


def test_offline_listing_asks_for_explicit_shards(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr(huggingface_hub, "list_repo_files", offline)
    with pytest.raises(GeovarioError, match=r"cannot list the files of Hugging Face dataset "
                       r"osv5m/osv5m .*--shards or --num-shards"):
        download_osv5m(tmp_path, "train")


def test_download_command(hub, tmp_path, monkeypatch, capsys):
    root = tmp_path / "data"
    assert main(["download", "osv5m", "--root", str(root), "--split", "train",
                 "--shards", "0-1"]) == 0
    assert "download: 3 fetched, 0 already present" in capsys.readouterr().out
    assert main(["download", "osv5m", "--root", str(root), "--shards", "0,1"]) == 0
    assert "download: 0 fetched, 3 already present" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--shards", "0,x"], "--shards '0,x' is not a list of shard numbers like 0,1,4-7"),
    (["--shards", "0", "--num-shards", "2"], "give --shards or --num-shards, not both"),
    (["--num-shards", "0"], "--num-shards must be a positive integer, got 0"),
])
def test_download_command_errors_are_one_line(hub, tmp_path, monkeypatch, capsys, argv, message):
    assert main(["download", "osv5m", "--root", str(tmp_path), *argv]) == 2
    assert capsys.readouterr().err == f"geovario download: error: {message}\n"


def test_download_command_refuses_a_split_that_is_not_train_or_test(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["download", "osv5m", "--root", str(tmp_path), "--split", "val"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.endswith(
        "geovario download: error: argument --split: invalid choice: 'val' (choose from "
        "'train', 'test')\n")
