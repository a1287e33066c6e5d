"""An HTTPS proxy that hands ``*.googleapis.com`` Vertex AI traffic to the emulator, so
code that builds its own client (Google's samples: ``genai.Client()``) reaches the
emulator configured by environment variables alone.

Why: google-genai reads ``GOOGLE_VERTEX_BASE_URL`` only when ``vertexai=True`` is passed
to ``Client()``, and with a custom base URL and project/location only from the
environment it drops the resource path (googleapis/python-genai#2021). It does honour
``HTTPS_PROXY`` and ``SSL_CERT_FILE``: this proxy answers ``CONNECT
<region>-aiplatform.googleapis.com:443``, terminates TLS with a certificate from a local,
throw-away CA (written with the certifi bundle to the file ``SSL_CERT_FILE`` names) and
relays the plain HTTP to the Vertex AI emulator. Any other host is refused: nothing
leaves the machine. Loopback only; the CA key never leaves memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import select
import socket
import socketserver
import ssl
import tempfile
from pathlib import Path

from gemini_sft_kfp.emulator.common.background import BackgroundServer

VERTEX_HOST_SUFFIX = "aiplatform.googleapis.com"
_RELAY_CHUNK = 65536


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """(CA bundle for SSL_CERT_FILE, leaf cert, leaf key) for ``*.googleapis.com``."""
    import certifi
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gemini-sft emulator local CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    names = ["*.googleapis.com", "googleapis.com"]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    bundle = directory / "ca-bundle.pem"
    bundle.write_bytes(ca.public_bytes(pem) + b"\n" + Path(certifi.where()).read_bytes())
    leaf_path, key_path = directory / "leaf.pem", directory / "leaf.key"
    leaf_path.write_bytes(leaf.public_bytes(pem))
    key_path.write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return bundle, leaf_path, key_path


def _relay(left: socket.socket, right: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets = [left, right]
    while True:
        pending = [s for s in sockets if isinstance(s, ssl.SSLSocket) and s.pending()]
        readable = pending or select.select(sockets, [], [], 60)[0]
        if not readable:
            return
        for source in readable:
            data = source.recv(_RELAY_CHUNK)
            if not data:
                return
            (right if source is left else left).sendall(data)


class _Handler(socketserver.StreamRequestHandler):
    tls: ssl.SSLContext
    upstream: tuple[str, int]

    def handle(self) -> None:
        request_line = self.rfile.readline(8192).decode("latin-1").split()
        while self.rfile.readline(8192).strip():
            pass  # headers
        if len(request_line) < 2 or request_line[0] != "CONNECT":
            return self._refuse(405, "only CONNECT to *.aiplatform.googleapis.com:443")
        host = request_line[1].rsplit(":", 1)[0]
        if not host.endswith(VERTEX_HOST_SUFFIX):
            return self._refuse(403, f"{host} is not emulated; nothing leaves this machine")
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        try:
            client = self.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with contextlib.suppress(OSError), socket.create_connection(self.upstream) as upstream:
            _relay(client, upstream)

    def _refuse(self, status: int, reason: str) -> None:
        body = reason.encode()
        self.wfile.write(
            f"HTTP/1.1 {status} Refused\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + body
        )


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class VertexHttpsProxy(BackgroundServer):
    """``HTTPS_PROXY`` for the Vertex AI hosts, relaying to ``upstream`` (host, port)."""

    def __init__(self, host: str, port: int, upstream: tuple[str, int]) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="emulator-tls-")
        self.ca_bundle, leaf, key = _certificates(Path(self._scratch.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(leaf, key)
        context.set_alpn_protocols(["http/1.1"])
        handler = type("Handler", (_Handler,), {"tls": context, "upstream": upstream})
        super().__init__(_Server((host, port), handler), "vertex-https-proxy")

    def stop(self) -> None:
        super().stop()
        self._scratch.cleanup()
