"""``run_demo`` and its process supervisor: everything started is stopped, however it ends."""

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from elmtex_site.supervisor import ChildDied, ChildNotReady, StepResult, StopRequested, Supervisor, stop_signals

ROOT = Path(__file__).resolve().parent.parent
SLEEP = [sys.executable, "-c", "import time; time.sleep(120)"]


def processes_marked(marker: str) -> list[int]:
    """Live processes (not zombies) whose environment carries ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture
def marker():
    return f"ELMTEX_TEST_MARKER={uuid.uuid4().hex}"


@pytest.fixture
def supervisor(tmp_path, marker):
    name, value = marker.split("=")
    sup = Supervisor(log_dir=tmp_path / "log", env=dict(os.environ, **{name: value}), stop_timeout=2)
    yield sup
    sup.stop_all()


def _wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_stop_all_stops_children_and_what_they_started(supervisor, marker):
    supervisor.start("one", SLEEP)
    # A child that starts a grandchild (like a worker's pool) and waits for it.
    spawner = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); time.sleep(120)"
    supervisor.start("two", [sys.executable, "-c", spawner])
    _wait_until(lambda: len(processes_marked(marker)) == 3)
    supervisor.check()  # all alive: nothing raised
    supervisor.stop_all()
    assert processes_marked(marker) == []


def test_a_child_that_ignores_sigterm_is_killed(supervisor, marker):
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(120)"
    supervisor.start("stubborn", [sys.executable, "-c", stubborn])
    _wait_until(lambda: "ready" in supervisor.log_path("stubborn").read_text())
    supervisor.stop_all()
    assert processes_marked(marker) == []


def test_a_child_that_dies_is_reported_with_its_log(supervisor, marker):
    supervisor.start("steady", SLEEP)
    supervisor.start("fragile", [sys.executable, "-c", "import sys; print('cannot bind'); sys.exit(4)"])
    with pytest.raises(ChildDied) as died:
        supervisor.serve_forever(interval=0.05)
    assert died.value.name == "fragile" and died.value.returncode == 4
    assert str(died.value) == f"the fragile stopped unexpectedly (exit 4); its log: {supervisor.log_path('fragile')}"
    assert "cannot bind" in died.value.log.read_text()
    supervisor.stop_all()
    assert processes_marked(marker) == []


def test_a_watched_service_that_goes_away_is_reported_and_stopped(supervisor):
    stopped = []
    supervisor.watch("embedded Redis", alive=lambda: False, stop=lambda: stopped.append(True))
    with pytest.raises(ChildDied, match="the embedded Redis stopped unexpectedly"):
        supervisor.check()
    supervisor.stop_all()
    assert stopped == [True]


def test_a_step_returns_its_exit_status_and_stdout(supervisor):
    result = supervisor.run(
        "step", [sys.executable, "-c", "import sys; print('run 7'); sys.stderr.write('chatter'); sys.exit(3)"]
    )
    assert (result.returncode, result.stdout) == (3, "run 7\n")
    assert result.log.read_text() == "chatter"


def test_a_step_is_stopped_when_a_server_dies_meanwhile(supervisor, marker):
    supervisor.start("fragile", [sys.executable, "-c", "import time; time.sleep(0.5)"])
    with pytest.raises(ChildDied, match="the fragile stopped unexpectedly"):
        supervisor.run("step", SLEEP)
    supervisor.stop_all()
    assert processes_marked(marker) == []


def test_wait_ready_gives_up_naming_the_log(supervisor):
    supervisor.start("slow", SLEEP)
    with pytest.raises(ChildNotReady, match=r"the slow is not ready after 0 s; its log: .*slow\.log"):
        supervisor.wait_ready("slow", lambda: False, timeout=0.3)


def test_sigterm_raises_stop_requested_but_not_while_stopping(supervisor):
    with stop_signals(supervisor):
        with pytest.raises(StopRequested) as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        assert stop.value.signame == "SIGTERM"
        supervisor.stop_all()
        os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C must not cut the cleanup short
        time.sleep(0.1)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


SUPERVISING_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from elmtex_site.supervisor import StopRequested, Supervisor, stop_signals

    sup = Supervisor(log_dir=Path(sys.argv[1]), stop_timeout=3)
    try:
        with stop_signals(sup), sup:
            sup.start("a", [sys.executable, "-c", "import time; time.sleep(120)"])
            sup.start("b", [sys.executable, "-c", "import time; time.sleep(120)"])
            print("started", flush=True)
            sup.serve_forever(interval=0.05)
    except StopRequested as stop:
        print("stopped", stop.signame, flush=True)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_the_supervisor_stops_every_child(tmp_path, marker, sig):
    name, value = marker.split("=")
    env = dict(os.environ, **{name: value})
    proc = subprocess.Popen(
        [sys.executable, "-c", SUPERVISING_SCRIPT, str(tmp_path)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "started"
        _wait_until(lambda: len(processes_marked(marker)) == 3)  # the supervisor and its two children
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert out.strip() == f"stopped {signal.Signals(sig).name}"
    assert processes_marked(marker) == []


# -- run_demo: which run it uses --------------------------------------------------------------


class FakeSupervisor:
    """Records the steps run_demo asks for and answers them from a script."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.steps = []

    def run(self, name, argv, **kwargs):
        self.steps.append(argv[2:])  # without "python manage.py"
        code, stdout = self.answers.pop(0)
        return StepResult(code, stdout, None)


def _demo_command(limit=None):
    from annotation.management.commands.run_demo import Command

    command = Command()
    command.opts = {"limit": limit}
    return command


@pytest.fixture
def demo_project(db):
    from tests.factories import EndpointFactory, ProjectFactory

    return ProjectFactory(slug="demo"), EndpointFactory(name="baseline")


def _run(demo_project, status, **selection):
    from tests.factories import RunFactory

    project, endpoint = demo_project
    selection = {"language": None, "split": "test", "limit": None} | selection
    return RunFactory(project=project, endpoint=endpoint, status=status, selection=selection)


EXTRACTION = ["run_extraction", "demo", "--endpoint", "baseline", "--split", "test", "--wait"]


def test_a_finished_baseline_run_from_an_earlier_demo_is_reused(demo_project):
    earlier = _run(demo_project, "finished")
    supervisor = FakeSupervisor()
    assert _demo_command()._extraction(supervisor, "demo", None) == earlier.pk
    assert supervisor.steps == []


def test_runs_over_another_selection_or_cancelled_are_not_reused(demo_project):
    _run(demo_project, "finished", limit=5)
    _run(demo_project, "finished", split="train")
    _run(demo_project, "cancelled")
    supervisor = FakeSupervisor((0, "run 99\nrun 99 finished: 60 ok, 0 parse errors, 0 failed, 0 too long\n"))
    assert _demo_command()._extraction(supervisor, "demo", None) == 99
    assert supervisor.steps == [EXTRACTION]


def test_an_unfinished_run_from_an_earlier_demo_is_cancelled_and_replaced(demo_project):
    earlier = _run(demo_project, "running", limit=5)
    supervisor = FakeSupervisor((0, "run 1 cancelled\n"), (3, "run 100\nrun 100 finished: 4 ok, 1 failed\n"))
    assert _demo_command(limit=5)._extraction(supervisor, "demo", None) == 100  # exit 3: some failed, still used
    assert supervisor.steps == [["cancel_run", str(earlier.pk)], [*EXTRACTION, "--limit", "5"]]


def test_a_failed_extraction_stops_the_demo(demo_project):
    from elmtex_site.errors import ApplicationError

    supervisor = FakeSupervisor((1, "run 101\n"))
    with pytest.raises(ApplicationError, match=r"the extraction did not finish \(exit 1\)"):
        _demo_command()._extraction(supervisor, "demo", None)


# -- run_demo end to end ------------------------------------------------------------------------


def _get(opener, url):
    import urllib.request

    with opener.open(urllib.request.Request(url), timeout=10) as response:
        return response.status, response.geturl(), response.read().decode()


def _login(base: str, username: str, password: str):
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    _, _, page = _get(opener, f"{base}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    request = urllib.request.Request(f"{base}/accounts/login/", data=data.encode(), headers={"Referer": base})
    opener.open(request, timeout=10).close()
    return opener


def test_run_demo_runs_the_loop_serves_it_and_stops_everything_on_ctrl_c(tmp_path, marker):
    """The real `make demo` path, scaled down: embedded Redis, baseline server, worker,
    extraction, evaluation, web server; then Ctrl-C."""
    from annotation.management.commands.run_demo import free_port

    name, value = marker.split("=")
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        CELERY_BROKER_URL=f"redis+socket://{tmp_path / 'elmtex-redis.sock'}",
        DJANGO_DEBUG="1",
        **{name: value},
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    argv = [sys.executable, "manage.py", "run_demo", "--port", str(port), "--baseline-port", str(free_port())]
    argv += ["--documents", "40", "--limit", "5", "--log-dir", str(tmp_path / "log")]
    demo = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(240, demo.send_signal, args=(signal.SIGTERM,))  # a hang fails, never blocks
    watchdog.start()
    lines = []
    try:
        for line in demo.stdout:
            lines.append(line.rstrip("\n"))
            if "Press Ctrl-C to stop everything." in line or "error:" in line:
                break
        out = "\n".join(lines)
        assert "Press Ctrl-C to stop everything." in out, out
        assert "broker: embedded Redis on" in out and "(started)" in out
        run_id = int(re.search(r"^  run (\d+) finished: 5 ok", out, re.MULTILINE).group(1))
        assert re.search(r"^overall \(macro mean\)\s+\d+\s+0\.\d{4}", out, re.MULTILINE), out
        base = f"http://127.0.0.1:{port}"
        assert f"{base}/p/demo/runs/{run_id}/" in out
        assert "password demo-password" in out

        # The pages it points at show the run to the demo researcher.
        researcher = _login(base, "researcher", "demo-password")
        status, url, page = _get(researcher, f"{base}/p/demo/runs/{run_id}/")
        assert (status, url) == (200, f"{base}/p/demo/runs/{run_id}/")
        assert "finished" in page
        # ... and the demo annotators have work pre-filled from the run in their queue.
        assert re.search(r"annotation work: .* \d+ new assignments", out), out
        annotator = _login(base, "annotator1", "demo-password")
        status, url, page = _get(annotator, f"{base}/p/demo/work/")
        assert (status, url) == (200, f"{base}/p/demo/work/")
        assert re.search(r'href="/p/demo/work/\d+/"', page), page  # links to assigned documents

        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=60)
    finally:
        watchdog.cancel()
        demo.kill()
    assert demo.returncode == 0, rest
    assert rest.strip().splitlines()[-1] == "stopped everything (SIGINT)"
    assert processes_marked(marker) == []  # web, worker (and its pool), baseline, embedded Redis
    assert not (tmp_path / "elmtex-redis.sock").exists()
    assert {"web.log", "worker.log", "baseline.log", "seed.log"} <= {p.name for p in (tmp_path / "log").iterdir()}


def test_run_demo_refuses_a_busy_web_port_before_starting_anything(run_cli):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run_cli("run_demo", "--port", str(port))
    assert result.code == 1
    assert result.err_lines == [
        f"error: --port: 127.0.0.1:{port} is in use (another demo?); choose another, e.g. make demo PORT={port + 1}"
    ]
    assert result.out == ""
