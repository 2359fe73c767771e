"""Prometheus counters of the baseline server, named as TGI names its own (thread-safe)."""

from __future__ import annotations

import threading
from collections import Counter

_DURATION_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0)
_LENGTH_BUCKETS = (16, 64, 256, 1024, 4096, 16384)


class _Histogram:
    def __init__(self, buckets: tuple):
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        self.n += 1
        self.total += value
        for i, edge in enumerate(self.buckets):
            if value <= edge:
                self.counts[i] += 1

    def lines(self, name: str) -> list[str]:
        out = [f"# TYPE {name} histogram"]
        out += [f'{name}_bucket{{le="{edge}"}} {count}' for edge, count in zip(self.buckets, self.counts, strict=True)]
        out += [f'{name}_bucket{{le="+Inf"}} {self.n}', f"{name}_sum {self.total:g}", f"{name}_count {self.n}"]
        return out


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self.in_flight = 0
        self.in_flight_max = 0  # the most generation requests answered at once
        self.refused = 0  # 429s because max-concurrent requests were in flight (not injected)
        self.requests = 0
        self.successes = 0
        self.failures: Counter[str] = Counter()
        self.injected: Counter[tuple[str, str]] = Counter()
        self.histograms = {
            "tgi_request_queue_duration": _Histogram(_DURATION_BUCKETS),
            "tgi_request_duration": _Histogram(_DURATION_BUCKETS),
            "tgi_request_input_length": _Histogram(_LENGTH_BUCKETS),
            "tgi_request_generated_tokens": _Histogram(_LENGTH_BUCKETS),
        }

    def acquire(self, limit: int) -> bool:
        """Take a generation slot; False when ``limit`` are taken (TGI's try_acquire: no queue)."""
        with self._lock:
            self.requests += 1
            if self.in_flight >= limit:
                self.failures["overloaded"] += 1
                self.refused += 1
                return False
            self.in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self.in_flight)
            return True

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def failure(self, error_type: str) -> None:
        with self._lock:
            self.failures[error_type] += 1

    def inject(self, kind: str, detail: str = "") -> None:
        with self._lock:
            self.injected[kind, detail] += 1

    def success(self, *, duration_s: float, input_tokens: int, generated_tokens: int) -> None:
        with self._lock:
            self.successes += 1
            self.histograms["tgi_request_queue_duration"].observe(0.0)
            self.histograms["tgi_request_duration"].observe(duration_s)
            self.histograms["tgi_request_input_length"].observe(input_tokens)
            self.histograms["tgi_request_generated_tokens"].observe(generated_tokens)

    def render(self) -> str:
        with self._lock:
            lines = [
                "# TYPE tgi_request_count counter",
                f"tgi_request_count {self.requests}",
                "# TYPE tgi_request_success counter",
                f"tgi_request_success {self.successes}",
                "# TYPE tgi_request_failure counter",
                *(f'tgi_request_failure{{err="{err}"}} {n}' for err, n in sorted(self.failures.items())),
                "# TYPE tgi_queue_size gauge",
                "tgi_queue_size 0",  # no waiting queue: past the limit a request gets 429 at once
                "# TYPE tgi_batch_current_size gauge",
                f"tgi_batch_current_size {self.in_flight}",
            ]
            for name, histogram in self.histograms.items():
                lines += histogram.lines(name)
            lines += [
                "# HELP elmtex_baseline_in_flight Generation requests being answered now.",
                "# TYPE elmtex_baseline_in_flight gauge",
                f"elmtex_baseline_in_flight {self.in_flight}",
                "# HELP elmtex_baseline_in_flight_max The most generation requests answered at once.",
                "# TYPE elmtex_baseline_in_flight_max gauge",
                f"elmtex_baseline_in_flight_max {self.in_flight_max}",
                "# HELP elmtex_baseline_refused_total 429s for more than --max-concurrent requests in flight.",
                "# TYPE elmtex_baseline_refused_total counter",
                f"elmtex_baseline_refused_total {self.refused}",
                "# HELP elmtex_baseline_injected_total Faults injected by the --*-rate knobs.",
                "# TYPE elmtex_baseline_injected_total counter",
                *(
                    f'elmtex_baseline_injected_total{{kind="{kind}",status="{detail}"}} {n}'
                    for (kind, detail), n in sorted(self.injected.items())
                ),
            ]
        return "\n".join(lines) + "\n"
