"""Inference stands alone: loading a run for prediction never imports the training code."""

import subprocess
import sys


def test_inference_imports_no_training_or_loss_module():
    program = ("import sys\n"
               "import geovario.inference, geovario.inference.images, geovario.serve.app\n"
               "print(sorted(m for m in sys.modules if m.startswith(('geovario.train',"
               " 'geovario.losses', 'geovario.ablation'))))")
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
