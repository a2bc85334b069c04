"""Saving: only regular files are replaced, symlinks are written through, permissions are
kept, temporaries of killed saves are cleaned up, and errors name the target."""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import tsrnn
from tsrnn.modelfile import atomic
from tsrnn.modelfile.atomic import atomic_write
from tsrnn.persistence import SaveTargetError
from tsrnn.preprocessing import TimeSeriesScaler

ROOT = Path(__file__).resolve().parents[2]
X = np.random.default_rng(0).normal(size=(5, 4, 2))


@pytest.fixture
def model():
    return TimeSeriesScaler().fit(X)


def listing(folder):
    return sorted(p.name for p in Path(folder).iterdir())


def test_fifo_is_refused_and_left_alone(model, tmp_path):
    fifo = tmp_path / "pipe.tsrnn"
    os.mkfifo(fifo)
    with pytest.raises(SaveTargetError, match=r"pipe.tsrnn'?: it is a FIFO, not a regular file"):
        model.save(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert listing(tmp_path) == ["pipe.tsrnn"]


def test_folder_is_refused(model, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    with pytest.raises(SaveTargetError, match="it is a folder, not a regular file"):
        model.save(folder)
    assert listing(folder) == [] and listing(tmp_path) == ["models"]


def test_character_device_is_refused_before_anything_is_written(model, monkeypatch):
    # Run as root, an unguarded save would replace the system's /dev/null: the rename and
    # every file creation are intercepted, so even a regression cannot touch it.
    writes = []

    def no_replace(src, dst, *args, **kwargs):
        writes.append(("replace", str(dst)))
        raise OSError("the test forbids renames")

    real_open = os.open

    def no_create(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            writes.append(("create", str(path)))
            raise OSError("the test forbids creating files")
        return real_open(path, flags, *args, **kwargs)

    before = os.stat("/dev/null")
    monkeypatch.setattr(os, "replace", no_replace)
    monkeypatch.setattr(os, "open", no_create)
    with pytest.raises(SaveTargetError, match="'/dev/null': it is a character device"):
        model.save("/dev/null")
    assert writes == []
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def test_symlink_is_written_through_to_its_target(model, tmp_path):
    target = tmp_path / "real" / "model.tsrnn"
    target.parent.mkdir()
    target.write_bytes(b"old model")
    link = tmp_path / "current.tsrnn"
    link.symlink_to(target)
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(tsrnn.load(target).transform(X), model.transform(X))
    assert listing(target.parent) == ["model.tsrnn"]  # no temporary left next to it
    assert listing(tmp_path) == ["current.tsrnn", "real"]


def test_dangling_symlink_creates_its_target(model, tmp_path):
    link = tmp_path / "link.tsrnn"
    link.symlink_to(tmp_path / "new.tsrnn")
    model.save(link)
    assert link.is_symlink() and (tmp_path / "new.tsrnn").is_file()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664])
def test_existing_file_keeps_its_mode(model, tmp_path, mode):
    path = tmp_path / "model.tsrnn"
    path.write_bytes(b"old")
    path.chmod(mode)
    model.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert tsrnn.load(path).n_features_in_ == 2


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_file_honours_the_umask(model, tmp_path, umask):
    old = os.umask(umask)
    try:
        model.save(tmp_path / "model.tsrnn")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "model.tsrnn").stat().st_mode) == 0o666 & ~umask


def test_missing_folder_error_names_the_target(model, tmp_path):
    path = tmp_path / "missing" / "model.tsrnn"
    with pytest.raises(FileNotFoundError) as info:
        model.save(path)
    assert str(path) in str(info.value) and "tmp" not in str(info.value).replace(str(tmp_path), "")


def test_unwritable_folder_error_names_the_target(model, tmp_path, monkeypatch):
    # Root may write anywhere, so the refusal of a read-only folder is simulated.
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    path = tmp_path / "model.tsrnn"
    with pytest.raises(PermissionError) as info:
        model.save(path)
    message = str(info.value)
    assert str(path) in message and "Permission denied" in message
    assert "tsrnn-tmp" not in message


def test_temporaries_of_a_killed_save_are_removed_by_the_next_save(model, tmp_path):
    path = tmp_path / "model.tsrnn"
    script = textwrap.dedent(
        f"""
        import time
        from tsrnn.modelfile.atomic import atomic_write

        def write(f):
            f.write(b"x" * 100_000)
            f.flush()
            print("writing", flush=True)
            time.sleep(120)

        atomic_write({str(path)!r}, write)
        """
    )
    temporaries = []
    for _ in range(2):
        proc = subprocess.Popen(
            [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    temporaries = [name for name in listing(tmp_path) if ".tsrnn-tmp-" in name]
    assert len(temporaries) == 2 and all(
        n.startswith(".model.tsrnn.tsrnn-tmp-") for n in temporaries
    )
    # A temporary of another target and one of a live process are not ours to remove.
    other = tmp_path / ".other.tsrnn.tsrnn-tmp-999999999-abcd"
    other.write_bytes(b"other")
    live = tmp_path / f".model.tsrnn.tsrnn-tmp-{os.getppid()}-beef"
    live.write_bytes(b"a save in progress")
    time.sleep(0.01)
    model.save(path)
    assert listing(tmp_path) == sorted([live.name, other.name, "model.tsrnn"])


def test_only_temporaries_older_than_this_save_are_removed(tmp_path):
    path = tmp_path / "model.tsrnn"
    newer = tmp_path / ".model.tsrnn.tsrnn-tmp-999999998-0001"

    def write(f):
        f.write(b"new")
        # Appears while this save runs, after its temporary: not stale yet.
        newer.write_bytes(b"x")
        future = time.time_ns() + 10**9
        os.utime(newer, ns=(future, future))

    atomic_write(path, write)
    assert newer.exists() and path.read_bytes() == b"new"
    assert atomic._pid_alive(os.getpid()) and not atomic._pid_alive(999_999_998)
