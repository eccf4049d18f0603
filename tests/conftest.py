import subprocess
import sys

import pytest
import torch
from tests.helpers.serve_testdata import ServerProcess, make_run

from geovario.geo import uniform_sphere_points
from geovario.inference.predictor import Predictor

torch.set_num_threads(2)


@pytest.fixture
def sphere_points():
    return uniform_sphere_points


@pytest.fixture
def modules_loaded_by():
    """Run Python code in a fresh interpreter; return the loaded modules under the prefixes."""

    def loaded(code: str, prefixes: tuple[str, ...]) -> list[str]:
        program = (f"import sys\n{code}\nprint('\\n'.join(sorted(m for m in sys.modules "
                   f"if m.split('.')[0] in {prefixes!r} or m.startswith({prefixes!r}))))")
        out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                             check=True).stdout
        return out.split()

    return loaded


@pytest.fixture(scope="session")
def image_run(tmp_path_factory):
    """(run directory, gallery CSV) of an EfficientNet-Lite0 run."""
    return make_run(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="session")
def image_predictor(image_run):
    run, gallery = image_run
    return Predictor(run, gallery=str(gallery), device="cpu")


@pytest.fixture(scope="session")
def image_backbone(image_predictor):
    return image_predictor.load_backbone()


@pytest.fixture(scope="session")
def serve_process(image_run):
    """``geovario serve`` in a child process: top-k 4, uploads up to 0.5 MB."""
    run, gallery = image_run
    server = ServerProcess(run, "--gallery", str(gallery), "--top-k", "4",
                           "--max-upload-mb", "0.5", "--device", "cpu")
    yield server
    assert server.stop() == 0, "".join(server.log)
