"""Server plumbing shared by the platform sandboxes: a threading WSGI server on loopback that can drop a
connection with a TCP reset (for "reset" and "write applied, response lost" faults).

Standard library only: sandboxes run standalone, without Django.
"""
from __future__ import annotations

import socket
import struct
import sys
import weakref
from socketserver import TCPServer, ThreadingMixIn
from typing import Any
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
        self._aborted: "weakref.WeakSet[socket.socket]" = weakref.WeakSet()
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
