"""The FastAPI app: a page, the world map, ``POST /predict`` and ``GET /health``.

Everything heavy (run weights, gallery embeddings, backbone, place names, map) is loaded
before the app is built and shared by every request.

Concurrency: FastAPI runs the (synchronous) ``/predict`` handler in its thread pool;
decoding and preprocessing uploads happen there in parallel, at most one per CPU core
at a time (a semaphore: a 10 MB JPEG can decode to hundreds of MB, so peak memory is
bounded by the core count, not by the number of open connections), and the model work
(backbone, retrieval, place lookup) runs under one ``threading.Lock``. On the CPU,
torch already spreads one forward pass over every core, so two at once would only
compete for the same cores and double the peak memory; on a GPU, requests would queue
on the device anyway. The lock makes concurrent requests safe without relying on
every module being thread-safe.

Upload limits: :class:`UploadLimit` refuses a body whose ``Content-Length`` is over the
limit before reading it, and counts the bytes actually received so a client that sends
no length, or a false one, is cut off at the limit too; memory per request stays bounded.
Bad input never ends in a 500, and every error body is ``{"detail": "one sentence"}``:
too large → 413, no ``image`` field or not a usable image → 400, a bad ``top_k`` → 422
(FastAPI's own list of validation errors is rewritten as one sentence).
"""

import os
import threading
import time
from typing import Annotated

from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geovario.inference.images import BadImageError, place_names
from geovario.inference.predictor import Predictor
from geovario.serve.page import CSS, JS, render_page
from geovario.serve.worldmap import world_map_jpeg

#: Room for the multipart envelope (boundaries, part headers) on top of the image limit.
MULTIPART_SLACK = 64 * 1024
#: Most guesses one request may ask for.
MAX_TOP_K = 100
MAP_WIDTH = 1350


def too_large(limit_bytes: int) -> str:
    """The 413 message."""
    return f"upload larger than the {limit_bytes / 2**20:g} MB limit"


class UploadLimit:
    """ASGI middleware: 413 for request bodies over ``max_body`` bytes, declared or sent."""

    def __init__(self, app: ASGIApp, max_body: int, message: str) -> None:
        self.app = app
        self.max_body = max_body
        self.message = message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count what arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            await JSONResponse({"detail": self.message}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    # FastAPI re-raises an HTTPException met while reading the body, and
                    # its exception handler turns it into this 413 response.
                    raise HTTPException(status_code=413, detail=self.message)
            return message

        await self.app(scope, counted, send)


def validation_error(errors: list[dict], max_k: int) -> tuple[int, str]:
    """One status and sentence for FastAPI's list of request validation errors."""
    fields = {tuple(error.get("loc", ()))[-1:] for error in errors}
    if ("top_k",) in fields:
        given = next(error.get("input") for error in errors
                     if tuple(error.get("loc", ()))[-1:] == ("top_k",))
        return 422, f"top_k must be a whole number from 1 to {max_k}, got {given!r}"
    if ("image",) in fields:
        return 400, ("no photo: send it as the multipart/form-data file field 'image' "
                     "(curl -F image=@photo.jpg)")
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
    return 422, f"{where}: {first.get('msg', 'invalid request')}"


def create_app(predictor: Predictor, *, top_k: int = 5,
               max_upload_bytes: int = 10 * 2**20) -> FastAPI:
    """Build the app around a loaded run.

    Args:
        predictor: the run; its backbone and gallery embeddings are loaded here if they
            are not yet, so the first request is as fast as the others.
        top_k: guesses per request when the request does not say.
        max_upload_bytes: largest accepted image file.
    """
    predictor.preload()
    max_k = min(MAX_TOP_K, len(predictor.gallery))
    top_k = min(top_k, max_k)
    place_names([[0.0, 0.0]])  # load the place table now, not in the first request
    world = world_map_jpeg(MAP_WIDTH)
    page = render_page(backbone=predictor.backbone, gallery=predictor.gallery.name,
                       gallery_size=len(predictor.gallery), top_k=top_k, max_k=max_k,
                       max_bytes=max_upload_bytes, map_size=(MAP_WIDTH, MAP_WIDTH // 2))
    model_lock = threading.Lock()
    decode_slots = threading.BoundedSemaphore(os.cpu_count() or 1)

    app = FastAPI(title="geovario", summary="Where was this photo taken?")
    app.add_middleware(UploadLimit, max_body=max_upload_bytes + MULTIPART_SLACK,
                       message=too_large(max_upload_bytes))
    cached = {"Cache-Control": "public, max-age=86400"}

    @app.exception_handler(RequestValidationError)
    async def one_sentence(_: Request, error: RequestValidationError) -> JSONResponse:
        status, detail = validation_error(list(error.errors()), max_k)
        return JSONResponse({"detail": detail}, status_code=status)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return page

    @app.get("/static/world.jpg", include_in_schema=False)
    def world_map() -> Response:
        return Response(world, media_type="image/jpeg", headers=cached)

    @app.get("/static/app.js", include_in_schema=False)
    def script() -> Response:
        return Response(JS, media_type="text/javascript")

    @app.get("/static/app.css", include_in_schema=False)
    def style() -> Response:
        return Response(CSS, media_type="text/css")

    @app.get("/health")
    def health() -> dict:
        """The loaded run: backbone, gallery, defaults and limits."""
        return {"status": "ok", "backbone": predictor.backbone,
                "gallery": predictor.gallery.name, "gallery_size": len(predictor.gallery),
                "top_k": top_k, "max_top_k": max_k, "max_upload_bytes": max_upload_bytes}

    @app.post("/predict")
    def predict(image: Annotated[UploadFile, File(description="the photo (JPEG, PNG, ...)")],
                k: Annotated[int, Query(alias="top_k", ge=1, le=max_k)] = top_k) -> dict:
        """Top-k locations of one uploaded photo, best first, with the nearest place."""
        start = time.perf_counter()
        data = image.file.read(max_upload_bytes + 1)
        if len(data) > max_upload_bytes:
            raise HTTPException(status_code=413, detail=too_large(max_upload_bytes))
        try:
            with decode_slots:
                pixels = predictor.prepare(data)
        except BadImageError as error:
            raise HTTPException(status_code=400,
                                detail=f"{image.filename or 'image'}: {error}") from None
        with model_lock:
            (guesses,) = predictor.locate(pixels[None], k)
        return {"predictions": [{"latitude": g.latitude, "longitude": g.longitude,
                                 "probability": g.probability, "place": g.place}
                                for g in guesses],
                "backbone": predictor.backbone, "gallery": predictor.gallery.name,
                "elapsed_ms": 1000 * (time.perf_counter() - start)}

    return app
