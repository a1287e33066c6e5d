"""A local http server for dataset downloads: no internet, failures on demand."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path


class FlakyHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a directory; ``/flaky/...`` answers 503 on every other GET (``hits`` counts)."""

    hits = 0

    def do_GET(self):
        if self.path.startswith("/flaky/"):
            FlakyHandler.hits += 1
            if FlakyHandler.hits % 2:
                self.send_error(503, "try again")
                return
            self.path = self.path.removeprefix("/flaky")
        super().do_GET()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory: str | Path, handler=FlakyHandler) -> Iterator[str]:
    """Serve ``directory`` on a free local port; yields the base URL."""
    bound = functools.partial(handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), bound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
