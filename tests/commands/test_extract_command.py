import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from tests.helpers import child_script
from tests.helpers.extract_testdata import (
    FAKE_NAME,
    assert_identical_stores,
    expected_features,
    fake_backbones_module,
)
from tests.helpers.osv5m_testdata import good_rows, image_of, jpeg_bytes, make_osv5m

from geovario import cli
from geovario.store import MANIFEST_NAME, open_store
from geovario.store.manifest import read_manifest


@pytest.fixture
def geovario(monkeypatch, capsys):

    def run(*argv):
        code = cli.main(["extract", *map(str, argv), "--quiet"])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setitem(sys.modules, "geovario.backbones", fake_backbones_module())


@pytest.fixture
def image_folder(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for k in range(3):
        (images / f"im{k}.jpg").write_bytes(jpeg_bytes(k, size=(64, 48)))
    csv = tmp_path / "meta.csv"
    pd.DataFrame({"path": ["im0.jpg", "im1.jpg", "gone.jpg", "im2.jpg"],
                  "lat": [10.0, 20.0, 30.0, 40.0], "lon": [1.0, 2.0, 3.0, 4.0],
                  "unique_country": ["FR", "NA", "DE", ""]}).to_csv(csv, index=False)
    return images, csv


def test_csv_folder_dataset(geovario, fake, image_folder, tmp_path):
    images, csv = image_folder
    code, out, err = geovario("--dataset", "csv", "--root", images, "--csv", csv,
                              "--backbone", FAKE_NAME, "--out", tmp_path / "store")
    assert code == 0, err
    assert out == (f"extract: 3 embedded, 1 skipped (1 missing image); see "
                   f"{tmp_path / 'store' / 'skipped.csv'}\n")
    store = open_store(tmp_path / "store")
    assert store.ids.tolist() == ["im0.jpg", "im1.jpg", "im2.jpg"]
    np.testing.assert_array_equal(store.coords, [[10, 1], [20, 2], [40, 4]])
    assert store.index["unique_country"].tolist()[:2] == ["FR", "NA"]
    oracle = expected_features([jpeg_bytes(k, size=(64, 48)) for k in range(3)])
    np.testing.assert_allclose(store.load_features(), oracle, rtol=2e-3, atol=2e-3)


def test_osv5m_with_limit_and_workers(geovario, fake, tmp_path):
    frame = make_osv5m(tmp_path / "osv")
    code, out, _ = geovario("--dataset", "osv5m", "--root", tmp_path / "osv", "--backbone",
                            FAKE_NAME, "--out", tmp_path / "store", "--limit", "5",
                            "--workers", "0")
    assert code == 0 and out.startswith("extract: 4 embedded, 1 skipped (1 corrupt image)")
    assert open_store(tmp_path / "store").ids.tolist() == good_rows(frame[:5])["id"].tolist()


@pytest.mark.parametrize("args, message", [
    (["--dataset", "osv5m", "--root", "{tmp}/nowhere"],
     "osv5m: {tmp}/nowhere: no such directory (download with: geovario download osv5m --root "
     "{tmp}/nowhere --split train)"),
    (["--dataset", "bluemarble", "--root", "{tmp}/bm"],
     "osv5m: {tmp}/bm: no such directory (write it with: geovario bluemarble build --out "
     "{tmp}/bm)"),
    (["--dataset", "imagenet", "--root", "{tmp}"],
     "unknown dataset 'imagenet' (choose from osv5m, csv, bluemarble)"),
    (["--dataset", "csv", "--root", "{tmp}/images", "--csv", "{tmp}/bad.csv"],
     "{tmp}/bad.csv: no column 'longitude' or 'lon' or 'lng' (columns: path, lat)"),
    (["--dataset", "csv", "--root", "{tmp}/images"],
     "dataset csv needs --csv FILE (the metadata CSV)"),
    (["--dataset", "osv5m", "--root", "{tmp}", "--csv", "{tmp}/bad.csv"],
     "--csv is only for --dataset csv (osv5m reads ROOT/train.csv)"),
    (["--dataset", "csv", "--root", "{tmp}/images", "--csv", "{tmp}/bad.csv", "--limit", "0"],
     "--limit must be a positive integer, got 0"),
])
def test_errors_are_one_line(geovario, fake, image_folder, tmp_path, args, message):
    pd.DataFrame({"path": ["im0.jpg"], "lat": [1.0]}).to_csv(tmp_path / "bad.csv", index=False)
    argv = [a.format(tmp=tmp_path) for a in args]
    code, out, err = geovario(*argv, "--backbone", FAKE_NAME, "--out", tmp_path / "store")
    assert (code, out) == (2, "")
    assert err == f"geovario extract: error: {message.format(tmp=tmp_path)}\n"


@pytest.mark.slow
def test_efficientnet_lite0_through_load_backbone(geovario, tmp_path):
    from geovario.backbones import load_backbone

    frame = make_osv5m(tmp_path / "osv")
    code, out, err = geovario("--dataset", "osv5m", "--root", tmp_path / "osv", "--backbone",
                              "efficientnet-lite0", "--out", tmp_path / "store", "--limit", "4",
                              "--batch-size", "2", "--workers", "1")
    assert code == 0, err
    assert out.startswith("extract: 3 embedded, 1 skipped (1 corrupt image)")
    store = open_store(tmp_path / "store")
    backbone = load_backbone("efficientnet-lite0")
    assert (store.backbone, store.dim, store.preprocessing) == (
        "efficientnet-lite0", 1280, backbone.preprocessing)
    ids = good_rows(frame[:4])["id"].tolist()
    assert store.ids.tolist() == ids
    one_by_one = torch.cat([backbone.embed(backbone.preprocess(
        Image.open(io.BytesIO(image_of(frame, i))))[None]) for i in ids]).numpy()
    np.testing.assert_allclose(store.load_features(), one_by_one, rtol=1e-2, atol=1e-2)


def test_ctrl_c_keeps_the_committed_shards_says_how_to_go_on_and_exits_130(tmp_path, capsys,
                                                                           monkeypatch):
    make_osv5m(tmp_path / "osv")
    out, reference = tmp_path / "stopped", tmp_path / "reference"
    argv = ["extract", "--dataset", "osv5m", "--root", str(tmp_path / "osv"), "--backbone",
            FAKE_NAME, "--out", str(out), "--batch-size", "1", "--workers", "1",
            "--shard-size", "3", "--quiet"]
    child = _interrupted_extraction(argv, out)
    stdout, stderr = child.stdout_text, child.stderr_text
    assert child.returncode == 130, (child.returncode, stderr)
    kept = len(open_store(out))
    assert 0 < kept < 9
    assert stdout == ""
    assert stderr == (f"extract: interrupted; {out} keeps the {kept} images of its committed "
                      f"shards; go on with the same command: geovario extract --dataset osv5m "
                      f"--root {tmp_path / 'osv'} --split train --backbone {FAKE_NAME} --out "
                      f"{out} --batch-size 1 --shard-size 3 --workers 1\n")

    monkeypatch.setitem(sys.modules, "geovario.backbones", fake_backbones_module())
    assert cli.main(argv) == 0
    assert cli.main([str(reference) if a == str(out) else a for a in argv]) == 0
    assert_identical_stores(open_store(out), open_store(reference))


def _interrupted_extraction(argv: list[str], out: Path) -> subprocess.Popen:
    """Run extract in a child, Ctrl-C its process group after the first shard, wait."""
    child = subprocess.Popen(
        [sys.executable, child_script("extract_child.py"), *argv],
        # 2.5 s a batch: 15 s of work remain after the first shard, enough for the test's
        # own process to be scheduled on a machine loaded ten times over
        env={**os.environ, "FAKE_DELAY_S": "2.5"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not ((out / MANIFEST_NAME).is_file() and read_manifest(out).count > 0):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "no shard committed within 120 s"
        time.sleep(0.01)
    os.killpg(child.pid, signal.SIGINT)  # as Ctrl-C: the whole foreground group
    child.stdout_text, child.stderr_text = child.communicate(timeout=120)
    return child
