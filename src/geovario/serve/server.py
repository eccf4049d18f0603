"""Running the app with uvicorn on a socket bound here, so a busy port is a one-line error."""

import socket

import uvicorn
from fastapi import FastAPI

from geovario.errors import GeovarioError, input_error

#: Requests handled at once; more get 503 instead of piling up uploads in memory.
MAX_CONCURRENT = 32
BACKLOG = 128


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free port), ready for uvicorn.

    Raises:
        GeovarioError: "serve: cannot listen on HOST:PORT (<error>: <reason>)" for an unknown
            host or a port in use; "serve: port must be 0-65535, got N".
    """
    if not 0 <= port <= 65535:
        raise GeovarioError(f"serve: port must be 0-65535, got {port}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as error:
        raise input_error("serve", f"cannot listen on {host}:{port}", cause=error) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        raise input_error("serve", f"cannot listen on {host}:{port}", cause=error) from None
    return sock


def make_server(app: FastAPI, log_level: str = "info") -> uvicorn.Server:
    """A uvicorn server for ``app``; start it with ``server.run(sockets=[listen(...)])``."""
    return uvicorn.Server(uvicorn.Config(app, log_level=log_level,
                                         limit_concurrency=MAX_CONCURRENT,
                                         timeout_graceful_shutdown=5))
