"""``filter`` and paging for list methods, as the service does them (subset of AIP-160),
and the get / list / cancel that every long-running job collection shares (``JobRoutes``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gemini_sft_kfp.emulator.common.api_errors import failed_precondition, invalid, not_found
from gemini_sft_kfp.emulator.common.http import Call, Route, route
from gemini_sft_kfp.emulator.common.store import rfc3339

if TYPE_CHECKING:
    from gemini_sft_kfp.emulator.common.service import Service

# a value is a whole quoted string or a bare word without quotes: ``labels.k="v`` (an
# unterminated quote) is refused like the service refuses it, never read as ``"v``
_TERM = re.compile(r'^\s*([A-Za-z_][\w.\-]*)\s*(=|!=|:)\s*("(?:[^"\\]|\\.)*"|[^\s"]+)\s*$')
_FIELD_ALIASES = {"display_name": "displayName", "create_time": "createTime"}
DEFAULT_PAGE_SIZE = 100


def _value(resource: dict, field: str):
    if field.startswith("labels."):
        return (resource.get("labels") or {}).get(field[len("labels.") :])
    field = _FIELD_ALIASES.get(field, field)
    if field == "displayName" and "displayName" not in resource:
        return resource.get("tunedModelDisplayName")
    return resource.get(field)


def compile_filter(text: str) -> Callable[[dict], bool]:
    """``labels.k=v AND state="JOB_STATE_RUNNING"``; ``labels.k:*`` means "has label k"."""
    text = (text or "").strip()
    if not text:
        return lambda resource: True
    terms = []
    for raw in re.split(r"\s+AND\s+", text):
        match = _TERM.match(raw)
        if not match:
            raise invalid(
                f"Unsupported filter {text!r}: use terms like labels.key=value joined by AND"
            )
        field, op, value = match.groups()
        if value.startswith('"'):
            value = value[1:-1].replace('\\"', '"')
        terms.append((field, op, value))

    def accept(resource: dict) -> bool:
        for field, op, value in terms:
            actual = _value(resource, field)
            if op == ":" and value == "*":
                ok = actual is not None
            elif op == "!=":
                ok = actual is None or str(actual) != value
            else:
                ok = actual is not None and str(actual) == value
            if not ok:
                return False
        return True

    return accept


def page(call: Call, items: list[dict], key: str) -> dict:
    """One page of ``items`` under ``key`` with ``nextPageToken`` (an opaque offset)."""
    size = max(int(call.query.get("pageSize") or 0), 0) or DEFAULT_PAGE_SIZE  # checked: schema
    token = call.query.get("pageToken") or ""
    try:
        start = int(token) if token else 0
    except ValueError:
        start = -1
    if start < 0:
        raise invalid(f"Invalid page token {token!r}")
    chunk = items[start : start + size]
    body: dict = {key: chunk} if chunk else {}
    if start + size < len(items):
        body["nextPageToken"] = str(start + size)
    return body


def owned_record(service: Service, call: Call, table: str, kind: str) -> dict:
    """The record ``call.params["id"]`` of ``table`` under the caller's parent, else 404.

    Call with the store lock held; the record is live (copy it before returning it).
    """
    record = service.store.table(table).get(call.params["id"])
    if record is None or not record["name"].startswith(call.parent + "/"):
        raise not_found(f"{kind} {call.parent}/{table}/{call.params['id']} not found.")
    return record


def list_owned(
    service: Service, call: Call, table: str, render: Callable[[dict], dict] = dict
) -> dict:
    """One page of the parent's records of ``table`` that pass ``filter``, newest first."""
    accept = compile_filter(call.query.get("filter", ""))
    with service.store.lock:
        found = [
            render(record)
            for record in service.store.table(table).values()
            if record["name"].startswith(call.parent + "/") and accept(record)
        ]
    found.sort(key=lambda record: record["createTime"], reverse=True)
    return page(call, found, table)


def mark_cancelled(job: dict, state: str, now: str | None = None) -> None:
    """What a cancel leaves on a job: ``state``, its end time, the CANCELED status."""
    now = now or rfc3339()
    job.update(state=state, endTime=now, updateTime=now, error={"code": 1, "message": "CANCELED"})


@dataclass(frozen=True)
class JobRoutes:
    """get, list and cancel of a job collection (``tuningJobs``, ``batchPredictionJobs``):
    each brings its jobs up to date first (``advance_all``: lifecycles are computed from
    timestamps), shows them through ``view`` and cancels only an unfinished one."""

    table: str  # also the REST collection: tuningJobs
    kind: str  # the resource type in a 404: TuningJob
    noun: str  # in the refused cancel: tuning job
    terminal: Collection[str]
    advance_all: Callable[[Service], None]
    view: Callable[[dict], dict]

    def record(self, service: Service, call: Call) -> dict:
        """The caller's job (live: hold the store lock)."""
        return owned_record(service, call, self.table, self.kind)

    def get(self, service: Service, call: Call) -> dict:
        self.advance_all(service)
        with service.store.lock:
            return self.view(self.record(service, call))

    def list(self, service: Service, call: Call) -> dict:
        self.advance_all(service)
        return list_owned(service, call, self.table, self.view)

    def cancel(self, service: Service, call: Call) -> dict:
        self.advance_all(service)
        with service.store.lock:
            job = self.record(service, call)
            if job["state"] in self.terminal:
                raise failed_precondition(
                    f"Cannot cancel {self.noun} {job['name']} in state {job['state']}."
                )
            mark_cancelled(job, "JOB_STATE_CANCELLED")
            service.store.save()
        return {}

    def routes(self, parent: str, create: Callable[[Service, Call], dict]) -> list[Route]:
        """create (the collection's own), list, get, cancel under ``parent`` (a regex)."""
        collection = f"{parent}/{self.table}"
        job = collection + r"/(?P<id>[^/]+)"
        return [
            route("POST", collection, f"{self.table}.create", create),
            route("GET", collection, f"{self.table}.list", self.list),
            route("GET", job, f"{self.table}.get", self.get),
            route("POST", job, f"{self.table}.cancel", self.cancel, verb="cancel"),
        ]
