"""Command output files: written atomically, through symbolic links, and never replacing
a device or a named pipe."""

import os
import stat
import threading

import pytest

from elmtex_site.errors import ApplicationError
from elmtex_site.files import atomic_text_output


def test_a_file_appears_only_when_the_block_ends(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_text_output(str(path)) as fh:
        fh.write("half")
        raise RuntimeError("stop")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no partial file left
    with atomic_text_output(str(path)) as fh:
        fh.write("new\n")
    assert path.read_text() == "new\n"


def test_a_symbolic_link_is_followed_and_kept(tmp_path):
    target = tmp_path / "target.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    with atomic_text_output(str(link)) as fh:
        fh.write("new\n")
    assert link.is_symlink()
    assert target.read_text() == "new\n"


def test_dev_null_stays_a_device():
    with atomic_text_output(os.devnull) as fh:
        fh.write("nothing\n")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_named_pipe_gets_the_text_and_stays_a_pipe(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    with atomic_text_output(str(fifo)) as fh:
        fh.write("through the pipe\n")
    reader.join(timeout=10)
    assert received == ["through the pipe\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_directory_or_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(ApplicationError, match="is a directory"), atomic_text_output(str(tmp_path)):
        pass
    with pytest.raises(ApplicationError, match="does not exist"), atomic_text_output(str(tmp_path / "no" / "f")):
        pass
