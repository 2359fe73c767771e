"""Shared fixtures. ``run_cli`` runs a management command the way a shell does
(argparse, exit codes, stdout/stderr) but in-process, so it sees the test database."""

import contextlib
import io
import sys
from dataclasses import dataclass

import django
import pytest
from django.core.management import ManagementUtility
from django.db import connections
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.inference.conftest import baseline_server  # noqa: F401 - the TGI baseline fixture, for every test dir


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@pytest.fixture
def run_cli(monkeypatch):
    # manage.py closes every database connection when a command ends
    # (BaseCommand.run_from_argv); in-process on PostgreSQL that would end the test's
    # transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    # ManagementUtility calls django.setup(), which reconfigures logging and so closes every
    # handler ever made: absl's (imported by rouge_score) then closes pytest's capture file.
    monkeypatch.setattr(django, "setup", lambda *args, **kwargs: None)

    def run(*args: str, stdin: bytes | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        code = 0
        old_stdin = sys.stdin
        if stdin is not None:
            sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    ManagementUtility(["manage.py", *map(str, args)]).execute()
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.stdin = old_stdin
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def project(db):
    return ProjectFactory(slug="p1", name="Project one")


@pytest.fixture
def make_member(db):
    def make(project, role, username=None):
        user = UserFactory(username=username) if username else UserFactory()
        MembershipFactory(project=project, user=user, role=role)
        return user

    return make


@pytest.fixture
def researcher(project, make_member):
    return make_member(project, "researcher", "res")


@pytest.fixture
def reviewer(project, make_member):
    return make_member(project, "reviewer", "rev")


@pytest.fixture
def annotator(project, make_member):
    return make_member(project, "annotator", "ann")


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def api_client():
    return APIClient()
