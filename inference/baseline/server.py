"""The baseline TGI-protocol server: stdlib HTTP, the rule extractor, fault knobs.

Speaks /work/shared/TGI_PROTOCOL.md so that code which works against it works against a
real TGI: ``/``, ``/generate``, ``/generate_stream``, ``/v1/chat/completions``, ``/info``,
``/health``, ``/tokenize``, ``/metrics``. The knobs (``serve_baseline`` flags) inject the
faults a real deployment shows: latency, overload, failures, hung requests, non-JSON
output, cut output, a slow start. Logs name paths and statuses, never request text.

    server = make_server("127.0.0.1", 0, latency_ms=50, fail_rate=0.1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ...
    server.shutdown(); server.server_close()
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

from .handler import GARBAGE, Handler
from .metrics import Metrics
from .protocol import ERROR_BODIES, MAX_STOP_SEQUENCES

logger = logging.getLogger("elmtex.baseline")

VERSION = "3.3.6+elmtex.baseline"


def _source_sha() -> str:
    """The "model revision": a hash of the code that decides the output."""
    digest = hashlib.sha1()
    for name in ("extractor.py", "prompting.py", "responses.py"):
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Knobs:
    latency_ms: int = 0
    max_concurrent: int = 128
    fail_rate: float = 0.0
    fail_status: tuple[int, ...] = (429, 424, 500)
    timeout_rate: float = 0.0
    garbage_rate: float = 0.0
    truncate_rate: float = 0.0
    startup_delay: float = 0.0
    seed: int = 0
    model_id: str = "elmtex/rule-baseline"
    max_input_tokens: int = 8192
    max_total_tokens: int = 12288
    hold_s: float = 900.0  # how long --timeout-rate holds a request: far past any client timeout

    def __post_init__(self):
        object.__setattr__(self, "fail_status", tuple(self.fail_status))
        for name in ("fail_rate", "timeout_rate", "garbage_rate", "truncate_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name.replace('_', '-')} must be between 0 and 1, got {getattr(self, name)}")
        for name in ("latency_ms", "startup_delay", "hold_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name.replace('_', '-')} must not be negative")
        if self.max_concurrent < 1:
            raise ValueError("max-concurrent must be at least 1")
        if not 1 <= self.max_input_tokens < self.max_total_tokens:
            raise ValueError("max-input-tokens must be at least 1 and less than max-total-tokens")
        unknown = [s for s in self.fail_status if s not in ERROR_BODIES]
        if unknown or not self.fail_status:
            allowed = ",".join(map(str, sorted(ERROR_BODIES)))
            raise ValueError(f"fail-status must be a non-empty list of {allowed}; got {list(self.fail_status)}")


@dataclass(frozen=True)
class Draw:
    """One request's share of the seeded randomness, drawn in a fixed order."""

    fail: bool
    status: int
    timeout: bool
    garbage: bool
    variant: int
    truncate: bool
    fraction: float


class BaselineServer(ThreadingHTTPServer):
    daemon_threads = True
    # Workers open many connections at once (a batch sends its requests together); with
    # socketserver's default backlog of 5 the kernel drops the overflow and clients wait
    # ~1 s to retry the SYN. TGI's own listener takes them all.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], knobs: Knobs):
        super().__init__(address, Handler, bind_and_activate=False)
        self.knobs = knobs
        self.metrics = Metrics()
        self.stopping = threading.Event()
        self.model_sha = _source_sha()
        self._rng = random.Random(knobs.seed)
        self._lock = threading.Lock()
        self._bound = False
        self._looping = False
        self._requests = 0

    def open(self) -> None:
        """Bind and listen; the port stays closed until then, as while TGI loads a model."""
        try:
            self.server_bind()
            self.server_activate()
        except OSError:
            self.server_close()
            raise
        self._bound = True

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        if not self._bound:
            if self.stopping.wait(self.knobs.startup_delay):
                return
            self.open()
        with self._lock:
            if self.stopping.is_set():
                return
            self._looping = True
        super().serve_forever(poll_interval)

    def shutdown(self) -> None:
        """Stop serving (also while still "loading"); held requests are released."""
        self.stopping.set()
        with self._lock:
            looping = self._looping
        if looping:
            super().shutdown()

    def draw(self) -> Draw:
        k, r = self.knobs, self._rng
        with self._lock:
            return Draw(
                fail=r.random() < k.fail_rate,
                status=r.choice(k.fail_status),
                timeout=r.random() < k.timeout_rate,
                garbage=r.random() < k.garbage_rate,
                variant=r.randrange(len(GARBAGE)),
                truncate=r.random() < k.truncate_rate,
                fraction=r.uniform(0.1, 0.9),
            )

    def next_id(self) -> int:
        with self._lock:
            self._requests += 1
            return self._requests

    def info(self) -> dict:
        k = self.knobs
        return {
            "model_id": k.model_id,
            "model_sha": self.model_sha,
            "model_pipeline_tag": "text-generation",
            "max_concurrent_requests": k.max_concurrent,
            "max_best_of": 2,
            "max_stop_sequences": MAX_STOP_SEQUENCES,
            "max_input_tokens": k.max_input_tokens,
            "max_total_tokens": k.max_total_tokens,
            "validation_workers": 2,
            "max_client_batch_size": 4,
            "router": "text-generation-router",
            "version": VERSION,
            "sha": None,
            "docker_label": None,
        }


def make_server(host: str = "127.0.0.1", port: int = 0, **knobs) -> BaselineServer:
    """A server bound to ``host:port`` (port 0: a free one), or, with ``startup_delay``, one
    that binds only once ``serve_forever`` has waited that long (pass a real port then).
    Raises ``ValueError`` for a bad knob, ``OSError`` when the port cannot be bound."""
    server = BaselineServer((host, port), Knobs(**knobs))
    if server.knobs.startup_delay <= 0:
        server.open()
    return server
