"""Cloud Storage: gcp-storage-emulator run in-process, threaded, with generation preconditions.

gcp-storage-emulator ignores ``ifGenerationMatch`` / ``ifGenerationNotMatch``; the
project relies on ``if_generation_match=0`` ("create only, never overwrite"), so this
module enforces them (412 conditionNotMet) on simple, multipart and resumable uploads
and on deletes. Requests are served on threads but handled one at a time (the
upstream store is not thread-safe).

Resumable uploads behave like GCS after an outage: a chunk whose body was cut off
is not persisted at all (only whole chunks are kept), a status query
(``Content-Range: bytes */*``) answers 308 with ``Range`` naming the persisted bytes
(no ``Range`` when none are), and a resumed chunk that starts inside what is already
persisted has its overlap skipped instead of being refused.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import re
import socketserver
import threading
from functools import partial
from http import server
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from gcp_storage_emulator import server as upstream
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import objects as upstream_objects
from gcp_storage_emulator.storage import Storage
from gemini_sft_kfp.emulator.common.background import BackgroundServer

from gemini_sft_kfp.core.clients import EMULATOR_PROJECT_NUMBER
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.gcp_names import check_bucket

_request = threading.local()
# upstream logs every handler exception, including our deliberate 412s
logging.getLogger("gcp_storage_emulator.server").setLevel(logging.CRITICAL)


class PreconditionFailed(Exception):
    """An ``ifGeneration*`` precondition did not hold."""


class InvalidName(Exception):
    """A bucket or object name Cloud Storage refuses (400 ``invalid``)."""


def check_object_name(name: object) -> None:
    """Cloud Storage's object naming rules, plus one of the emulator's own: no ``.``/``..``
    path segments (they would leave its data directory; Cloud Storage stores them as is)."""
    if not isinstance(name, str) or not 1 <= len(name.encode()) <= 1024:
        raise InvalidName(f"Invalid object name: {name!r} (1-1024 bytes of UTF-8)")
    if "\r" in name or "\n" in name or "\x00" in name or name in (".", ".."):
        raise InvalidName(f"Invalid object name: {name!r}")
    if name.startswith(".well-known/acme-challenge/"):
        raise InvalidName(f"Invalid object name: {name!r} (reserved prefix)")
    if any(part in (".", "..") for part in name.replace("\\", "/").split("/")):
        raise InvalidName(
            f"Invalid object name: {name!r} (the emulator refuses '.' and '..' path segments)"
        )


def _preconditions_from_query(query: dict[str, list[str]]) -> dict[str, int]:
    found = {}
    for key in ("ifGenerationMatch", "ifGenerationNotMatch"):
        if key in query:
            try:
                found[key] = int(query[key][0])
            except ValueError:
                raise ValueError(f"invalid {key} {query[key][0]!r}: not a number") from None
    return found


class PreconditionStorage(Storage):
    """Upstream storage plus generation preconditions and a real generation counter."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._upload_preconditions: dict[str, dict[str, int]] = {}
        self._generation = 0

    def _current_generation(self, bucket: str, name: str) -> int:
        obj = self.objects.get(bucket, {}).get(name)
        return int(obj.get("generation", 0)) if obj else 0

    def _check(self, bucket: str, name: str, conditions: dict[str, int]) -> None:
        current = self._current_generation(bucket, name)
        if "ifGenerationMatch" in conditions and current != conditions["ifGenerationMatch"]:
            raise PreconditionFailed(f"gs://{bucket}/{name}: generation is {current}")
        if "ifGenerationNotMatch" in conditions and current == conditions["ifGenerationNotMatch"]:
            raise PreconditionFailed(f"gs://{bucket}/{name}: generation is {current}")

    def _object_path(self, bucket_name, file_name):
        """One flat file per object name. Names are opaque on Cloud Storage (``c//d`` and
        ``c/d`` are two objects); upstream made them paths, which merged the two."""
        digest = hashlib.sha256(file_name.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{bucket_name}/{digest}"

    def create_bucket(self, bucket_name, bucket_obj):
        try:
            check_bucket(bucket_name)
        except UserError as exc:
            raise InvalidName(exc.message) from None
        return super().create_bucket(bucket_name, bucket_obj)

    def create_resumable_upload(self, bucket_name, file_name, file_obj):
        check_object_name(file_name)
        conditions = getattr(_request, "preconditions", {})
        self._check(bucket_name, file_name, conditions)
        upload_id = super().create_resumable_upload(bucket_name, file_name, file_obj)
        self._upload_preconditions[upload_id] = conditions
        return upload_id

    def create_file(self, bucket_name, file_name, content, file_obj, file_id=None):
        check_object_name(file_name)
        if file_id:
            conditions = self._upload_preconditions.pop(file_id, {})
        else:
            conditions = getattr(_request, "preconditions", {})
        self._check(bucket_name, file_name, conditions)
        # upstream uses whole seconds: two writes in one second would share a generation
        current = self._current_generation(bucket_name, file_name)
        upstream_generation = int(file_obj.get("generation", 0) or 0)
        generation = max(self._generation + 1, current + 1, upstream_generation)
        self._generation = generation
        file_obj["generation"] = str(generation)
        if file_obj.get("mediaLink"):
            file_obj["mediaLink"] = re.sub(
                r"generation=\d+", f"generation={generation}", file_obj["mediaLink"]
            )
        return super().create_file(bucket_name, file_name, content, file_obj, file_id)

    def add_to_resumable_upload(self, file_id, content, total_size=None, expected_start=None):
        """GCS skips the part of a resumed chunk it already persisted."""
        persisted = self.get_resumable_byte_count(file_id)
        if expected_start is not None and expected_start < persisted:
            content = (content or b"")[persisted - expected_start :]
            expected_start = persisted
        return super().add_to_resumable_upload(file_id, content, total_size, expected_start)

    def delete_file(self, bucket_name, file_name):
        self._check(bucket_name, file_name, getattr(_request, "preconditions", {}))
        return super().delete_file(bucket_name, file_name)

    def read(self, bucket: str, name: str) -> bytes:
        """The object's bytes; ``KeyError`` when it does not exist."""
        if name not in self.objects.get(bucket, {}):
            raise KeyError(f"gs://{bucket}/{name}")
        try:
            return self.get_file(bucket, name, show_error=False)
        except NotFound:
            raise KeyError(f"gs://{bucket}/{name}") from None


def _resumable_incomplete(response, storage, upload_id, fallback_end=0) -> None:
    """308 with ``Range: bytes=0-LAST`` of what is persisted; no ``Range`` when nothing is
    (upstream claimed ``bytes=0-0``, one byte that was never received)."""
    response.status = upstream_objects.GoogleHTTPStatus.RESUME_INCOMPLETE
    received = storage.get_resumable_byte_count(upload_id)
    if received > 0:
        response["Range"] = f"bytes=0-{received - 1}"


upstream_objects._resumable_incomplete = _resumable_incomplete


class _Handler(upstream.RequestHandler):
    """Upstream handler, serialised, with preconditions and quiet logging."""

    lock: threading.Lock

    def _body_cut_off(self) -> bool:
        """Read the body now; True when the client went away before sending all of it
        (then nothing of it is persisted, like GCS; there is no one to answer)."""
        length = self.headers.get("Content-Length")
        if not length or not (length.isascii() and length.isdigit()):
            return False
        body = self.rfile.read(int(length))
        self.socket_rfile, self.rfile = self.rfile, io.BytesIO(body)  # upstream reads it here
        if len(body) < int(length):
            self.close_connection = True
            return True
        return False

    def _route(self, method: str) -> None:
        query = parse_qs(urlparse(self.path).query)
        refusal = self._refusal() or _query_refusal(method, urlparse(self.path).path, query)
        if refusal is not None:
            self.close_connection = True  # the body (if any) was not read
            self._send_error(*refusal)
            return
        resumable_put = method == upstream.PUT and "upload_id" in query
        compose = method == upstream.POST and urlparse(self.path).path.endswith("/compose")
        if not (resumable_put or compose):
            with self.lock:
                self._handle(method, query)
            return
        try:
            if resumable_put and self._body_cut_off():
                return
            refusal = self._compose_refusal() if compose else None
            if refusal is not None:
                self._send_error(*refusal)
                return
            with self.lock:
                self._handle(method, query)
        finally:  # the next keep-alive request comes from the socket again
            self.rfile = getattr(self, "socket_rfile", self.rfile)

    def _refusal(self) -> tuple[int, str, str] | None:
        """What Cloud Storage refuses before reading a body: a Content-Length that is not a
        byte count (400) or past the largest object (413), and a body that is not JSON on
        a JSON API method (uploads under ``/upload/`` and batches take other types)."""
        length = self.headers.get("Content-Length")
        if length is not None:
            if not (length.strip().isascii() and length.strip().isdigit()):  # not "²"
                return 400, f"Invalid Content-Length {length!r}", "invalid"
            if int(length) > MAX_BODY_BYTES:
                return (
                    413,
                    f"Content-Length {int(length)} exceeds the emulator's {MAX_BODY_BYTES} bytes "
                    "(Cloud Storage: 5 TiB per object; the emulator holds a body in memory)",
                    "uploadTooLarge",
                )
        path = urlparse(self.path).path
        if self.command == "POST" and _OBJECTS_COLLECTION.match(path):
            # objects.insert sent to the metadata URL, not /upload/ (status-codes page)
            return (
                400,
                "storage.objects.insert must be invoked as an upload rather than a metadata.",
                "wrongUrlForUpload",
            )
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        has_body = bool(length and int(length)) or self.headers.get("Transfer-Encoding")
        json_api = path.startswith("/storage/v1/")
        if json_api and has_body and content_type == "application/x-www-form-urlencoded":
            # reason: "parseError" (cloud.google.com/storage/docs/json_api/v1/status-codes);
            # message: Google's JSON API front end's, as a goo.gl-API clone reproduces it
            # (M29, Ryan Finnie 2012); not observed on storage.googleapis.com itself
            return 400, "This API does not support parsing form-encoded input.", "parseError"
        if json_api and has_body and content_type not in ("", "application/json"):
            # the status-codes page: parseError "Couldn't parse the body of the request
            # according to the provided Content-Type."; this wording is the emulator's
            return (
                400,
                f"Parse Error: the body cannot be parsed as its Content-Type {content_type!r}; "
                "the JSON API takes application/json",
                "parseError",
            )
        return None

    def _compose_refusal(self) -> tuple[int, str, str] | None:
        """``compose`` needs ``sourceObjects`` and a ``destination`` (upstream: a 500)."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        self.socket_rfile, self.rfile = self.rfile, io.BytesIO(raw)  # upstream reads it here
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, "Parse Error", "parseError"
        if not isinstance(body, dict):
            return 400, "Parse Error", "parseError"
        sources = body.get("sourceObjects")
        if not isinstance(sources, list) or not sources:
            return 400, "Required: sourceObjects", "required"
        if len(sources) > MAX_COMPOSE_SOURCES:
            return (
                400,
                f"The number of source components provided ({len(sources)}) exceeds the "
                f"maximum ({MAX_COMPOSE_SOURCES})",
                "invalid",
            )
        for index, source in enumerate(sources):  # upstream: a KeyError, answered 500
            if not isinstance(source, dict) or not isinstance(source.get("name"), str):
                return 400, f"Required: sourceObjects[{index}].name", "required"
        if not isinstance(body.get("destination"), dict):
            return 400, "Required: destination", "required"
        return None

    def _handle(self, method: str, query: dict) -> None:
        """One request, under the lock."""
        try:
            _request.preconditions = _preconditions_from_query(query)
            upstream.Router(self).handle(method)
        except PreconditionFailed as failure:
            self._send_error(412, str(failure), "conditionNotMet")
        except InvalidName as failure:
            self._send_error(400, str(failure), "invalid")
        except Exception as exc:  # answer instead of dropping the connection
            if isinstance(exc, ValueError) and str(exc).startswith("invalid"):
                # a bad precondition number, or upstream's path traversal guard
                self._send_error(400, f"Invalid argument: {exc}", "invalid")
            else:
                self._send_error(500, f"emulator error: {exc!r}", "backendError")
        finally:
            _request.preconditions = {}

    def _send_error(self, status: int, message: str, reason: str) -> None:
        if status == 412:
            message = f"At least one of the pre-conditions you specified did not hold. {message}"
        detail = {"message": message, "domain": "global", "reason": reason}
        error = {"code": status, "message": message, "errors": [detail]}
        body = json.dumps({"error": error}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._route(upstream.GET)

    def do_POST(self):
        self._route(upstream.POST)

    def do_PUT(self):
        self._route(upstream.PUT)

    def do_DELETE(self):
        self._route(upstream.DELETE)

    def do_PATCH(self):
        self._route(upstream.PATCH)

    def log_message(self, format, *args):
        return


MAX_BODY_BYTES = 4 * 1024**3  # the emulator reads a whole body into memory
_OBJECTS_COLLECTION = re.compile(r"^/storage/v1/b/[^/]+/o/?$")
MAX_COMPOSE_SOURCES = 32  # Cloud Storage's compose limit
UPLOAD_TYPES = ("media", "multipart", "resumable")
# Query parameters Cloud Storage parses as integers (a bad one is a 400, never ignored).
INTEGER_PARAMS = (
    "generation",
    "ifGenerationMatch",
    "ifGenerationNotMatch",
    "ifMetagenerationMatch",
    "ifMetagenerationNotMatch",
    "ifSourceGenerationMatch",
    "ifSourceGenerationNotMatch",
    "sourceGeneration",
    "maxResults",
)


def _query_refusal(method: str, path: str, query: dict) -> tuple[int, str, str] | None:
    """What Cloud Storage refuses in the query before acting (upstream answered 200 or a
    500 KeyError): integer parameters that are not integers (``maxResults`` not below 0),
    an upload without a known ``uploadType``, a media upload without ``name``."""
    for key in INTEGER_PARAMS:
        for value in query.get(key, []):
            text = value.strip()
            digits = text.removeprefix("-")
            if not (digits.isascii() and digits.isdigit()) or (
                key == "maxResults" and digits != text
            ):
                return 400, f"Invalid argument: {key}={value!r} is not a valid integer", "invalid"
    if method == upstream.POST and path.startswith("/upload/storage/v1/"):
        upload_type = (query.get("uploadType") or [""])[0]
        if upload_type not in UPLOAD_TYPES:
            return 400, f"Invalid upload type {upload_type!r}", "invalid"
        if upload_type == "media" and not (query.get("name") or [""])[0]:
            return 400, "Required: name (a media upload names its object in the query)", "required"
    return None


class _ThreadingServer(socketserver.ThreadingMixIn, server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


class GcsServer(BackgroundServer):
    """The Cloud Storage emulator on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, host: str, port: int, data_dir: Path | None = None) -> None:
        self.in_memory = data_dir is None
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            root = str(data_dir.resolve())
            self.storage = PreconditionStorage(
                use_memory_fs=False, data_dir=root, project_number=EMULATOR_PROJECT_NUMBER
            )
        else:
            self.storage = PreconditionStorage(
                use_memory_fs=True, project_number=EMULATOR_PROJECT_NUMBER
            )
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"lock": self.lock})
        super().__init__(
            _ThreadingServer((host, port), partial(handler, self.storage)), "gcs-emulator"
        )

    def read(self, uri: str) -> bytes:
        """Bytes of a ``gs://bucket/name`` object; ``KeyError`` when missing."""
        bucket, name = split_gs_uri(uri)
        with self.lock:
            return self.storage.read(bucket, name)

    def wipe(self) -> None:
        with self.lock:
            self.storage.wipe()

    def snapshot(self) -> dict:
        """A copy of the buckets and objects, contents included (``restore`` puts it
        back). In-memory storage only: a state directory's files are not copied."""
        if not self.in_memory:
            raise ValueError("snapshot/restore needs the in-memory storage (no state_dir)")
        with self.lock:
            return copy.deepcopy(vars(self.storage))

    def restore(self, storage: dict) -> None:
        with self.lock:
            vars(self.storage).update(copy.deepcopy(storage))


def split_gs_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("gs://") or "/" not in uri[5:]:
        raise ValueError(f"not a gs://bucket/object URI: {uri!r}")
    bucket, _, name = uri[5:].partition("/")
    return bucket, name
