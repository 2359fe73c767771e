"""A small process supervisor for ``run_demo``: start children, watch them, stop them all.

Each child runs in its own session (process group), so a Ctrl-C in the terminal reaches
only the supervising process, which then stops every child itself: SIGTERM to the group,
SIGKILL to whatever is left after a timeout. A long-running child that exits early is an
error (``ChildDied``); the caller stops the rest. Django-free.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


class StopRequested(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """SIGINT or SIGTERM arrived: stop everything. A BaseException, so that no library's
    ``except Exception`` swallows it."""

    def __init__(self, signame: str):
        super().__init__(signame)
        self.signame = signame


class ChildDied(Exception):  # noqa: N818 - the name says what happened
    def __init__(self, name: str, returncode: int | None, log: Path | None):
        self.name, self.returncode, self.log = name, returncode, log
        code = "" if returncode is None else f" (exit {returncode})"
        where = f"; its log: {log}" if log else ""
        super().__init__(f"the {name} stopped unexpectedly{code}{where}")


class ChildNotReady(Exception):  # noqa: N818
    def __init__(self, name: str, timeout: float, log: Path | None):
        self.name, self.log = name, log
        where = f"; its log: {log}" if log else ""
        super().__init__(f"the {name} is not ready after {timeout:.0f} s{where}")


@dataclass
class StepResult:
    returncode: int
    stdout: str
    log: Path | None


@dataclass
class _Child:
    name: str
    process: subprocess.Popen
    log: Path


@dataclass
class _Watch:
    name: str
    alive: Callable[[], bool]
    stop: Callable[[], object]
    log: Path | None


def log_tail(path: Path | None, lines: int = 5) -> list[str]:
    """The last non-blank lines of a log file (empty when unreadable)."""
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    # The child leads its own group (start_new_session): its pid is the group id.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


class Supervisor:
    def __init__(self, *, log_dir: Path, cwd: Path | None = None, env: dict | None = None, stop_timeout: float = 10.0):
        self.log_dir = Path(log_dir)
        self.cwd = cwd
        self.env = env
        self.stop_timeout = stop_timeout
        self._children: list[_Child] = []
        self._watches: list[_Watch] = []
        self._stopping = False

    # -- starting -----------------------------------------------------------------------

    def _popen(self, argv: list[str], *, stdout, stderr) -> subprocess.Popen:
        return subprocess.Popen(
            argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        """Start a long-running child; its stdout and stderr go to ``<log_dir>/<name>.log``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path(name)
        with open(log, "wb") as stream:
            process = self._popen(argv, stdout=stream, stderr=subprocess.STDOUT)
        self._children.append(_Child(name, process, log))
        return process

    def watch(self, name: str, *, alive: Callable[[], bool], stop: Callable[[], object], log: Path | None = None):
        """Supervise something that is not our child process (a daemonized server)."""
        self._watches.append(_Watch(name, alive, stop, log))

    # -- watching -----------------------------------------------------------------------

    def check(self) -> None:
        """Raise ChildDied if a long-running child or watched service has gone."""
        for child in self._children:
            code = child.process.poll()
            if code is not None:
                raise ChildDied(child.name, code, child.log)
        for watched in self._watches:
            if not watched.alive():
                raise ChildDied(watched.name, None, watched.log)

    def wait_ready(self, name: str, ready: Callable[[], bool], *, timeout: float, log: Path | None = None) -> None:
        """Poll ``ready()`` until true, checking that every child is still alive meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            self.check()
            if ready():
                return
            if time.monotonic() > deadline:
                raise ChildNotReady(name, timeout, log or self.log_path(name))
            time.sleep(0.2)

    def run(self, name: str, argv: list[str], *, stderr_to_log: bool = True) -> StepResult:
        """Run a one-shot step to its end and return its exit status and stdout.

        Its stderr goes to ``<log_dir>/<name>.log`` (or to ours, for progress bars). While it
        runs the long-running children are checked; if one dies, or a stop is requested,
        the step is stopped too.
        """
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path(name) if stderr_to_log else None
        with contextlib.ExitStack() as stack:
            out = stack.enter_context(tempfile.TemporaryFile())
            err = stack.enter_context(open(log, "wb")) if log else None
            process = self._popen(argv, stdout=out, stderr=err)
            try:
                while process.poll() is None:
                    self.check()
                    time.sleep(0.1)
            except BaseException:
                self._stop_processes([process])
                raise
            out.seek(0)
            stdout = out.read().decode("utf-8", errors="replace")
        return StepResult(process.returncode, stdout, log)

    def serve_forever(self, interval: float = 0.5) -> None:
        """Block until a child dies (ChildDied) or a signal asks to stop (StopRequested)."""
        while True:
            self.check()
            time.sleep(interval)

    # -- stopping -----------------------------------------------------------------------

    def _stop_processes(self, processes: list[subprocess.Popen]) -> None:
        running = [p for p in processes if p.poll() is None]
        for process in running:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for process in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        for process in processes:
            # SIGKILL what did not stop, and anything the child left behind in its group
            # (e.g. a worker's pool processes).
            _signal_group(process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)

    def stop_all(self) -> None:
        """Stop every child (newest first) and every watched service. Safe to call twice."""
        self._stopping = True
        self._stop_processes([child.process for child in reversed(self._children)])
        for watched in reversed(self._watches):
            with contextlib.suppress(Exception):
                watched.stop()
        self._children.clear()
        self._watches.clear()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def pids(self) -> list[int]:
        return [child.process.pid for child in self._children]

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()


@contextlib.contextmanager
def stop_signals(supervisor: Supervisor) -> Iterator[None]:
    """SIGINT and SIGTERM raise StopRequested in the main thread (once: while stopping,
    further signals are ignored so the cleanup runs to its end)."""

    def handler(signum, frame):
        if not supervisor.stopping:
            raise StopRequested(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
