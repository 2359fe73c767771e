"""The ``baseline_server`` fixture: the project's TGI-protocol baseline server, in-process."""

import socket
import threading

import pytest

from inference.baseline.server import make_server


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
