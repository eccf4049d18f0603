"""``geovario serve``: a web page and a JSON API that locate uploaded photos with a run."""

import argparse
import sys

from geovario.commands.options import add_device, add_quiet
from geovario.commands.run_options import add_backbone_override, add_gallery, add_run
from geovario.errors import GeovarioError


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``serve`` command."""
    parser.description = (
        "Serve a run (or geoclip, the published GeoCLIP): a page at / to upload a photo "
        "and see the top-k guesses on a world map, POST /predict (multipart field 'image', "
        "optional top_k) for JSON, GET /health. The model, backbone and gallery load once "
        "at startup. There is no authentication: keep the default loopback host unless "
        "the network is trusted.")
    add_run(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free)")
    add_gallery(parser)
    add_backbone_override(parser)
    parser.add_argument("--top-k", type=int, default=5, help="guesses per photo by default")
    parser.add_argument("--max-upload-mb", type=float, default=10.0,
                        help="largest accepted photo; larger uploads get 413")
    add_device(parser, "the backbone and the model")
    add_quiet(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load everything once, bind the port, serve until interrupted (then exit code 0).

    Raises:
        GeovarioError: "serve: --top-k must be 1 to 100 ...", "serve: --max-upload-mb must be
            > 0 ...", or a port that cannot be bound (before anything slow is loaded).
    """
    from geovario.inference.predictor import Predictor
    from geovario.serve import create_app, listen, make_server
    from geovario.serve.app import MAX_TOP_K

    if not 1 <= args.top_k <= MAX_TOP_K:
        raise GeovarioError(f"serve: --top-k must be 1 to {MAX_TOP_K}, got {args.top_k}")
    if not args.max_upload_mb > 0:
        raise GeovarioError(f"serve: --max-upload-mb must be > 0, got {args.max_upload_mb}")
    sock = listen(args.host, args.port)
    try:
        predictor = Predictor(args.run, device=args.device, gallery=args.gallery,
                              backbone=args.backbone, progress=not args.quiet)
        app = create_app(predictor, top_k=args.top_k,
                         max_upload_bytes=int(args.max_upload_mb * 2**20))
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"geovario serve: {args.run} ({predictor.backbone}, gallery "
              f"{predictor.gallery.name}); open http://{shown}:{port}/", file=sys.stderr)
        make_server(app).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its graceful shutdown
        pass
    finally:
        sock.close()
    return 0
