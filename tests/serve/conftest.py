import pytest
from tests.serve.serve_testdata import ServerProcess, make_run

from geovario.imagepredict import load_run_backbone
from geovario.predict import Predictor


@pytest.fixture(scope="session")
def serve_run(tmp_path_factory):
    """(run directory, gallery CSV) of an EfficientNet-Lite0 run."""
    return make_run(tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="session")
def serve_predictor(serve_run):
    run, gallery = serve_run
    return Predictor(run, gallery=str(gallery), device="cpu")


@pytest.fixture(scope="session")
def serve_backbone(serve_predictor):
    return load_run_backbone(serve_predictor)


@pytest.fixture(scope="session")
def serve_app(serve_predictor, serve_backbone):
    from geovario.serve import create_app

    return create_app(serve_predictor, serve_backbone, top_k=5, max_upload_bytes=2**20)


@pytest.fixture(scope="session")
def serve_process(serve_run):
    """``geovario serve`` in a child process: top-k 4, uploads up to 0.5 MB."""
    run, gallery = serve_run
    server = ServerProcess(run, "--gallery", str(gallery), "--top-k", "4",
                           "--max-upload-mb", "0.5", "--device", "cpu")
    yield server
    assert server.stop() == 0, "".join(server.log)
