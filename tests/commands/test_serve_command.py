import httpx
import pytest
from tests.helpers.serve_testdata import photo_bytes

import geovario.cli
from geovario.serve import listen


@pytest.fixture
def cli(monkeypatch):
    return geovario.cli.main


def test_argument_errors_come_before_loading(cli, image_run, capsys):
    run, _ = image_run
    taken = listen("127.0.0.1", 0)
    port = taken.getsockname()[1]
    cases = [
        (["--top-k", "0"], "--top-k must be 1 to 100, got 0"),
        (["--top-k", "101"], "--top-k must be 1 to 100, got 101"),
        (["--max-upload-mb", "0"], "--max-upload-mb must be > 0, got 0.0"),
        (["--port", "70000"], "port must be 0-65535, got 70000"),
        (["--port", str(port)], f"cannot listen on 127.0.0.1:{port} (OSError: Address "
                                f"already in use)"),
        (["--host", "no-such-host.invalid"], "cannot listen on no-such-host.invalid:8000"),
    ]
    try:
        for options, message in cases:
            assert cli(["serve", str(run), *options]) == 2
            assert message in capsys.readouterr().err
    finally:
        taken.close()


@pytest.mark.slow
def test_serve_command_over_real_http(serve_process):
    with httpx.Client(base_url=serve_process.url, timeout=60) as client:
        health = client.get("/health").json()
        assert (health["top_k"], health["max_upload_bytes"]) == (4, 2**19)
        files = {"image": ("a.png", photo_bytes("PNG"), "image/png")}
        assert len(client.post("/predict", files=files).json()["predictions"]) == 4
        big = {"image": ("big.jpg", bytes(2**20), "image/jpeg")}
        response = client.post("/predict", files=big)
        assert response.status_code == 413
        assert response.json() == {"detail": "upload larger than the 0.5 MB limit"}
        assert client.post("/predict", files={"image": ("a.txt", b"hi")}).status_code == 400
