"""Two imports into one project at the same time (PostgreSQL): they take turns instead of
both reading the ids already there and one of them crashing on the unique constraint."""

import io
import threading
import time

import pytest
from django.db import connection, connections

from annotation.services import imports
from annotation.services.imports import dataset_import

from .import_helpers import jsonl, record, success_line

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer at a time in; PostgreSQL needs the row lock")


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def test_concurrent_imports_into_one_project_take_turns(postgres_only, project, monkeypatch):
    read_existing = imports._existing_documents
    first_has_read = threading.Event()
    second_started = threading.Event()
    results = {}

    def read_then_let_the_second_one_in(project):
        rows = read_existing(project)
        if threading.current_thread().name == "first":
            first_has_read.set()
            second_started.wait(10)
            # Go on only once the second import waits for a lock held by this one (the
            # project row; without it, the second one's insert waits on the unique index).
            deadline = time.monotonic() + 10
            while not _someone_waits_for_a_lock() and time.monotonic() < deadline:
                time.sleep(0.01)
        return rows

    monkeypatch.setattr(imports, "_existing_documents", read_then_let_the_second_one_in)
    data = jsonl([record(i) for i in range(1, 51)])

    def run():
        name = threading.current_thread().name
        try:
            result = dataset_import(project=project, stream=io.BytesIO(data), name=f"{name}.jsonl")
            results[name] = result.summary_line()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[name] = f"{type(exc).__name__}: {exc}"
        finally:
            connections.close_all()

    first = threading.Thread(target=run, name="first")
    first.start()
    assert first_has_read.wait(10)
    second = threading.Thread(target=run, name="second")
    second.start()
    second_started.set()
    first.join(30)
    second.join(30)
    assert results == {"first": success_line(new=50), "second": success_line(unchanged=50)}
