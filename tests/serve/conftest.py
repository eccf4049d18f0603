import pytest


@pytest.fixture(scope="session")
def serve_app(image_predictor):
    from geovario.serve import create_app

    return create_app(image_predictor, top_k=5, max_upload_bytes=2**20)
