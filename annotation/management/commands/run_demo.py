"""``run_demo``: the whole loop on one machine, then the web app (what ``make demo`` runs).

Seeds the demo project, starts the broker (when it is the embedded Redis), the baseline
TGI-protocol server and a Celery worker, registers the endpoint, runs an extraction over
the test split (or reuses a finished one from an earlier demo), evaluates it, and serves
the web app until Ctrl-C. Everything it started is stopped when it ends, however it ends.
Each step is the real management command in a subprocess; children log to ``var/log/``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import urllib.request
from pathlib import Path

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from elmtex_site import broker
from elmtex_site.cli import ElmtexCommand
from elmtex_site.errors import ApplicationError
from elmtex_site.supervisor import ChildDied, ChildNotReady, StopRequested, Supervisor, log_tail, stop_signals

QUEUES = "inference,evaluation,gpu"
ENDPOINT = "baseline"
SPLIT = "test"
LOGINS = "researcher, reviewer, annotator1, annotator2, admin (superuser); password demo-password (demo only)"


def port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        # As the servers do: a port whose last connections linger in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


class Command(ElmtexCommand):
    help = (
        "Run the demo loop: seed the demo project, start the baseline server and a Celery worker "
        "(and the embedded Redis if needed), extract the test split, evaluate it, then serve the "
        "web app. Ctrl-C stops everything it started. Logs go to var/log/."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="web server address (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="web server port (default 8000)")
        parser.add_argument(
            "--baseline-port", type=int, default=8080, help="baseline server port; a free one if taken (default 8080)"
        )
        parser.add_argument("--slug", default="demo", help="demo project slug (default demo)")
        parser.add_argument(
            "--documents", type=int, default=240, help="English demo records to seed (default 240; plus German ones)"
        )
        parser.add_argument("--limit", type=int, help="extract only the first N test documents (default: all)")
        parser.add_argument("--no-web", action="store_true", help="run the loop, print the results and exit")
        parser.add_argument("--log-dir", help="where the children's logs go (default var/log)")

    def handle(self, *args, **opts):
        if opts["limit"] is not None and opts["limit"] < 1:
            raise ApplicationError(f"--limit: expected a positive number of documents, got {opts['limit']}")
        if not opts["no_web"] and not port_free(opts["host"], opts["port"]):
            raise ApplicationError(
                f"--port: {opts['host']}:{opts['port']} is in use (another demo?); "
                f"choose another, e.g. make demo PORT={opts['port'] + 1}"
            )
        log_dir = Path(opts["log_dir"] or Path(settings.VAR_DIR) / "log")
        env = self._child_env()
        supervisor = Supervisor(log_dir=log_dir, cwd=Path(settings.BASE_DIR), env=env)
        self.opts = opts
        try:
            with stop_signals(supervisor), supervisor:
                self._loop(supervisor, env)
        except StopRequested as stop:
            self.say(f"stopped everything ({stop.signame})")
            return
        except (ChildDied, ChildNotReady) as exc:
            raise self._failure(str(exc), exc.log) from None
        if opts["no_web"]:
            self.say("demo loop done; stopped everything it started")

    # -- the loop -------------------------------------------------------------------------

    def _loop(self, supervisor: Supervisor, env: dict) -> None:
        opts, slug, python = self.opts, self.opts["slug"], sys.executable
        self.say(f"logs of the servers and steps: {supervisor.log_dir}/")
        self._broker(supervisor, env["CELERY_BROKER_URL"])

        self.say(f"seeding the demo project {slug!r} ...")
        self._step(supervisor, "seed", ["seed_demo", "--slug", slug, "--n", str(opts["documents"])])

        port = opts["baseline_port"] if port_free("127.0.0.1", opts["baseline_port"]) else free_port()
        baseline_url = f"http://127.0.0.1:{port}"
        supervisor.start(
            "baseline", [python, "manage.py", "serve_baseline", "--host", "127.0.0.1", "--port", str(port)]
        )
        supervisor.wait_ready("baseline", lambda: http_ok(f"{baseline_url}/health"), timeout=60)
        self.say(f"baseline TGI-protocol server: {baseline_url} (log {supervisor.log_path('baseline')})")

        node = f"demo-{os.getpid()}@%h"  # unique: another worker on the same broker is not ours
        worker = [python, "-m", "celery", "-A", "elmtex_site", "worker", "-Q", QUEUES, "-c", "2", "-n", node]
        # One worker alone: no need to sync with others at start-up (mingle) or chat (gossip).
        supervisor.start("worker", [*worker, "--loglevel", "WARNING", "--without-mingle", "--without-gossip"])
        supervisor.wait_ready("worker", lambda: self._worker_answers(node), timeout=90)
        self.say(f"Celery worker on queues {QUEUES} (log {supervisor.log_path('worker')})")

        self._step(supervisor, "add_endpoint", ["add_endpoint", ENDPOINT, "--url", baseline_url])

        base = None
        if not opts["no_web"]:
            base = f"http://{opts['host']}:{opts['port']}"
            web = [python, "manage.py", "runserver", f"{opts['host']}:{opts['port']}", "--noreload"]
            supervisor.start("web", web)
            supervisor.wait_ready("web", lambda: http_ok(f"{base}/api/health/"), timeout=60)
            self.say(f"web app: {base}/ (log {supervisor.log_path('web')})")

        run_id = self._extraction(supervisor, slug, base)
        evaluation_id = self._evaluate(supervisor, slug, run_id)
        self._assign(supervisor, slug, run_id)

        if opts["no_web"]:
            self.say(f"run {run_id} evaluated (evaluation {evaluation_id})")
            return
        self._where_to_look(base, slug, run_id, evaluation_id, supervisor)
        supervisor.serve_forever()

    def _broker(self, supervisor: Supervisor, url: str) -> None:
        socket_path = broker.embedded_socket_of(url)
        if socket_path is not None:
            try:
                started = broker.embedded_redis_start(socket_path)
            except RuntimeError as exc:
                raise ApplicationError(str(exc)) from None
            log = socket_path.parent / "elmtex-redis.log"
            # The demo owns a server it started: stopped with everything else. One that was
            # already running (another demo, a worker) is left alone.
            stop = (lambda: broker.embedded_redis_stop(socket_path)) if started else (lambda: None)
            supervisor.watch(
                "embedded Redis", alive=lambda: broker.redis_socket_answers(socket_path), stop=stop, log=log
            )
            state = "started" if started else "already running, reused"
            self.say(f"broker: embedded Redis on {socket_path} ({state})")
            return
        from elmtex_site.celery import app

        shown = broker.broker_url_display(url)
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, timeout=3)
        except Exception as exc:  # noqa: BLE001 - kombu and redis raise many types for "not there"
            raise ApplicationError(
                f"the Celery broker at {shown} cannot be reached ({type(exc).__name__}); start it, or "
                "unset CELERY_BROKER_URL to use a local Redis or the embedded one"
            ) from None
        self.say(f"broker: {shown}")

    def _extraction(self, supervisor: Supervisor, slug: str, base: str | None) -> int:
        from inference.models import RunStatus

        limit = self.opts["limit"]
        earlier = self._earlier_run(slug, limit)
        if earlier is not None and earlier.status == RunStatus.FINISHED:
            self.say(f"run {earlier.pk} ({earlier.name}): a finished baseline run over the {SPLIT} split, reused")
            return earlier.pk
        if earlier is not None:
            # Interrupted by an earlier Ctrl-C: its queued work may be gone with the broker.
            # A fresh run is simpler to trust than a half-delivered one.
            self.say(f"run {earlier.pk} ({earlier.name}) from an earlier demo was not finished; cancelling it")
            supervisor.run("cancel", [sys.executable, "manage.py", "cancel_run", str(earlier.pk)])
        self.say(f"extracting the {SPLIT} split with the {ENDPOINT} endpoint (progress below) ...")
        command = ["run_extraction", slug, "--endpoint", ENDPOINT, "--split", SPLIT, "--wait"]
        command += ["--limit", str(limit)] if limit else []
        result = supervisor.run("extraction", [sys.executable, "manage.py", *command], stderr_to_log=False)
        match = re.search(r"^run (\d+)", result.stdout, re.MULTILINE)
        run_id = int(match.group(1)) if match else None
        for line in result.stdout.splitlines()[1:]:  # the summary line of --wait
            self.say(f"  {line}")
        if result.returncode == 3:
            self.say(f"run {run_id}: finished, some documents failed (see the run page)")
        elif result.returncode != 0 or run_id is None:
            raise ApplicationError(f"the extraction did not finish (exit {result.returncode}); see the lines above")
        else:
            self.say(f"run {run_id}: finished")
        if base:
            self.say(f"  run page: {self._url(base, 'run-detail', slug=slug, pk=run_id)}")
        return run_id

    def _earlier_run(self, slug: str, limit: int | None):
        from inference.models import ModelRun, RunSource, RunStatus

        runs = ModelRun.objects.filter(
            project__slug=slug, endpoint__name=ENDPOINT, source=RunSource.LIVE, selection__split=SPLIT
        ).exclude(status__in=(RunStatus.CANCELLED, RunStatus.FAILED))
        for run in runs.order_by("-created_at", "-id")[:20]:
            if (run.selection or {}).get("limit") == limit and not (run.selection or {}).get("language"):
                return run
        return None

    def _evaluate(self, supervisor: Supervisor, slug: str, run_id: int) -> int | None:
        self.say(f"evaluating run {run_id} against gold (ROUGE, entity F1) ...")
        result = self._step(supervisor, "evaluate", ["evaluate", slug, "--run", str(run_id)])
        self.stdout.write(result.stdout.rstrip("\n"))
        match = re.search(r"evaluation (\d+) stored", "\n".join(log_tail(result.log, 20)))
        return int(match.group(1)) if match else None

    def _assign(self, supervisor: Supervisor, slug: str, run_id: int) -> None:
        """Give both demo annotators the same 20 test documents, pre-filled from the run (a
        re-run tops up to the same assignments, it adds none)."""
        command = ["assign_documents", slug, "--annotators", "annotator1,annotator2", "--overlap", "2"]
        command += ["--split", SPLIT, "--language", "en", "--limit", "20", "--seed", "1", "--run", str(run_id)]
        result = self._step(supervisor, "assign", command)
        try:
            created = json.loads(result.stdout)["created"]
        except (ValueError, KeyError, TypeError):
            created = "some"
        self.say(
            f"annotation work: up to 20 English test documents for annotator1 and annotator2 each "
            f"(overlap 2, pre-filled from the run; {created} new assignments)"
        )

    # -- helpers --------------------------------------------------------------------------

    def _step(self, supervisor: Supervisor, name: str, command: list[str]):
        result = supervisor.run(name, [sys.executable, "manage.py", *command])
        if result.returncode != 0:
            message = f"the step `manage.py {' '.join(command)}` failed (exit {result.returncode})"
            raise self._failure(message, result.log)
        return result

    def _worker_answers(self, node: str) -> bool:
        from elmtex_site.celery import app

        name = node.replace("%h", socket.gethostname())
        try:
            return bool(app.control.ping(destination=[name], timeout=0.5))
        except Exception:  # noqa: BLE001 - not answering yet, whatever the reason
            return False

    def _child_env(self) -> dict:
        env = dict(os.environ)
        # Every child uses the broker resolved here, even if a local Redis starts meanwhile.
        env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
        env.setdefault("DJANGO_DEBUG", "1")  # the demo's web server serves its own static files
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def _url(self, base: str, name: str, **kwargs) -> str | None:
        try:
            return base + reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            return None

    def _where_to_look(self, base, slug, run_id, evaluation_id, supervisor) -> None:
        links = [
            ("project", self._url(base, "project-detail", slug=slug)),
            (f"run {run_id}", self._url(base, "run-detail", slug=slug, pk=run_id)),
            ("evaluation", self._evaluation_url(base, slug, run_id, evaluation_id)),
            ("annotate", self._url(base, "work-queue", slug=slug)),
            ("review", self._url(base, "review-list", slug=slug)),
            ("reports", self._url(base, "report-hub", slug=slug)),
            ("exports", self._url(base, "export-list", slug=slug)),
            ("API docs", f"{base}/api/docs/"),
            ("admin", f"{base}/admin/"),
        ]
        self.say("")
        self.say(f"  ELMTEX demo is running at {base}/")
        for label, url in links:
            if url:
                self.say(f"    {label + ':':<12} {url}")
        self.say(f"  Logins: {LOGINS}")
        self.say(f"  Logs: {supervisor.log_dir}/{{web,worker,baseline}}.log")
        self.say("  Press Ctrl-C to stop everything.")
        self.say("")

    def _evaluation_url(self, base, slug, run_id, evaluation_id) -> str | None:
        if evaluation_id is not None:
            for name in ("evaluation-detail", "report-detail"):
                url = self._url(base, name, slug=slug, pk=evaluation_id)
                if url:
                    return url
        return self._url(base, "evaluation-list", slug=slug)

    def _failure(self, message: str, log: Path | None) -> ApplicationError:
        """The error to raise; the last lines of the log (the child's own error) go first."""
        tail = log_tail(log, 8)
        if tail:
            sys.stderr.write(f"last lines of {log}:\n" + "".join(f"  | {line}\n" for line in tail))
        return ApplicationError(message + "; everything the demo started was stopped")

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
