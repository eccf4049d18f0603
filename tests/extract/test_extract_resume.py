"""Kill -9 in the middle of an extraction, rerun the same command: the store an uninterrupted run
would have written, shard for shard and bit for bit."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers import child_script
from tests.helpers.extract_testdata import FAKE_NAME, assert_identical_stores, fake_backbones_module
from tests.helpers.osv5m_testdata import make_osv5m

from geovario import cli
from geovario.extract import SKIP_LOG_NAME
from geovario.store import MANIFEST_NAME, open_store
from geovario.store.manifest import read_manifest

CHILD = child_script("extract_child.py")


def argv(root: Path, out: Path) -> list[str]:
    return ["extract", "--dataset", "osv5m", "--root", str(root), "--backbone", FAKE_NAME,
            "--out", str(out), "--batch-size", "1", "--workers", "1", "--shard-size", "3",
            "--quiet"]


@pytest.mark.slow
def test_sigkill_then_rerun_gives_the_uninterrupted_store(tmp_path, monkeypatch, capsys):
    root, killed_out, reference = tmp_path / "osv", tmp_path / "killed", tmp_path / "reference"
    make_osv5m(root)
    child = subprocess.Popen([sys.executable, str(CHILD), *argv(root, killed_out)],
                             env={**os.environ, "FAKE_DELAY_S": "0.3"}, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while not ((killed_out / MANIFEST_NAME).is_file()
                   and read_manifest(killed_out).count > 0):  # the first shard is committed
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "no shard committed within 60 s"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    killed = open_store(killed_out)
    assert 0 < len(killed) < 9 and len(killed.manifest.shards) < 4  # stopped mid-way

    monkeypatch.setitem(sys.modules, "geovario.backbones", fake_backbones_module())
    assert cli.main(argv(root, killed_out)) == 0  # at once: the killed process held the lock
    resumed = capsys.readouterr().out
    assert cli.main(argv(root, reference)) == 0
    assert "extract: 9 embedded, 3 skipped" in capsys.readouterr().out
    assert "(the store now holds 9), 3 skipped" in resumed

    assert_identical_stores(open_store(killed_out), open_store(reference))
    assert ((killed_out / SKIP_LOG_NAME).read_bytes()
            == (reference / SKIP_LOG_NAME).read_bytes())
    assert sorted(p.name for p in killed_out.iterdir()) == sorted(
        p.name for p in reference.iterdir())
