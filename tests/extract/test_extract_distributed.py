import os
import subprocess
import sys

import pytest
from tests.helpers import child_script
from tests.helpers.extract_testdata import FAKE_NAME, FakeBackbone, assert_identical_stores
from tests.helpers.osv5m_testdata import make_osv5m

from geovario.data.osv5m import load_osv5m
from geovario.extract import SKIP_LOG_NAME, extract_features
from geovario.store import open_store

CHILD = child_script("extract_child.py")


@pytest.mark.slow
def test_torchrun_two_ranks_equal_one_process(tmp_path):
    root = tmp_path / "osv"
    make_osv5m(root)
    single = extract_features(load_osv5m(root, "train"), FakeBackbone(), tmp_path / "single",
                              batch_size=2, workers=0, chunk_size=3, progress=False)
    out = tmp_path / "two"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(CHILD), "extract", "--dataset", "osv5m", "--root", str(root), "--backbone",
         FAKE_NAME, "--out", str(out), "--batch-size", "2", "--workers", "1",
         "--shard-size", "3", "--quiet"],
        env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("extract: 9 embedded, 3 skipped (1 corrupt image, 1 missing "
                             "image, 1 invalid coordinates)") == 1  # printed by rank 0 only
    assert_identical_stores(open_store(out), open_store(tmp_path / "single"))
    assert (out / SKIP_LOG_NAME).read_bytes() == (tmp_path / "single" / SKIP_LOG_NAME).read_bytes()
    assert not (out / "parts").exists()
    assert single.rows == 9

    again = extract_features(load_osv5m(root, "train"), FakeBackbone(), out, batch_size=2,
                             workers=0, chunk_size=3, progress=False)
    assert again.embedded == 0 and again.rows == 9
