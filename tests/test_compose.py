"""compose.yaml: valid for Compose, wired to this code base, and its commands really run."""

import importlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
OUR_IMAGE = "elmtex-platform:latest"
APP_SERVICES = ("web", "worker", "migrate", "register-endpoint")


def _ours(service: dict) -> bool:
    return "build" in service or service.get("image") == OUR_IMAGE


def _argv(command: list[str]) -> list[str]:
    """A service command as the program sees it (``sh -c "exec ..."`` unwrapped)."""
    if command[:2] == ["sh", "-c"]:
        words = shlex.split(command[2].replace("$$", "$"))
        return words[1:] if words[0] == "exec" else words
    return command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- validated by Compose itself ----------------------------------------------------------


def _docker_compose():
    """Debian's docker-compose (v1, Python) validates a file without a Docker engine."""
    path = shutil.which("docker-compose")
    if path is None:
        # .ci/run installs it: in CI a missing validator is a failure, never a silent skip.
        missing = pytest.fail if os.environ.get("CI") else pytest.skip
        missing("docker-compose is not installed (apt-get install docker-compose)")
    return path


def _compose_config(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "MODEL_ID", "TGI_URL")}
    full_env.update(env)
    return subprocess.run(
        [_docker_compose(), "-f", str(ROOT / "compose.yaml"), *args, "config"],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_accepts_the_file_with_and_without_the_gpu_profile():
    plain = _compose_config(DJANGO_SECRET_KEY="k" * 50)
    assert plain.returncode == 0, plain.stderr
    config = yaml.safe_load(plain.stdout)
    assert config["services"]["web"]["environment"]["TGI_URL"] == "http://baseline:80"
    # Without a GPU, no MODEL_ID is needed; with the profile the stack names it.
    gpu = _compose_config("--profile", "gpu", DJANGO_SECRET_KEY="k" * 50, MODEL_ID="org/model", TGI_URL="http://tgi:80")
    assert gpu.returncode == 0, gpu.stderr
    config = yaml.safe_load(gpu.stdout)
    assert config["services"]["tgi"]["environment"]["MODEL_ID"] == "org/model"
    assert config["services"]["worker"]["environment"]["TGI_URL"] == "http://tgi:80"


def test_compose_refuses_to_start_without_a_secret_key():
    result = _compose_config()
    assert result.returncode != 0
    assert "set DJANGO_SECRET_KEY to a long random string" in result.stderr


# -- structure ------------------------------------------------------------------------------


def test_compose_file_wires_every_service():
    assert {"postgres", "redis", "web", "worker", "migrate", "baseline", "tgi", "register-endpoint"} <= set(SERVICES)
    for name in APP_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert "DJANGO_SECRET_KEY" in env
        assert env["TGI_URL"] == "${TGI_URL:-http://baseline:80}"
    assert SERVICES["worker"]["command"][:3] == ["celery", "-A", "elmtex_site"]
    assert SERVICES["web"]["command"][1] == "elmtex_site.wsgi:application"
    assert SERVICES["migrate"]["command"][1:3] == ["manage.py", "migrate"]


def test_every_service_has_an_image_and_every_volume_is_declared():
    declared = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        assert "image" in service or "build" in service, name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"
    assert {"pgdata", "tgi-data"} <= declared


def test_tgi_runs_the_official_image_on_a_gpu_with_the_model_from_the_environment():
    tgi = SERVICES["tgi"]
    image, tag = tgi["image"].rsplit(":", 1)
    assert image == "ghcr.io/huggingface/text-generation-inference"
    assert tag[0].isdigit(), "pin a release, never latest"
    assert tgi["profiles"] == ["gpu"]
    devices = tgi["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert tgi["shm_size"]
    assert "tgi-data:/data" in tgi["volumes"]
    launcher = " ".join(tgi["entrypoint"])
    assert '--model-id "$$MODEL_ID"' in launcher and "/tgi-entrypoint.sh" in launcher
    assert '[ -z "$$MODEL_ID" ]' in launcher  # refuses to start without one, with a message
    assert "MODEL_ID" in tgi["environment"] and tgi["environment"]["MODEL_ID"] is None
    assert "/health" in " ".join(tgi["healthcheck"]["test"])
    assert tgi["healthcheck"]["start_period"]


def test_the_hugging_face_token_reaches_only_tgi():
    for name, service in SERVICES.items():
        env = service.get("environment") or {}
        assert ("HF_TOKEN" in env) is (name == "tgi"), name
    assert SERVICES["tgi"]["environment"]["HF_TOKEN"] is None  # from the shell, unset when unset there


def test_the_default_tgi_url_is_the_baseline_service():
    baseline = SERVICES["baseline"]
    port = baseline["command"][baseline["command"].index("--port") + 1]
    assert SERVICES["web"]["environment"]["TGI_URL"].endswith(f"http://baseline:{port}}}")
    assert "profiles" not in baseline  # the stack without a GPU has an LLM server too
    assert "HF_TOKEN" not in (baseline.get("environment") or {})


def test_compose_commands_exist():
    """Every command compose.yaml runs in our image exists in this code base."""
    commands = {name: _argv(s["command"]) for name, s in SERVICES.items() if "command" in s and _ours(s)}
    assert {"migrate", "web", "worker", "register-endpoint", "baseline"} <= set(commands)
    registered = get_commands()
    for name, command in commands.items():
        if command[0] == "python":
            assert command[1] == "manage.py" and command[2] in registered, name
        elif command[0] == "gunicorn":
            module, attr = command[1].split(":")
            assert callable(getattr(importlib.import_module(module), attr)), name
        elif command[0] == "celery":
            app = importlib.import_module(command[2]).celery_app
            assert app.main == "elmtex_site"
            assert command[command.index("-Q") + 1].split(",") == ["inference", "evaluation", "gpu"]
        else:
            raise AssertionError(f"{name}: unexpected command {command}")
    assert commands["register-endpoint"][2:] == ["add_endpoint", "default", "--url", "$TGI_URL"]
    assert "requirements.txt" in (ROOT / "Dockerfile").read_text()


def test_compose_healthcheck_sends_an_allowed_host():
    """The web healthcheck must pass once DJANGO_ALLOWED_HOSTS names the real host."""
    test = " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "DJANGO_ALLOWED_HOSTS" in test and "/api/health/" in test


# -- the commands run as compose runs them (without Docker) --------------------------------


def _healthcheck_passes(check: str, env: dict, timeout: float = 30) -> subprocess.CompletedProcess:
    deadline = time.monotonic() + timeout
    while True:
        result = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True)
        if result.returncode == 0 or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


def test_gunicorn_serves_health_to_the_compose_healthcheck(tmp_path):
    web = SERVICES["web"]
    port = _free_port()
    command = [part.replace("0.0.0.0:8000", f"127.0.0.1:{port}") for part in web["command"]]
    command[0] = str(Path(sys.executable).with_name("gunicorn"))
    env = dict(
        os.environ,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="s" * 50,
        DJANGO_ALLOWED_HOSTS="elmtex.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'web.sqlite3'}",
    )
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        check = web["healthcheck"]["test"][3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        result = _healthcheck_passes(check, env)
        assert result.returncode == 0, result.stderr
        # A host that is not allowed is refused, so the healthcheck really depends on the header.
        refused = subprocess.run(
            [sys.executable, "-c", check.replace("headers={'Host': host}", "headers={'Host': 'evil.example'}")],
            env=env,
            capture_output=True,
            text=True,
        )
        assert refused.returncode != 0 and "400" in refused.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_baseline_service_answers_its_healthcheck(tmp_path):
    baseline = SERVICES["baseline"]
    port = _free_port()
    command = [part.replace("0.0.0.0", "127.0.0.1") for part in baseline["command"]]
    command[command.index("--port") + 1] = str(port)
    command[0] = sys.executable
    # Its environment as compose gives it (no database URL, no secret), nothing from ours.
    env = {"PATH": os.environ["PATH"], **baseline["environment"], "DATABASE_URL": f"sqlite:///{tmp_path / 'b.sqlite3'}"}
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        check = baseline["healthcheck"]["test"][3].replace("127.0.0.1:80/", f"127.0.0.1:{port}/")
        result = _healthcheck_passes(check, env)
        assert result.returncode == 0, result.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert not (tmp_path / "b.sqlite3").exists()  # it never touched a database


def test_web_and_worker_share_the_export_folder():
    """An export job's file is written by a worker and downloaded through the web server."""
    for name in ("web", "worker"):
        service = COMPOSE["services"][name]
        assert "exports:/app/var/exports" in service["volumes"], name
        assert service["environment"]["ELMTEX_EXPORT_DIR"] == "/app/var/exports", name
    assert "exports" in COMPOSE["volumes"]
