"""``geovario train`` on the command line: settings, --resume, one-line errors."""

import json
import os
from pathlib import Path

import pytest
from tests.helpers.synthetic_testdata import make_store

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
    assert main(["train", str(run), "--store", str(store), "--epochs", "1",
                 *COMMON]) == 0
    assert epochs_logged(run) == [0]
    capsys.readouterr()
    # 10 is --epochs' default: it must still count as asked for.
    assert main(["train", str(run), "--resume", "--epochs", "10", "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[0] for line in lines[:-1]] == [f"epoch {e}/10" for e in
                                                           range(2, 11)]
    assert lines[-1] == (f"train: done; the model is in {run / 'model.safetensors'}; evaluate "
                         f"it with: geovario evaluate {run} --store TEST_STORE")
    assert epochs_logged(run) == list(range(10))
    assert json.loads((run / "config.json").read_text())["train"]["epochs"] == 10


def test_resume_refuses_settings_it_would_ignore(store, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(run), "--store", str(store), "--epochs", "1",
                 *COMMON]) == 0
    capsys.readouterr()
    assert main(["train", str(run), "--resume", "--lr", "0.1", "--batch-size",
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


def test_resume_may_move_a_run_to_another_device(store, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(run), "--store", str(store), "--epochs", "1",
                 *COMMON]) == 0
    assert main(["train", str(run), "--resume", "--epochs", "2", "--device", "cpu",
                 "--quiet"]) == 0
    assert epochs_logged(run) == [0, 1]
    assert main(["train", str(run), "--resume", "--epochs", "3", "--device",
                 "cuda:7"]) == 2
    assert "--device cuda:7: " in capsys.readouterr().err


@pytest.mark.parametrize("summary, line", [
    ({"epoch": 2, "train_loss": 4.1234, "hard_share": 0.183, "false_share": 0.0712,
      "seconds": 41.4}, "epoch 3/6  loss 4.12  hard 18 %  false 7 %  41 s"),
    ({"epoch": 0, "train_loss": 0.01234, "val_loss": 3.456, "val_batch_top1": 0.425,
      "seconds": 185.0}, "epoch 1/6  loss 0.0123  val top-1 42 %  val loss 3.46  3 min 05 s"),
    ({"epoch": 5, "train_loss": None, "seconds": 7385.0}, "epoch 6/6  2 h 03 min"),
])
def test_the_epoch_line_is_read_at_a_glance(summary, line):
    from geovario.commands.train import epoch_line

    assert epoch_line(summary, 6) == line


def test_a_copied_run_is_whole_from_any_folder(store, tmp_path, monkeypatch, capsys):
    import shutil

    from tests.helpers.train_child import small_configs

    import geovario.commands.train as command

    monkeypatch.setattr(command, "configs_from_args", small_configs)
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir(), elsewhere.mkdir()
    monkeypatch.chdir(work)
    assert main(["variogram", "--store", str(store), "--out", "v.json"]) == 0
    given = (work / "v.json").read_bytes()
    # Relative paths on the command line, as a new user types them.
    assert main(["train", "run", "--store", os.path.relpath(store, work), "--epochs",
                 "1", "--loss", "semivariogram", "--variogram", "v.json", *COMMON]) == 0
    saved = json.loads((work / "run" / "config.json").read_text())["train"]
    assert saved["variogram"] == "variogram.json" and "variogram" not in saved["loss_options"]
    assert saved["train_store"] == str(store.resolve())
    assert (work / "run" / "variogram.json").read_bytes() == given
    copied = elsewhere / "copied"
    shutil.copytree(work / "run", copied)
    shutil.rmtree(work)  # the training folder, its variogram and its run are gone
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()

    assert main(["evaluate", "copied", "--store", str(store), "--gallery", f"store:{store}",
                 "--device", "cpu", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) > 3  # the metrics
    assert main(["train", "copied", "--resume", "--epochs", "2", "--quiet"]) == 0
    assert epochs_logged(copied) == [0, 1]
    capsys.readouterr()
    assert main(["push", "copied", "me/run", "--dry-run"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0] == "push: would upload 5 files to hf:me/run (--dry-run: nothing sent)"
    names = [line.split()[0] for line in listed[1:]]
    assert names == ["model.safetensors", "config.json", "variogram.json", "variogram.png",
                     "README.md"]
    assert listed[3].endswith(f"  {Path('copied') / 'variogram.json'}")

    (copied / "variogram.json").unlink()
    assert main(["push", "copied", "me/run", "--dry-run"]) == 2
    assert capsys.readouterr().err == (
        f"geovario push: error: {Path('copied') / 'config.json'}: the loss's variogram "
        "variogram.json is not there, nor a variogram.json in the run\n")


def test_loss_options_come_from_the_options_dataclass_and_loss_option_pairs():
    """Defaults from SemivariogramOptions, flags over them, --loss-option over both, typed."""
    import argparse

    import geovario.commands.train as command
    from geovario.errors import GeovarioError
    from geovario.losses.options import SemivariogramOptions

    parser = argparse.ArgumentParser()
    command.register(parser)
    args = parser.parse_args(["--out", "r", "--loss", "semivariogram", "--hard-margin", "0.5",
                              "--loss-option", "hard_strength=1",
                              "--loss-option", "rule=prototype"])
    options = command.loss_options(args)
    assert options == {**vars(SemivariogramOptions()), "hard_margin": 0.5, "hard_strength": 1.0,
                       "rule": "prototype"}
    assert isinstance(options["hard_strength"], float)
    plain = parser.parse_args(["--out", "r", "--loss-option", "smoothing=0.2"])
    assert command.loss_options(plain) == {"smoothing": 0.2}
    wrong = parser.parse_args(["--out", "r", "--loss", "infonce", "--hard-strength", "1"])
    with pytest.raises(GeovarioError, match="--hard-strength is an option of the semivariogram "
                                            "loss, not of infonce"):
        command.loss_options(wrong)
