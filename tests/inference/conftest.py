"""Fixtures of the inference tests: ``baseline_server`` (the project's TGI-protocol baseline
server, in-process), ``people`` (one user per role) and ``run`` (a running run with
candidates of every status)."""

import socket
import threading

import pytest
from django.utils import timezone

from inference.baseline.server import make_server
from tests.inference.run_helpers import MIXED, make_people, run_with_candidates


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def baseline_server():
    """Factory: ``start(**knobs) -> "http://127.0.0.1:<port>"``; every server stops at teardown.

    Knobs are serve_baseline's flags (latency_ms, max_concurrent, fail_rate, fail_status,
    timeout_rate, garbage_rate, truncate_rate, startup_delay, seed, ...). With
    ``startup_delay`` the port stays closed (connection refused) for that long."""
    servers = []

    def start(**knobs) -> str:
        port = free_port() if knobs.get("startup_delay") else 0
        server = make_server("127.0.0.1", port, **knobs)
        servers.append(server)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def people(researcher, reviewer, annotator, outsider):
    return make_people(researcher, reviewer, annotator, outsider)


@pytest.fixture
def run(project):
    return run_with_candidates(project, MIXED, status="running", heartbeat_at=timezone.now())
