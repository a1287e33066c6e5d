"""The WSGI application: routing, JSON in/out, faults, request log, test hooks.

Paths follow the Vertex AI REST surface (``/v1/...`` and ``/v1beta1/...``); custom
verbs are the ``:verb`` suffix of the last segment. Any bearer token is accepted.
"""

from __future__ import annotations

import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from gemini_sft_kfp.emulator.common.api_errors import ApiError, invalid
from gemini_sft_kfp.emulator.common.faults import Fault
from gemini_sft_kfp.emulator.common.request_schema import (
    MAX_REQUEST_BYTES,
    cannot_bind,
    check_query,
    check_query_names,
    check_request,
    is_system_parameter,
    too_large,
)
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from gemini_sft_kfp.core.outputs import is_disk_error

if TYPE_CHECKING:
    from gemini_sft_kfp.emulator.common.service import Service

_VERSION_PREFIX = re.compile(r"^/(?:v1|v1beta1|ui)/")
JSON_TYPE = "application/json; charset=UTF-8"
DRAIN_FACTOR = 2  # a body declared past this many times the limit is not read at all


@dataclass
class Call:
    """One parsed API call handed to a handler."""

    params: dict[str, str]
    query: MultiDict
    body: dict
    api_version: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def parent(self) -> str:
        return f"projects/{self.params['project']}/locations/{self.params['location']}"


@dataclass
class Reply:
    """What a handler returns when it needs a status or headers besides the JSON body."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # pre-encoded body (e.g. server-sent events)
    content_type: str = JSON_TYPE


Handler = Callable[["Service", Call], "dict | Reply"]


@dataclass(frozen=True)
class Route:
    http_method: str
    pattern: re.Pattern
    verb: str | None
    name: str  # REST method name used by faults and the request log
    handler: Handler


def route(http_method: str, path: str, name: str, handler: Handler, verb: str | None = None):
    """``path`` is a regex over the resource path (after ``/v1/``), without the verb."""
    return Route(http_method, re.compile(path), verb, name, handler)


def _split_verb(resource_path: str) -> tuple[str, str | None]:
    last_slash = resource_path.rfind("/")
    colon = resource_path.find(":", last_slash + 1)
    if colon == -1:
        return resource_path, None
    return resource_path[:colon], resource_path[colon + 1 :]


def _json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(orjson.dumps(body), status=status, content_type=JSON_TYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class Application:
    """Dispatches requests to the handlers in ``routes``; hooks live under ``/emulator/``."""

    def __init__(
        self,
        service: Service,
        routes: list[Route],
        strict: bool = False,
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self.service = service
        self.routes = routes
        self.strict = strict  # check every body against the protos (see fidelity.py)
        self.max_request_bytes = max_request_bytes

    def __call__(self, environ, start_response):
        request = Request(environ)
        oversized = self._oversized(request)
        if oversized is not None:
            response = oversized
        elif request.path.startswith("/emulator/"):
            response = self._hook(request)
        else:
            response = self._api(request)
        return response(environ, start_response)

    def _oversized(self, request: Request) -> Response | None:
        """400 for a Content-Length that is not a byte count; 413 for a body over the limit,
        read in chunks and dropped (memory stays flat) so the client reads the answer, or,
        declared past ``DRAIN_FACTOR`` times the limit, answered at once without reading."""
        raw_length = request.environ.get("CONTENT_LENGTH", "").strip()
        if raw_length and not (raw_length.isascii() and raw_length.isdigit()):  # not "²"
            self.service.log.add("unknown", 400, request.path)
            error = invalid(f"Invalid Content-Length {raw_length!r}")
            return _json_response(error.body(), 400, {"Connection": "close"})
        declared = int(raw_length) if raw_length else None
        chunked = request.environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked"
        if declared is None and not chunked:
            return None  # no body
        if declared is not None and declared <= self.max_request_bytes:
            return None
        if declared is not None and declared > DRAIN_FACTOR * self.max_request_bytes:
            self.service.log.add("unknown", 413, request.path)
            error = too_large(declared, self.max_request_bytes)
            return _json_response(error.body(), 413, {"Connection": "close"})
        stream = request.environ["wsgi.input"]
        seen = 0
        if declared is None:  # chunked: read up to the limit, keep it if it fits
            chunks = []
            while seen <= self.max_request_bytes:
                chunk = stream.read(65536)
                if not chunk:
                    request._cached_data = b"".join(chunks)
                    return None
                chunks.append(chunk)
                seen += len(chunk)
            chunks.clear()
        while seen < (declared or float("inf")):  # drain: the client then reads the 413
            chunk = stream.read(min(65536, (declared or seen + 65536) - seen))
            if not chunk:
                break
            seen += len(chunk)
        self.service.log.add("unknown", 413, request.path)
        error = too_large(declared or seen, self.max_request_bytes)
        return _json_response(error.body(), 413, {"Connection": "close"})

    def _match(self, request: Request) -> tuple[Route, dict, str] | None:
        prefix = _VERSION_PREFIX.match(request.path)
        if not prefix:
            return None
        api_version = prefix.group(0).strip("/")
        resource_path, verb = _split_verb(request.path[prefix.end() :])
        for candidate in self.routes:
            if candidate.http_method != request.method or candidate.verb != verb:
                continue
            found = candidate.pattern.fullmatch(resource_path)
            if found:
                return candidate, found.groupdict(), api_version
        return None

    def _api(self, request: Request) -> Response:
        request.get_data()  # always drain the body: keep-alive connections stay in sync
        matched = self._match(request)
        if matched is None:
            error = ApiError(404, f"no emulated method for {request.method} {request.path}")
            self.service.log.add("unknown", 404, request.path)
            return _json_response(error.body(), 404)
        matched_route, params, api_version = matched
        if params.get("project"):  # ids and numbers name the same project; names use numbers
            params["project"] = self.service.projects.number(params["project"])
        decision = self.service.faults.decide(matched_route.name)
        if decision.latency_s:
            time.sleep(decision.latency_s)
        try:
            if decision.error is not None and not decision.after:
                raise decision.error
            check_query(request.args)
            check_query_names(matched_route.name, api_version, request.args.keys())
            body = _parse_body(request)
            if not isinstance(body, dict):
                raise invalid("Invalid JSON payload received. The body must be a JSON object.")
            body = check_request(matched_route.name, api_version, body)
            call = Call(
                params=params,
                query=request.args,
                body=body,
                api_version=api_version,
                headers=dict(request.headers),
            )
            result = matched_route.handler(self.service, call)
            if decision.error is not None:
                raise decision.error
        except ApiError as error:
            self.service.log.add(matched_route.name, error.http_status, request.path)
            return _json_response(error.body(), error.http_status)
        except Exception as exc:  # an emulator bug: answer like the service, keep serving
            if is_disk_error(exc):  # its state directory's disk, not a bug: one line
                print(f"emulator: {matched_route.name}: {exc}", file=sys.stderr)
            else:
                traceback.print_exc(file=sys.stderr)
            error = ApiError(500, f"emulator internal error in {matched_route.name}: {exc!r}")
            self.service.log.add(matched_route.name, 500, request.path)
            return _json_response(error.body(), 500)
        reply = result if isinstance(result, Reply) else Reply(result)
        if self.strict and reply.raw is None:
            from gemini_sft_kfp.emulator.common.fidelity import violation

            problem = violation(matched_route.name, api_version, reply.body)
            if problem:
                error = ApiError(500, f"emulator response is not proto-valid: {problem}")
                self.service.log.add(matched_route.name, 500, request.path)
                return _json_response(error.body(), 500)
        self.service.log.add(matched_route.name, reply.status, request.path)
        if reply.raw is not None:
            response = Response(reply.raw, status=reply.status, content_type=reply.content_type)
            response.headers.update(reply.headers)
            return response
        return _json_response(reply.body, reply.status, reply.headers)

    def _hook(self, request: Request) -> Response:
        service = self.service
        try:
            if request.path == "/emulator/faults" and request.method == "POST":
                body = _parse_body(request)
                for rule in body if isinstance(body, list) else [body]:
                    service.faults.add(Fault.from_json(rule))
                return _json_response({"faults": service.faults.rules()})
            if request.path == "/emulator/faults" and request.method == "DELETE":
                service.faults.clear()
                return _json_response({})
            if request.path == "/emulator/faults" and request.method == "GET":
                return _json_response({"faults": service.faults.rules()})
            if request.path == "/emulator/requests" and request.method == "GET":
                verbose = request.args.get("verbose", "").lower() in ("1", "true", "yes")
                return _json_response(service.log.entries(verbose=verbose))
            if request.path == "/emulator/requests" and request.method == "DELETE":
                service.log.clear()
                return _json_response({})
            if request.path == "/emulator/reset" and request.method == "POST":
                service.reset()
                return _json_response({})
            if request.path.startswith("/emulator/metrics/") and request.method == "GET":
                from gemini_sft_kfp.emulator.tuning.training_curves import simulated_metrics

                job_name = request.path[len("/emulator/metrics/") :]
                return _json_response(simulated_metrics(service, job_name))
            if request.path == "/emulator/health":
                return _json_response({"status": "ok"})
        except ApiError as error:
            return _json_response(error.body(), error.http_status)
        except Exception as exc:  # a hook bug still answers JSON, never an HTML page
            traceback.print_exc(file=sys.stderr)
            error = ApiError(500, f"emulator internal error in {request.path}: {exc!r}")
            return _json_response(error.body(), 500)
        return _json_response(ApiError(404, f"no emulator hook {request.path}").body(), 404)


def _parse_body(request: Request) -> Any:
    raw = request.get_data()
    if not raw:
        return {}
    content_type = request.mimetype  # "" when not given: read as JSON, as the service does
    if content_type == FORM_TYPE:
        refusal = form_body_refusal(raw)
        if refusal is not None:
            raise refusal
        return {}  # system parameters only: bound, and the JSON body is empty
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        # Unverified against Vertex AI (see the README, "Request bodies"): the emulator
        # refuses rather than guess, so nothing that passes here fails there for it.
        raise invalid(
            f"Invalid JSON payload received. The emulator reads only application/json "
            f"bodies, not {content_type!r} (what Vertex AI does with one is not documented)."
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"Invalid JSON payload received. {exc}") from None


FORM_TYPE = "application/x-www-form-urlencoded"


def form_body_refusal(raw: bytes) -> ApiError | None:
    """What Google's API front end (ESF) answers a form-encoded body: it binds the pairs as
    query parameters, so each name that is not a query-bindable field of the request is
    "Cannot bind query parameter" (observed: VBA-tools/VBA-Web#332, a JSON text sent as a
    form to sheets.googleapis.com came back with exactly this, the whole text as the name).
    The emulator's methods with a body bind no field from the query (models.patch's
    ``updateMask`` aside, not modelled), so every non-system name is refused."""
    from urllib.parse import parse_qsl

    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    names = [name for name, _ in pairs if not is_system_parameter(name)]
    return cannot_bind(names) if names else None
