import io
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import reverse_geocoder
from PIL import Image
from tests.helpers.serve_testdata import GALLERY_SIZE, photo_bytes

from geovario.serve.app import UploadLimit

with warnings.catch_warnings():  # this Starlette prefers "httpx2"; httpx still works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

LIMIT = 2**20  # the serve_app fixture's max_upload_bytes


@pytest.fixture(scope="module")
def client(serve_app):
    return TestClient(serve_app)


def post(client, data: bytes, name: str = "photo.jpg", top_k: int | None = None):
    params = {} if top_k is None else {"top_k": top_k}
    return client.post("/predict", params=params,
                       files={"image": (name, data, "application/octet-stream")})


def assert_same(predictions: list[dict], expected: list[dict]) -> None:
    assert [p["place"] for p in predictions] == [p["place"] for p in expected]
    numbers = [[p["latitude"], p["longitude"], p["probability"]] for p in predictions]
    np.testing.assert_allclose(numbers, [[p["latitude"], p["longitude"], p["probability"]]
                                         for p in expected], rtol=1e-6, atol=1e-9)


def expected_coords(predictor, backbone, data: bytes, k: int) -> np.ndarray:
    """Oracle: Pillow → the backbone by hand → the predictor, without geovario.inference.images."""
    pixels = backbone.preprocess(Image.open(io.BytesIO(data)))[None]
    return predictor.predict_features(backbone.embed(pixels).numpy(), k=k).topk_coords[0]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_predict_valid_image(client, image_predictor, image_backbone, image_run, fmt):
    data = photo_bytes(fmt, seed=3)
    response = post(client, data, f"photo.{fmt.lower()}")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["backbone"] == "efficientnet-lite0"
    assert answer["gallery"] == str(image_run[1]) and answer["elapsed_ms"] > 0
    predictions = answer["predictions"]
    assert len(predictions) == 5
    probs = [p["probability"] for p in predictions]
    assert all(0 < p <= 1 for p in probs) and sum(probs) <= 1 + 1e-6
    assert probs == sorted(probs, reverse=True)
    coords = np.array([[p["latitude"], p["longitude"]] for p in predictions])
    np.testing.assert_allclose(coords, expected_coords(image_predictor, image_backbone, data, 5),
                               atol=1e-6)
    gallery = pd.read_csv(image_run[1]).to_numpy()
    assert all(np.isclose(gallery, c, atol=1e-5).all(axis=1).any() for c in coords)
    # The place is reverse_geocoder's own answer, "City, Admin1, CC".
    found = reverse_geocoder.search([tuple(c) for c in coords], mode=1, verbose=False)
    assert [p["place"] for p in predictions] == [
        ", ".join(part for part in (f["name"], f["admin1"], f["cc"]) if part) for f in found]


def test_top_k_parameter(client):
    data = photo_bytes(seed=4)
    five = post(client, data).json()["predictions"]
    three = post(client, data, top_k=3).json()["predictions"]
    assert_same(three, five[:3])
    assert len(post(client, data, top_k=12).json()["predictions"]) == 12
    for bad in (0, 101, "many", 2.5):
        response = post(client, data, top_k=bad)
        assert response.status_code == 422
        assert response.json() == {"detail": f"top_k must be a whole number from 1 to 100, "
                                             f"got {str(bad)!r}"}


def test_oversized_uploads_get_413(client):
    response = post(client, b"\xff" * (LIMIT + 100_000))  # refused on Content-Length
    assert response.status_code == 413
    assert response.json() == {"detail": "upload larger than the 1 MB limit"}
    # Within the multipart allowance, one byte over the image limit: refused by size.
    png = photo_bytes("PNG")
    at_limit = png + bytes(LIMIT - len(png))  # Pillow ignores bytes after the PNG's end
    assert post(client, at_limit, "a.png").status_code == 200
    assert post(client, at_limit + b"\0", "a.png").status_code == 413


def test_upload_without_length_is_cut_off_at_the_limit(client):
    def chunks():
        yield (b'--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
               b"Content-Type: image/jpeg\r\n\r\n")
        for _ in range(300):
            yield b"\xff" * 10_000

    response = client.post("/predict", content=chunks(),
                           headers={"content-type": "multipart/form-data; boundary=xyz"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and "1 MB limit" in response.json()["detail"]


def test_a_false_content_length_does_not_get_past_the_limit():
    """Driven as raw ASGI: the body is read no further than the limit and answered 413."""
    import anyio

    async def app(scope, receive, send):  # reads the whole body, as the form parser does
        while (await receive()).get("more_body"):
            pass
        raise AssertionError("the whole body was read")

    limited = UploadLimit(app, max_body=50_000, message="too big")
    reads, sent = [], []

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": b"x" * 10_000, "more_body": len(reads) < 1000}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "headers": [(b"content-length", b"100")]}
    with pytest.raises(Exception, match="too big") as error:
        anyio.run(limited, scope, receive, send)
    assert getattr(error.value, "status_code", None) == 413 and len(reads) == 6


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"just some notes\n", "notes.txt", "notes.txt: not a decodable image (no image format"),
    (photo_bytes()[:-3000], "cut.jpg", "cut.jpg: not a decodable image (OSError: image file "
                                       "is truncated"),
    (b"", "empty.jpg", "empty.jpg: empty file"),
    (photo_bytes("PNG", size=(2000, 20)), "thin.png",
     "thin.png: 2000 x 20 pixels: aspect ratio over 20:1"),
])
def test_bad_images_get_400(client, data, name, message):
    response = post(client, data, name)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)


@pytest.mark.parametrize("request_options", [
    {"data": {"picture": "x"}},  # a form without the image field
    {"files": {"picture": ("a.jpg", photo_bytes(), "image/jpeg")}},  # a file, misnamed
    {"json": {"image": "photo.jpg"}},  # not a form at all
    {},  # nothing
])
def test_missing_image_field_is_one_sentence(client, request_options):
    response = client.post("/predict", **request_options)
    assert response.status_code == 400
    assert response.json() == {"detail": "no photo: send it as the multipart/form-data file "
                                         "field 'image' (curl -F image=@photo.jpg)"}


def test_every_error_body_is_one_sentence(client):
    """Whatever goes wrong, the body is {"detail": str}: what the page shows as it is."""
    answers = [post(client, photo_bytes(), top_k="x"), post(client, b"not a photo"),
               client.post("/predict"), client.get("/predict"), client.get("/nowhere"),
               post(client, b"\xff" * (LIMIT + 100_000))]
    assert [a.status_code for a in answers] == [422, 400, 400, 405, 404, 413]
    for answer in answers:
        assert list(answer.json()) == ["detail"] and isinstance(answer.json()["detail"], str)


def test_health_page_and_static_files(client):
    health = client.get("/health").json()
    assert health == {"status": "ok", "backbone": "efficientnet-lite0",
                      "gallery": health["gallery"], "gallery_size": GALLERY_SIZE, "top_k": 5,
                      "max_top_k": 100, "max_upload_bytes": LIMIT}
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for needed in ('type="file"', 'id="locate"', 'data-top-k="5"', "/static/world.jpg",
                   "/static/app.js", "/static/app.css", "efficientnet-lite0"):
        assert needed in page.text, needed
    world = client.get("/static/world.jpg")
    with Image.open(io.BytesIO(world.content)) as image:
        assert (image.format, image.size) == ("JPEG", (1350, 675))
    script, style = client.get("/static/app.js").text, client.get("/static/app.css").text
    assert "fetch(" in script and ".marker" in style
    for text in (page.text, script, style):  # works offline: nothing is fetched from the web
        assert "http://" not in text and "https://" not in text and "//cdn" not in text


def test_concurrent_requests_get_their_own_answers(client):
    images = [photo_bytes(seed=seed) for seed in range(4)]
    alone = [post(client, data).json()["predictions"] for data in images]
    assert alone[0] != alone[1]
    answers: dict[tuple[int, int], list] = {}

    def worker(thread: int) -> None:
        for i in range(6):
            which = (thread + i) % 4
            answers[thread, i] = (which, post(client, images[which]).json()["predictions"])

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 24
    for which, predictions in answers.values():
        assert_same(predictions, alone[which])
