"""``geovario serve``: a web page and a JSON API that locate uploaded photos.

``create_app(predictor, backbone)`` builds the FastAPI app around a loaded run;
``listen(host, port)`` and ``make_server(app)`` run it with uvicorn. The page at ``/``
uploads a photo and shows the top-k guesses as markers on NASA's Blue Marble, served
by the app itself (nothing from the web). ``POST /predict`` (multipart field ``image``,
optional ``top_k``) answers ``{"predictions": [{"latitude", "longitude", "probability",
"place"}], "backbone", "gallery", "elapsed_ms"}`` (best first; ``elapsed_ms`` is the
server's time once the upload has arrived: decoding, waiting for the model, inference
and place lookup); ``GET /health`` describes the run.
"""

from geovario.serve.app import create_app
from geovario.serve.server import listen, make_server

__all__ = ["create_app", "listen", "make_server"]
