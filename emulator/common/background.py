"""A loopback server on a daemon thread, started and stopped the same way by every
front end of the emulator (Vertex AI, Cloud Storage, the metadata server, the HTTPS
proxy)."""

from __future__ import annotations

import threading
from typing import Any

STOP_JOIN_SECONDS = 5.0


class BackgroundServer:
    """``start`` serves ``httpd`` from a daemon thread named ``name``; ``stop`` shuts it
    down and closes its socket. ``httpd`` is a ``socketserver`` server (or werkzeug's)."""

    def __init__(self, httpd: Any, name: str) -> None:
        self._httpd = httpd
        self._name = name
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=self._name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=STOP_JOIN_SECONDS)
