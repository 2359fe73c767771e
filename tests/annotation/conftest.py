"""Fixtures for the annotation tests that run commands (import/export and friends)."""

import pytest


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
