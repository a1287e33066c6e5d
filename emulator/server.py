"""``Emulator``: Vertex AI (werkzeug, threaded) and Cloud Storage servers in one process."""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

import orjson
from gemini_sft_kfp.emulator.cloud_storage.gcs import GcsServer
from gemini_sft_kfp.emulator.common import operations
from gemini_sft_kfp.emulator.common.background import BackgroundServer
from gemini_sft_kfp.emulator.common.faults import Fault
from gemini_sft_kfp.emulator.common.http import Application
from gemini_sft_kfp.emulator.common.https_proxy import VertexHttpsProxy
from gemini_sft_kfp.emulator.common.metadata_server import MetadataServer
from gemini_sft_kfp.emulator.common.projects import DEFAULT_PROJECT
from gemini_sft_kfp.emulator.common.request_schema import MAX_REQUEST_BYTES
from gemini_sft_kfp.emulator.common.service import Service
from gemini_sft_kfp.emulator.common.state_lock import StateLock
from gemini_sft_kfp.emulator.common.store import Store
from gemini_sft_kfp.emulator.gen_ai_evaluation import evaluation_service
from gemini_sft_kfp.emulator.model_registry import models_api
from gemini_sft_kfp.emulator.serving import (
    batch_prediction,
    compute_tokens,
    endpoints_api,
    generate,
)
from gemini_sft_kfp.emulator.tuning import tuning_jobs as tuning
from gemini_sft_kfp.emulator.vertex_pipelines import experiments, schedules
from gemini_sft_kfp.emulator.vertex_pipelines import pipeline_jobs_api as pipelines
from gemini_sft_kfp.emulator.vertex_pipelines.pipeline_runner import PipelineExecutor
from werkzeug.serving import WSGIRequestHandler, make_server

from gemini_sft_kfp.core import project as _project

# The product's default region (``gemini_sft_kfp.core.project``); the default project
# (the same one) lives in projects.py with the project numbers.
DEFAULT_LOCATION = _project.DEFAULT_LOCATION
LISTEN_BACKLOG = 1024  # 200+ concurrent clients connect at once in the benchmark
ROUTES = (
    operations.ROUTES
    + models_api.ROUTES
    + endpoints_api.ROUTES
    + tuning.ROUTES
    + generate.ROUTES
    + evaluation_service.ROUTES
    + batch_prediction.ROUTES
    + pipelines.ROUTES
    + schedules.ROUTES
    + experiments.ROUTES
    + compute_tokens.ROUTES
)
SCHEDULER_TICK_SECONDS = 1.0


@dataclass(frozen=True)
class EmulatorState:
    """``Emulator.snapshot()``: opaque, for ``Emulator.restore``."""

    vertex: dict
    storage: dict


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDKs reuse connections

    def log_request(self, *args, **kwargs) -> None:
        return


class Emulator:
    """Local Vertex AI + Cloud Storage. Port 0 picks a free port. Use as a context manager."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        gcs_port: int = 0,
        tuning_seconds: float = 2.0,
        state_dir: str | Path | None = None,
        run_pipelines: bool = False,
        max_running_tuning_jobs: int | None = None,
        strict: bool = False,
        project_numbers: dict[str, str] | None = None,
        metadata_port: int | None = 0,
        https_proxy_port: int | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        joinable: bool = False,
        quota_mode: str = "queue",
    ) -> None:
        self.host = host
        self.joinable = joinable  # published: other processes may use this emulator
        state = Path(state_dir) if state_dir else None
        # one writer per state directory: StateDirInUse (a UserError) when another owns it
        self._state_lock = StateLock(state) if state else None
        if self._state_lock:
            self._state_lock.acquire()
        listener = None
        try:
            store = Store(state)  # a bad state file fails before any port is taken
            # bind first so a busy port is a plain OSError (werkzeug would sys.exit)
            listener = _listen(host, port)
            self._gcs = GcsServer(host, gcs_port, data_dir=state / "gcs" if state else None)
        except BaseException:
            if listener is not None:
                listener.close()
            if self._state_lock:
                self._state_lock.release()
            raise
        self.service = Service(
            store,
            self._gcs,
            tuning_seconds,
            max_running_tuning_jobs,
            project_numbers,
            quota_mode=quota_mode,
        )
        with listener:
            self._http = make_server(
                host,
                port,
                Application(
                    self.service, ROUTES, strict=strict, max_request_bytes=max_request_bytes
                ),
                threaded=True,
                request_handler=_QuietHandler,
                fd=listener.fileno(),
            )
        self._vertex = BackgroundServer(self._http, "vertex-emulator")
        self._metadata: MetadataServer | None = None
        if metadata_port is not None:
            self._metadata = MetadataServer(
                host,
                metadata_port,
                DEFAULT_PROJECT,
                self.service.projects.number(DEFAULT_PROJECT),
            )
        self._proxy: VertexHttpsProxy | None = None
        if https_proxy_port is not None:
            self._proxy = VertexHttpsProxy(host, https_proxy_port, (host, self.port))
        self._scratch: tempfile.TemporaryDirectory | None = None
        if run_pipelines:
            if state is None:
                self._scratch = tempfile.TemporaryDirectory(prefix="emulator-pipelines-")
            runs = state / "pipeline-runs" if state else Path(self._scratch.name)
            self.service.pipeline_executor = PipelineExecutor(runs, self.env)
        self._stopping = threading.Event()
        self._scheduler: threading.Thread | None = None
        if run_pipelines:
            self._scheduler = threading.Thread(
                target=self._fire_schedules, name="emulator-scheduler", daemon=True
            )

    # ---- lifecycle ----------------------------------------------------------------
    def _fire_schedules(self) -> None:
        while not self._stopping.wait(SCHEDULER_TICK_SECONDS):
            try:
                schedules.fire_due(self.service)
            except Exception:  # a bad schedule must not stop the others
                traceback.print_exc(file=sys.stderr)

    def start(self) -> Emulator:
        self._gcs.start()
        if self._metadata is not None:
            self._metadata.start()
        if self._proxy is not None:
            self._proxy.start()
        if self._scheduler is not None:
            self._scheduler.start()
        self._vertex.start()
        if self._state_lock:
            self._state_lock.publish(
                vertex_url=self.vertex_url, gcs_url=self.gcs_url, joinable=self.joinable
            )
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self.service.pipeline_executor is not None:
            self.service.pipeline_executor.stop()
        self._vertex.stop()
        self._gcs.stop()
        if self._metadata is not None:
            self._metadata.stop()
        if self._proxy is not None:
            self._proxy.stop()
        if self._scratch is not None:
            self._scratch.cleanup()
        if self._state_lock:
            self._state_lock.release()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- addresses ----------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._vertex.port

    @property
    def gcs_port(self) -> int:
        return self._gcs.port

    @property
    def vertex_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def gcs_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.gcs_port}"

    @property
    def env(self) -> dict[str, str]:
        return {"VERTEX_AI_EMULATOR_HOST": self.vertex_url, "STORAGE_EMULATOR_HOST": self.gcs_url}

    @property
    def sdk_env(self) -> dict[str, str]:
        """What unmodified Google code needs besides ``env``: project and location,
        google-genai on Vertex, ADC from the loopback metadata server and, with
        ``https_proxy_port``, the Vertex AI hosts relayed here (see https_proxy.py)."""
        env = {
            "GOOGLE_CLOUD_PROJECT": DEFAULT_PROJECT,
            "GOOGLE_CLOUD_LOCATION": DEFAULT_LOCATION,
            "GOOGLE_GENAI_USE_VERTEXAI": "True",
        }
        if self._metadata is not None:
            address = f"{_url_host(self.host)}:{self._metadata.port}"
            env |= {"GCE_METADATA_HOST": address, "GCE_METADATA_IP": address}
        if self._proxy is not None:
            env |= {
                "HTTPS_PROXY": f"http://{_url_host(self.host)}:{self._proxy.port}",
                "SSL_CERT_FILE": str(self._proxy.ca_bundle),
                "NO_PROXY": "127.0.0.1,localhost,::1",
            }
        return env

    # ---- test hooks (same as the /emulator/ HTTP hooks) ---------------------------
    def add_fault(self, method: str, status: int | None = None, **options) -> None:
        """``times=N`` / ``rate=0.1`` / ``latency_ms=100`` / ``after=True``; see faults.py."""
        self.service.faults.add(Fault.from_json({"method": method, "status": status, **options}))

    def clear_faults(self) -> None:
        self.service.faults.clear()

    def requests(self, verbose: bool = False) -> list[dict]:
        """Calls served, in order: ``{"method", "status"}`` (+ ``path``, ``time``)."""
        return self.service.log.entries(verbose=verbose)

    def reset(self) -> None:
        self.service.reset()

    def snapshot(self) -> EmulatorState:
        """A copy of what runs leave behind: the Vertex-side resources (jobs, models,
        endpoints) and the Cloud Storage buckets and objects, so tests can start several
        times from one expensive run. Faults, the request log and settings are not state."""
        return EmulatorState(self.service.store.snapshot(), self._gcs.snapshot())

    def restore(self, state: EmulatorState) -> None:
        """The emulator as ``state`` was taken, from a ``reset()`` (no faults, an empty
        request log, initial settings); ids keep counting up: never reused."""
        self.reset()
        self.service.store.restore(state.vertex)
        self._gcs.restore(state.storage)

    def dump_state(self) -> bytes:
        """The Vertex-side state as JSON (debugging aid)."""
        with self.service.store.lock:
            return orjson.dumps(self.service.store.data)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
