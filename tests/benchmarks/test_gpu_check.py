"""The prepared GPU check runs on the CPU at toy sizes, so it cannot rot between GPU runs."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "gpu_check.py"


@pytest.mark.slow
def test_gpu_check_runs_every_path_on_the_cpu():
    out = subprocess.run([sys.executable, str(SCRIPT), "--device", "cpu", "--tiny"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    table = out.stdout
    for name in ("extraction: min cosine", "training: loss over", "1 km apart",
                 "variogram, all pairs", "variogram, sampled pairs", "evaluation: same top-1"):
        assert name in table
    assert "| NO |" not in table
    for speed in ("training, batch 32", "EfficientNet-Lite0: images/s", "CLIP ViT-L/14",
                  "sampled pairs: s", "top-5 over", "| total |"):
        assert speed in table
