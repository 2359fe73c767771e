"""Fixtures for the annotation tests that run commands (import/export and friends)."""

from pathlib import Path

import pytest

from annotation import tasks_exports
from annotation.services import export_jobs_upkeep


@pytest.fixture
def write(tmp_path):
    def write(name: str, data: bytes):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


@pytest.fixture
def import_file(run_cli, write, project):
    """Write ``data`` to a file called ``name`` and import it into project p1."""

    def run(name: str, data: bytes, *flags: str):
        path = write(name, data)
        return path, run_cli("import_dataset", "p1", str(path), *flags)

    return run


# Export jobs (test_export_jobs_*.py use them through usefixtures): the export folder under
# tmp_path with the settings at their defaults and the once-a-minute expiry sweep reset, and
# the tasks sent to the broker (none reaches a real one).
@pytest.fixture
def export_dir(settings, tmp_path, monkeypatch):
    settings.ELMTEX_EXPORT_DIR = str(tmp_path / "exports")
    settings.ELMTEX_EXPORT_STALL_SECONDS = 300
    settings.ELMTEX_EXPORT_KEEP_DAYS = 7
    monkeypatch.setattr(export_jobs_upkeep, "_last_expiry_sweep", None)
    return Path(settings.ELMTEX_EXPORT_DIR)


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks_exports.export_run_task, "apply_async", lambda **kw: calls.append(kw))
    return calls
