"""Spellings renamed in 0.1 keep working until 0.2, each with exactly one line on stderr."""

import argparse

import numpy as np
import pytest

from geovario.cli import build_parser, main

# (old command line, new command line, the one stderr line the old one prints)
CASES = {
    "train --out": (
        ["train", "--out", "runs/a", "--store", "s", "--epochs", "2"],
        ["train", "runs/a", "--store", "s", "--epochs", "2"],
        "geovario train: --out is deprecated; use geovario train RUN (--out will be removed "
        "in 0.2)"),
    "ablate --out": (
        ["ablate", "--train-store", "a", "--out", "ab", "--seeds", "2"],
        ["ablate", "ab", "--train-store", "a", "--seeds", "2"],
        "geovario ablate: --out is deprecated; use geovario ablate OUT (--out will be removed "
        "in 0.2)"),
    "demo --out": (
        ["demo", "--out", "elsewhere", "--quick"],
        ["demo", "elsewhere", "--quick"],
        "geovario demo: --out is deprecated; use geovario demo OUT (--out will be removed in "
        "0.2)"),
    "demo --split": (
        ["demo", "--split", "blocked"],
        ["demo", "--layout", "blocked"],
        "geovario demo: --split is deprecated; use --layout (--split will be removed in 0.2)"),
    "bluemarble build --split": (
        ["bluemarble", "build", "--out", "bm", "--split", "interleaved"],
        ["bluemarble", "build", "--out", "bm", "--layout", "interleaved"],
        "geovario bluemarble build: --split is deprecated; use --layout (--split will be "
        "removed in 0.2)"),
    "variogram --model": (
        ["variogram", "--store", "s", "--model", "exponential"],
        ["variogram", "--store", "s", "--family", "exponential"],
        "geovario variogram: --model is deprecated; use --family (--model will be removed in "
        "0.2)"),
}


def parse(argv: list[str]) -> argparse.Namespace:
    return build_parser(argv).parse_args(argv)


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_old_spelling_parses_as_the_new_one_with_one_line_on_stderr(case, capsys):
    old, new, line = CASES[case]
    assert vars(parse(new)) == vars(parse(old))  # the command sees the same values
    assert capsys.readouterr().err == line + "\n"  # the old spelling's line, once
    parse(new)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_old_spelling_is_hidden_from_help(case, capsys):
    old, new, _ = CASES[case]
    flag = next(word for word in old if word not in new)
    command = old[:2] if old[0] == "bluemarble" else old[:1]
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    assert f"{flag} " not in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "runs/a", "--out", "runs/b"], "RUN given twice (--out is its old spelling)"),
    (["train", "--out", "runs/b", "runs/a"], "RUN given twice (--out is its old spelling)"),
    (["demo", "--layout", "blocked", "--split", "interleaved"],
     "--layout given twice (--split is its old spelling)"),
    (["variogram", "--family", "gaussian", "--model", "exponential"],
     "--family given twice (--model is its old spelling)"),
])
def test_both_spellings_at_once_are_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse(argv)
    assert exit_.value.code == 2
    assert capsys.readouterr().err.endswith(f"error: {message}\n")


@pytest.mark.parametrize("command, extra", [("train", ["--store", "s"]),
                                            ("ablate", ["--train-store", "a"])])
def test_a_missing_folder_is_one_line(command, extra, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([command, *extra]) == 2
    metavar = "RUN" if command == "train" else "OUT"
    assert capsys.readouterr().err == (f"geovario {command}: error: the following arguments "
                                       f"are required: {metavar}\n")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def store(tmp_path):
    from tests.helpers.synthetic_testdata import make_store

    make_store(tmp_path / "store", n=64)
    return tmp_path / "store"


def test_train_out_still_trains_into_that_folder(store, tmp_path, monkeypatch, capsys):
    import geovario.train

    given = {}
    monkeypatch.setattr(geovario.train, "train",
                        lambda run_dir, *a, **kw: given.update(run_dir=run_dir) or {})
    assert main(["train", "--out", str(tmp_path / "run"), "--store", str(store),
                 "--quiet"]) == 0
    assert given["run_dir"] == tmp_path / "run"
    out, err = capsys.readouterr()
    assert err == CASES["train --out"][2] + "\n"
    assert f"geovario evaluate {tmp_path / 'run'}" in out


def test_variogram_model_still_chooses_the_family(tmp_path, capsys):
    rng = np.random.default_rng(0)
    coords = np.stack([rng.uniform(-60, 60, 300), rng.uniform(-180, 180, 300)], axis=1)
    np.save(tmp_path / "f.npy", rng.normal(size=(300, 8)) + coords[:, :1] / 30)
    np.savetxt(tmp_path / "c.csv", coords, delimiter=",", header="latitude,longitude",
               comments="")
    common = [str(tmp_path / "f.npy"), str(tmp_path / "c.csv"), "--bins", "10", "--max-km",
              "6000", "--json"]
    assert main(["variogram", *common, "--model", "gaussian"]) == 0
    old = capsys.readouterr()
    assert main(["variogram", *common, "--family", "gaussian"]) == 0
    new = capsys.readouterr()
    assert '"model": "gaussian"' in old.out and old.out == new.out
    assert old.err == CASES["variogram --model"][2] + "\n" + new.err  # one more line
