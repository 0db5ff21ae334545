"""Run a sandbox store (an http.server handler class) on a loopback port, in a thread.

Used by the tests (each test gets its own server on a free port), the benchmarks and
`manage.py run_sandboxes` for the embedded demo."""
from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler_cls, state):
        super().__init__(address, handler_cls)
        self.state = state  # the sandbox's data and fault switches, shared by request threads

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client hung up (e.g. it refused an oversized reply): not the sandbox's fault
        super().handle_error(request, client_address)


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid the delayed-ACK stall
    server: SandboxHTTPServer

    def log_message(self, format, *args):  # quiet by default
        if getattr(self.server.state, "verbose", False):
            super().log_message(format, *args)

    @property
    def state(self):
        return self.server.state

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, body: bytes | str = b"", content_type: str = "text/plain; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        if body or status not in (204, 304):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)


class RunningSandbox:
    """A started server: `.url` is its base URL, `.state` its data; `.stop()` shuts it down."""

    def __init__(self, handler_cls, state, host: str = "127.0.0.1", port: int = 0):
        self.httpd = SandboxHTTPServer((host, port), handler_cls, state)
        self.state = state
        self.host, self.port = self.httpd.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{self.port}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def serve_until_interrupted(*sandboxes: RunningSandbox) -> None:
    """Keep the started sandboxes serving until Ctrl-C, then stop them."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for sandbox in sandboxes:
            sandbox.stop()
