import pytest
from tests.serve.serve_testdata import ServerProcess


@pytest.fixture(scope="session")
def serve_app(image_predictor, image_backbone):
    from geovario.serve import create_app

    return create_app(image_predictor, image_backbone, top_k=5, max_upload_bytes=2**20)


@pytest.fixture(scope="session")
def serve_process(image_run):
    """``geovario serve`` in a child process: top-k 4, uploads up to 0.5 MB."""
    run, gallery = image_run
    server = ServerProcess(run, "--gallery", str(gallery), "--top-k", "4",
                           "--max-upload-mb", "0.5", "--device", "cpu")
    yield server
    assert server.stop() == 0, "".join(server.log)
