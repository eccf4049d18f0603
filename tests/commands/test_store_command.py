import argparse
import json

import pytest
from tests.helpers.store_testdata import (
    BACKBONE,
    COUNTRIES,
    DIM,
    LABELS,
    PREPROCESSING,
    fill_store,
    make_rows,
)

from geovario import cli
from geovario.commands import store as store_command
from geovario.store import StoreWriter, open_store


def _main(argv):
    """The real dispatcher, with only this command registered (others may not exist yet)."""
    return cli.main(argv)


@pytest.fixture
def store_dir(tmp_path):
    fill_store(tmp_path / "s", 30, shard_size=8)
    return tmp_path / "s"


def test_info_json(store_dir, capsys):
    assert _main(["store", "info", str(store_dir), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    _, coords, _, labels = make_rows(30)
    assert summary["backbone"] == BACKBONE and summary["dim"] == DIM
    assert summary["dtype"] == "float16" and summary["count"] == summary["rows"] == 30
    assert summary["shard_count"] == 4 and len(summary["shards"]) == 4
    assert summary["preprocessing"] == PREPROCESSING
    assert summary["label_columns"] == list(LABELS)
    assert summary["distinct_countries"] == len(set(labels["unique_country"])) <= len(COUNTRIES)
    assert summary["latitude"] == [coords[:, 0].min(), coords[:, 0].max()]
    assert summary["longitude"] == [coords[:, 1].min(), coords[:, 1].max()]


def test_info_text(store_dir, capsys):
    assert _main(["store", "info", str(store_dir)]) == 0
    out = capsys.readouterr().out
    assert f"backbone:       {BACKBONE}" in out
    assert "rows:           30 in 4 shards" in out
    assert "label columns:  unique_country, unique_city" in out
    assert "countries:" in out and "latitude:" in out


def test_info_on_an_empty_store_without_labels(tmp_path, capsys):
    StoreWriter(tmp_path / "e", backbone="b", dim=2).close()
    assert _main(["store", "info", str(tmp_path / "e"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 0 and summary["latitude"] is None
    assert summary["distinct_countries"] is None
    assert _main(["store", "info", str(tmp_path / "e")]) == 0
    assert "n/a (empty store)" in capsys.readouterr().out


def test_info_on_a_non_store_is_a_one_line_error(tmp_path, capsys):
    assert _main(["store", "info", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"geovario store: error: {tmp_path}: not a geovario feature store")


def test_merge_command(store_dir, tmp_path, capsys):
    fill_store(tmp_path / "p1", 5, shard_size=8, prefix="other")
    out = tmp_path / "merged"
    assert _main(["store", "merge", str(store_dir), str(tmp_path / "p1"), "--out", str(out),
                  "--shard-size", "16"]) == 0
    assert "35 rows" in capsys.readouterr().out
    assert [s.rows for s in open_store(out).manifest.shards] == [16, 16, 3]


def test_register_builds_a_sub_sub_command():
    parser = argparse.ArgumentParser()
    store_command.register(parser.add_subparsers(dest="command").add_parser("store"))
    args = parser.parse_args(["store", "info", "somewhere", "--json"])
    assert args.func is store_command.run and args.store_command == "info" and args.json
