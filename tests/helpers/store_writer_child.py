"""Child process for the SIGKILL test: fill a store slowly enough to be killed mid-way.

Usage: python store_writer_child.py STORE N SHARD_SIZE
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from tests.helpers.store_testdata import fill_store  # noqa: E402

if __name__ == "__main__":
    fill_store(Path(sys.argv[1]), int(sys.argv[2]), shard_size=int(sys.argv[3]))
