"""A loopback GCE metadata server: Application Default Credentials with no key file.

google-auth's ``google.auth.default()`` falls back to the Compute Engine metadata
server; it finds this one through ``GCE_METADATA_HOST`` / ``GCE_METADATA_IP`` (both
read when google-auth is imported). It hands out a fake access token for a fake
service account (the emulator accepts any bearer token) and the project id, so
Google's samples run unmodified, configured by environment variables alone.
Nothing here is a real credential.
"""

from __future__ import annotations

import json
from http import server
from urllib.parse import urlparse

from gemini_sft_kfp.emulator.common.background import BackgroundServer

from gemini_sft_kfp.core.clients import EMULATOR_TOKEN

SERVICE_ACCOUNT = "emulator@local-project.iam.gserviceaccount.com"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
TOKEN_SECONDS = 3600


def _answers(project_id: str, project_number: str) -> dict[str, object]:
    account = {"aliases": ["default"], "email": SERVICE_ACCOUNT, "scopes": list(SCOPES)}
    token = {"access_token": EMULATOR_TOKEN, "expires_in": TOKEN_SECONDS, "token_type": "Bearer"}
    root = "/computeMetadata/v1/"
    return {
        "/": "computeMetadata/",  # google-auth's ping: only the Metadata-Flavor header matters
        root + "project/project-id": project_id,
        root + "project/numeric-project-id": project_number,
        root + "universe/universe-domain": "googleapis.com",
        root + "instance/service-accounts/default/": account,
        root + f"instance/service-accounts/{SERVICE_ACCOUNT}/": account,
        root + "instance/service-accounts/default/email": SERVICE_ACCOUNT,
        root + "instance/service-accounts/default/token": token,
        root + f"instance/service-accounts/{SERVICE_ACCOUNT}/token": token,
        root + "instance/service-accounts/default/scopes": "\n".join(SCOPES),
    }


class _Handler(server.BaseHTTPRequestHandler):
    answers: dict[str, object]
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = urlparse(self.path).path
        if path != "/" and self.headers.get("Metadata-Flavor") != "Google":
            return self._send(403, "Missing Metadata-Flavor:Google header.", "text/html")
        if path not in self.answers:
            return self._send(404, f"{path} not found", "text/html")
        answer = self.answers[path]
        if isinstance(answer, str):
            return self._send(200, answer, "application/text")
        return self._send(200, json.dumps(answer), "application/json")

    def _send(self, status: int, text: str, content_type: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        return


class _Server(server.ThreadingHTTPServer):
    daemon_threads = True


class MetadataServer(BackgroundServer):
    """Serves on ``host:port`` (0: a free port); ``address`` is what the env variables hold."""

    def __init__(self, host: str, port: int, project_id: str, project_number: str) -> None:
        handler = type("Handler", (_Handler,), {"answers": _answers(project_id, project_number)})
        super().__init__(_Server((host, port), handler), "metadata-emulator")
