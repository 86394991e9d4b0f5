"""Server plumbing shared by the platform sandboxes: a threading WSGI server on loopback that can drop a
connection with a TCP reset (for "reset" and "write applied, response lost" faults).

Standard library only: sandboxes run standalone, without Django.
"""
from __future__ import annotations

import socket
import struct
import sys
import threading
import weakref
from http import HTTPStatus
from socketserver import TCPServer, ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref import simple_server


class Drop(Exception):
    """Raised by the app to close the connection without any HTTP response."""


class _ServerHandler(simple_server.ServerHandler):
    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], Drop):
            self.dropped = True  # write nothing; the request handler aborts the socket
            return
        super().handle_error()

    def log_exception(self, exc_info: Any) -> None:
        if getattr(self.request_handler.server, "verbose", False):
            super().log_exception(exc_info)


class RequestHandler(simple_server.WSGIRequestHandler):
    def handle(self) -> None:
        """Like WSGIRequestHandler.handle, plus "drop the connection" support."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _ServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self
        handler.run(self.server.get_app())
        if getattr(handler, "dropped", False):
            # SO_LINGER 0 + close sends a TCP RST: the client sees a reset, no response.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.server._aborted.add(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


class ThreadingWSGIServer(ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    verbose = False

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), which can stall on DNS.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
        self._aborted: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self.setup_environ()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            super().handle_error(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:
        if request in self._aborted:
            self._aborted.discard(request)
            request.close()  # no FIN first: the linger-0 close resets the connection
            return
        super().shutdown_request(request)


class SandboxWSGI:
    """The WSGI entry of both sandboxes: method, path and query parsed, ``handle`` answers, then the platform's
    trace header (``trace_headers``) and the length are added."""

    def __init__(self, sandbox: Any) -> None:
        self.sb = sandbox

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "") or "/"
        params = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
        status, headers, body = self.handle(environ, method, path, params)
        headers = headers + self.trace_headers() + [("Content-Length", str(len(body)))]
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    def handle(self, environ: dict, method: str, path: str, params: dict[str, str]) -> tuple[int, list, bytes]:
        raise NotImplementedError

    def trace_headers(self) -> list[tuple[str, str]]:
        return []


class LoopbackService:
    """Lifecycle shared by the sandboxes: bind a loopback port, serve in a daemon thread or in the foreground,
    stop cleanly. A subclass sets ``host``, ``port``, ``verbose`` and ``thread_name``, and implements ``app()``
    (its WSGI application) and, if it has background work of its own, ``on_stop()``."""

    thread_name = "sandbox"
    _server: ThreadingWSGIServer | None = None
    _thread: threading.Thread | None = None

    def app(self) -> Any:
        raise NotImplementedError

    def on_stop(self) -> None:
        """Stop the subclass's own background work (webhook senders)."""

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("sandbox not started; call start() first")
        return f"http://{self.host}:{self._server.server_port}"

    def bind(self):
        """Open the listening socket (so ``base_url`` is known) without serving yet."""
        if self._server is None:
            server = ThreadingWSGIServer((self.host, self.port), RequestHandler)
            server.verbose = self.verbose
            server.set_app(self.app())
            self._server = server
        return self

    def start(self):
        """Serve in a daemon thread; returns self so ``Sandbox().start()`` chains."""
        self.bind()
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=self.thread_name, daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Blocking serve (management command / ``python -m``)."""
        self.bind()
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._server.server_close()

    def stop(self) -> None:
        self.on_stop()
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=5)
            self._server.server_close()
        self._server, self._thread = None, None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
