"""The broker fallback (elmtex_site/broker.py): env URL, a local Redis, else the embedded one."""

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from kombu import Connection

from elmtex_site import broker

ROOT = Path(__file__).resolve().parent.parent


def _never_called(host, port):
    raise AssertionError("the local Redis must not be probed when CELERY_BROKER_URL is set")


def test_the_environment_always_wins(tmp_path):
    url = broker.broker_url_resolve("redis://redis.example:6380/3", var_dir=tmp_path, probe=_never_called)
    assert url == "redis://redis.example:6380/3"


def test_a_local_redis_that_answers_is_used(tmp_path):
    asked = []

    def probe(host, port):
        asked.append((host, port))
        return True

    assert broker.broker_url_resolve(None, var_dir=tmp_path, probe=probe) == "redis://127.0.0.1:6379/0"
    assert broker.broker_url_resolve("  ", var_dir=tmp_path, probe=probe) == "redis://127.0.0.1:6379/0"
    assert asked == [("127.0.0.1", 6379)] * 2


def test_nothing_answering_means_the_embedded_socket_under_var(tmp_path, monkeypatch):
    # Resolving never starts a server: settings are imported by every process.
    monkeypatch.setattr(broker, "embedded_redis_start", _never_called)
    url = broker.broker_url_resolve("", var_dir=tmp_path, probe=lambda host, port: False)
    assert url == f"redis+socket://{tmp_path.resolve()}/redis/elmtex-redis.sock"
    assert broker.embedded_socket_of(url) == tmp_path.resolve() / "redis" / "elmtex-redis.sock"
    assert not (tmp_path / "redis").exists()


def test_a_long_checkout_path_gets_a_socket_short_enough_for_unix_sockets(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    path = broker.embedded_socket_path(deep)
    assert len(str(path)) <= broker.MAX_SOCKET_PATH
    assert path.name == "elmtex-redis.sock"
    assert broker.embedded_socket_path(deep) == path  # the same checkout always gets the same socket


def test_only_our_socket_urls_are_started_on_demand():
    assert broker.embedded_socket_of("redis://127.0.0.1:6379/0") is None
    assert broker.embedded_socket_of("redis+socket:///run/redis/redis.sock") is None
    assert broker.embedded_socket_of(None) is None
    assert broker.embedded_socket_of("redis+socket:///x/elmtex-redis.sock?virtual_host=1") == Path(
        "/x/elmtex-redis.sock"
    )
    assert broker.redis_client_url("redis+socket:///x/elmtex-redis.sock") == "unix:///x/elmtex-redis.sock"
    assert broker.redis_client_url("redis://h:1/0") == "redis://h:1/0"
    assert broker.broker_url_display("redis://:secret@h:1/0") == "redis://***@h:1/0"
    assert broker.broker_url_display("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def _serve_once(reply: bytes | None):
    """A TCP server on a free port answering one connection with ``reply`` (None: silence)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer():
        conn, _ = server.accept()
        with conn:
            conn.recv(64)
            if reply is not None:
                conn.sendall(reply)
            else:
                threading.Event().wait(1)

    threading.Thread(target=answer, daemon=True).start()
    return server


@pytest.mark.parametrize(
    ("reply", "answers"),
    [
        (b"+PONG\r\n", True),
        (b"-NOAUTH Authentication required.\r\n", False),
        (b"HTTP/1.1 400\r\n", False),
        (None, False),
    ],
)
def test_the_probe_needs_a_real_pong(reply, answers):
    server = _serve_once(reply)
    try:
        assert broker.redis_tcp_answers(*server.getsockname(), timeout=0.2) is answers
    finally:
        server.close()


def test_the_probe_of_a_closed_port_says_no():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert broker.redis_tcp_answers("127.0.0.1", port) is False


@pytest.fixture
def socket_path(tmp_path):
    path = tmp_path / "elmtex-redis.sock"
    yield path
    broker.embedded_redis_stop(path)


def test_the_embedded_redis_starts_once_answers_and_stops(socket_path):
    socket_path.parent.mkdir(exist_ok=True)
    socket_path.write_text("stale")  # left by a killed server: replaced
    assert broker.embedded_redis_start(socket_path) is True
    assert broker.redis_socket_answers(socket_path)
    assert broker.embedded_redis_start(socket_path) is False  # reused, not a second server
    assert broker.embedded_redis_stop(socket_path) is True
    assert not broker.redis_socket_answers(socket_path)
    assert not socket_path.exists()
    assert broker.embedded_redis_stop(socket_path) is False


def test_kombu_talks_to_the_embedded_redis_over_the_socket(socket_path):
    broker.embedded_redis_start(socket_path)
    with Connection(broker.embedded_url(socket_path)) as conn:
        conn.ensure_connection(max_retries=1)
        queue = conn.SimpleQueue("elmtex-broker-test")
        queue.put({"run": 7})
        message = queue.get(timeout=5)
        message.ack()
        queue.close()
    assert message.payload == {"run": 7}


def test_the_celery_app_starts_the_embedded_redis_when_it_connects(socket_path, capsys):
    from elmtex_site.celery import app

    url = broker.embedded_url(socket_path)
    with app.connection_for_write(url) as conn:
        conn.ensure_connection(max_retries=1)
        with conn.SimpleQueue("elmtex-broker-test") as queue:
            queue.put("hello")
            assert queue.get(timeout=5).payload == "hello"
    assert broker.redis_socket_answers(socket_path)
    assert "broker: started an embedded Redis on" in capsys.readouterr().err
    # The next process finds it running and says nothing.
    assert broker.embedded_redis_ensure_for_url(url) is False
    assert capsys.readouterr().err == ""
    assert broker.embedded_redis_ensure_for_url("redis://127.0.0.1:1/0") is False


def _broker_cli(*args, url):
    env = dict(os.environ, CELERY_BROKER_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "elmtex_site.broker", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_the_broker_cli_starts_reports_and_stops_the_embedded_redis(socket_path):
    url = broker.embedded_url(socket_path)
    shown = _broker_cli("url", url=url)
    assert (shown.stdout.strip(), shown.stderr) == (url, "")
    assert _broker_cli("status", url=url).stdout.strip().endswith(": not running")
    assert _broker_cli("start", url=url).stdout.strip().endswith(": started")
    assert broker.redis_socket_answers(socket_path)
    assert _broker_cli("status", url=url).stdout.strip().endswith(": running")
    assert _broker_cli("stop", url=url).stdout.strip().endswith(": stopped")
    assert not broker.redis_socket_answers(socket_path)
    refused = _broker_cli("stop", url="redis://127.0.0.1:6379/0")
    assert refused.returncode == 1 and "applies only to the embedded Redis" in refused.stdout


def test_settings_take_the_environment_url():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='elmtex_site.settings'; django.setup();"
        "from django.conf import settings; print(settings.CELERY_BROKER_URL)"
    )
    env = dict(os.environ, CELERY_BROKER_URL="redis://broker.example:6379/4")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "redis://broker.example:6379/4"
