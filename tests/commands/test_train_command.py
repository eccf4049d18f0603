"""``geovario train`` on the command line: settings, --resume, one-line errors."""

import json

import pytest
from tests.train.synthetic_testdata import make_store

from geovario.cli import main

COMMON = ["--batch-size", "64", "--queue-size", "128", "--init", "scratch", "--sigmas", "1,16",
          "--device", "cpu", "--quiet"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("train-command") / "store"
    make_store(path, n=256, dim=16)
    return path


def epochs_logged(run):
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r["epoch"] for r in lines if r.get("kind") == "epoch"]


def test_resume_with_the_default_epoch_count_extends_the_run(store, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--store", str(store), "--out", str(run), "--epochs", "1",
                 *COMMON]) == 0
    assert epochs_logged(run) == [0]
    capsys.readouterr()
    # 10 is --epochs' default: it must still count as asked for.
    assert main(["train", "--out", str(run), "--resume", "--epochs", "10", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["epoch"] == 9
    assert epochs_logged(run) == list(range(10))
    assert json.loads((run / "config.json").read_text())["train"]["epochs"] == 10


def test_resume_refuses_settings_it_would_ignore(store, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--store", str(store), "--out", str(run), "--epochs", "1",
                 *COMMON]) == 0
    capsys.readouterr()
    assert main(["train", "--out", str(run), "--resume", "--lr", "0.1", "--batch-size",
                 "256"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--batch-size, --lr would change them" in err
    assert json.loads((run / "config.json").read_text())["train"]["lr"] == 3e-5


def test_help_shows_every_settings_default(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in ("(default: 10)", "(default: 256)", "(default: 3e-05)", "(default: 4096)",
                  "(default: location)", "(default: auto)", "(default: 1)"):
        assert shown in text, shown
