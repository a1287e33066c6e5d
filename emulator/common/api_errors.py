"""Service-like errors: the Google envelope `{"error": {"code", "message", "status"}}`."""

from __future__ import annotations

STATUS_BY_HTTP = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """Raised by a handler; the server turns it into the Google error envelope."""

    def __init__(self, http_status: int, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.message = message
        self.status = status or STATUS_BY_HTTP.get(http_status, "UNKNOWN")
        self.details: list[dict] = []  # google.rpc detail messages (e.g. BadRequest)

    def body(self) -> dict:
        error = {"code": self.http_status, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def invalid(message: str) -> ApiError:
    return ApiError(400, message, "INVALID_ARGUMENT")


def not_found(message: str) -> ApiError:
    return ApiError(404, message, "NOT_FOUND")


def failed_precondition(message: str) -> ApiError:
    return ApiError(400, message, "FAILED_PRECONDITION")


def gs_uri(value: object, field: str, *, needs_object: bool = True) -> str:
    """``value`` when it is ``gs://BUCKET/OBJECT`` (``needs_object=False``: a prefix,
    ``gs://BUCKET`` is enough); else the 400 the service answers. Every Vertex field that
    names Cloud Storage goes through here, so ``gs://`` is a 400, never a 500 later."""
    text = value if isinstance(value, str) else ""
    bucket, _, name = text.removeprefix("gs://").partition("/")
    if not text.startswith("gs://") or not bucket or (needs_object and not name):
        shape = "gs://BUCKET/OBJECT" if needs_object else "gs://BUCKET[/PREFIX]"
        raise invalid(f"{field} must be a {shape} URI, got {value!r}")
    return text
