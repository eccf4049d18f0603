"""An interrupted writer must leave a valid store that a rerun completes identically."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import child_script
from tests.helpers.store_testdata import DIM, assert_same_store, fill_store, make_rows, writer

from geovario.store import MANIFEST_NAME, open_store
from geovario.store.manifest import read_manifest


def _fail_manifest_commits_after(monkeypatch, successes: int) -> None:
    """Make os.replace raise on the manifest once ``successes`` manifest writes went through."""
    real_replace = os.replace
    calls = {"manifest": 0}

    def replace(src, dst):
        if Path(dst).name == MANIFEST_NAME:
            calls["manifest"] += 1
            if calls["manifest"] > successes:
                raise OSError("simulated crash before the commit")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def test_crash_at_manifest_commit_leaves_committed_shards_and_resumes(tmp_path, monkeypatch):
    store_dir = tmp_path / "s"
    # 1 write creates the store, 3 commit shards; the 4th shard's commit fails.
    _fail_manifest_commits_after(monkeypatch, successes=4)
    with pytest.raises(OSError, match="simulated crash"):
        fill_store(store_dir, 40, shard_size=6)
    monkeypatch.undo()

    names = sorted(p.name for p in store_dir.iterdir())
    assert "shard-000003.npy" in names and "shard-000003.parquet" in names  # unlisted leftovers
    assert not [n for n in names if n.startswith(".tmp-")]  # temp manifest was removed
    crashed = open_store(store_dir)
    assert len(crashed) == 18 and [s.rows for s in crashed.manifest.shards] == [6, 6, 6]
    assert crashed.ids.tolist() == make_rows(18)[0]

    fill_store(store_dir, 40, shard_size=6)  # the rerun
    fill_store(tmp_path / "ref", 40, shard_size=6)
    assert_same_store(open_store(store_dir), open_store(tmp_path / "ref"))
    assert sorted(p.name for p in store_dir.iterdir()) == sorted(
        p.name for p in (tmp_path / "ref").iterdir())


def test_failed_commit_is_retried_by_flush(tmp_path, monkeypatch):
    ids, coords, features, labels = make_rows(5)
    w = writer(tmp_path / "s", shard_size=100)
    w.append(ids, coords, features, labels=labels)
    _fail_manifest_commits_after(monkeypatch, successes=0)
    with pytest.raises(OSError, match="simulated crash"):
        w.flush()
    monkeypatch.undo()
    assert len(open_store(tmp_path / "s")) == 0
    w.close()  # same shard, written again, committed this time
    np.testing.assert_array_equal(open_store(tmp_path / "s").load_features(np.float16),
                                  features.astype(np.float16))


def test_orphans_are_ignored_by_readers_and_removed_by_the_next_writer(tmp_path):
    store_dir = tmp_path / "s"
    fill_store(store_dir, 10, shard_size=4)
    orphans = [".tmp-shard-000003.npy.1a2b3c", ".tmp-manifest.json.ffff", "shard-000005.npy",
               "shard-000007.parquet"]
    for name in orphans:
        (store_dir / name).write_bytes(b"half written")
    (store_dir / "README.txt").write_text("not ours")

    store = open_store(store_dir)
    assert len(store) == 10 and store.load_features().shape == (10, DIM)

    fill_store(store_dir, 14, shard_size=4)
    left = {p.name for p in store_dir.iterdir()}
    assert not left & set(orphans)
    assert "README.txt" in left
    fill_store(tmp_path / "ref", 14, shard_size=4)
    assert_same_store(open_store(store_dir), open_store(tmp_path / "ref"))


def test_sigkill_mid_extraction_then_resume_completes_identically(tmp_path):
    store_dir, n, shard_size = tmp_path / "s", 20000, 8
    child = subprocess.Popen([sys.executable, child_script("store_writer_child.py"), str(store_dir),
                              str(n), str(shard_size)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while True:  # wait until a few shards are committed, then kill at a random moment
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "child committed nothing within 60 s"
            if (store_dir / MANIFEST_NAME).is_file() and read_manifest(store_dir).count >= 40:
                break
            time.sleep(0.005)
        time.sleep(random.uniform(0, 0.05))
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    killed = open_store(store_dir)
    count = len(killed)
    assert 40 <= count < n and count % shard_size == 0
    assert killed.ids.tolist() == make_rows(count)[0]
    np.testing.assert_array_equal(killed.load_features(np.float16),
                                  make_rows(count)[2].astype(np.float16))

    # Resume with a larger shard size (not part of a store's identity) to keep the test fast.
    fill_store(store_dir, n, shard_size=4096, batch=1000)
    fill_store(tmp_path / "ref", n, shard_size=4096, batch=1000)
    assert_same_store(open_store(store_dir), open_store(tmp_path / "ref"))
    assert not [p for p in store_dir.iterdir() if p.name.startswith(".tmp-")]
