"""Run ``geovario <args>`` with the fake backbone, for subprocess and torchrun tests.

Usage: python extract_child.py extract --dataset ... --backbone fake-pool ...
Environment: FAKE_DELAY_S, seconds the fake backbone sleeps per batch (default 0).

Ctrl-C reaches the child as it reaches a command typed at a terminal, whoever started
the tests: a test run started as a background job of a non-interactive shell (``pytest
... &`` in a script) starts with SIGINT ignored, every process it starts inherits that,
and Python then installs no KeyboardInterrupt handler, so the child would ignore the
test's SIGINT and finish its work (exit 0, nothing on stderr).
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from tests.helpers import extract_testdata  # noqa: E402

from geovario import cli  # noqa: E402

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    delay_s = float(os.environ.get("FAKE_DELAY_S", "0"))
    sys.modules["geovario.backbones"] = extract_testdata.fake_backbones_module(delay_s)
    sys.exit(cli.main(sys.argv[1:]))
