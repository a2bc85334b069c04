"""Atomic, safe replacement of a file.

The new contents go to a temporary file in the target's folder, are flushed and
fsynced, and are then renamed over the target, so a crash or a kill at any moment
leaves either the old file or the new one, never a torn one. Only regular files
are replaced: a path naming a device, a FIFO or a folder is refused before
anything is written. A symlink is followed and its target replaced (the link
stays). An existing file keeps its permission bits; a new one gets the usual
``0o666 & ~umask``.

Temporaries are named ``.{target name}.tsrnn-tmp-{pid}-{random}``, so that the next
save of the same target can recognise and remove those a killed process left behind.
"""

import errno
import os
import secrets
import stat
from pathlib import Path

from tsrnn.modelfile.errors import SaveTargetError

_TMP_MARK = ".tsrnn-tmp-"


def _kind(mode):
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def resolve_target(path):
    """The regular file that saving to ``path`` replaces, and its current status.

    Returns
    -------
    target : pathlib.Path
        ``path`` with symlinks followed.
    stat : os.stat_result or None
        The target's current status; None when it does not exist yet.

    Raises
    ------
    SaveTargetError
        ``path`` names something other than a regular file.
    FileNotFoundError
        The folder of ``path`` does not exist.
    """
    path = Path(path)
    if str(path) == "":
        raise SaveTargetError("cannot save to an empty path")
    target = Path(os.path.realpath(path))
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise SaveTargetError(
            f"cannot save to {str(path)!r}: it is {_kind(st.st_mode)}, not a regular file"
        )
    if not target.parent.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, f"cannot save to {str(path)!r}: the folder does not exist"
        )
    return target, st


def _create_temporary(target, shown):
    name = f".{target.name}{_TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    tmp = target.parent / name
    try:
        # 0o666: the kernel applies the umask, as for any new file.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        # Name what the user asked for, not our temporary.
        raise type(exc)(exc.errno, f"cannot save to {shown!r}: {exc.strerror}") from None
    return fd, tmp


def _keep_metadata(fd, old):
    """Give the new file the old one's permission bits and, where allowed, owner."""
    os.fchmod(fd, stat.S_IMODE(old.st_mode))
    if hasattr(os, "fchown"):
        try:
            os.fchown(fd, old.st_uid, old.st_gid)
        except OSError:
            pass  # only root may give a file away; the mode is what matters


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temporaries(target, newer_than):
    """Remove temporaries of ``target`` left by killed saves.

    A temporary is stale when the process named in it is gone and it was last
    written before ``newer_than`` (a ``st_mtime_ns``), so a concurrent save by a
    live process is never disturbed.
    """
    prefix = f".{target.name}{_TMP_MARK}"
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        pid = entry.name[len(prefix) :].partition("-")[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _pid_alive(int(pid)):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and (
                entry.stat(follow_symlinks=False).st_mtime_ns <= newer_than
            ):
                os.unlink(entry.path)
        except OSError:
            pass  # another save removed it first


def atomic_write(path, write):
    """Write a file atomically through a temporary file renamed over the target.

    The temporary file sits next to ``path``'s target and is renamed over it once it
    is complete and on disk. A crash at any moment leaves the target either as it
    was or fully written.

    Parameters
    ----------
    path : str or path-like
        A regular file, a path that does not exist yet in an existing folder, or a
        symlink to either (the link's target is replaced, the link kept).
    write : callable
        Called with the temporary file, opened for binary writing.

    Raises
    ------
    SaveTargetError
        ``path`` is a folder, a device, a FIFO or a socket.
    OSError
        The folder is missing or not writable; the message names ``path``.
    """
    shown = str(path)
    target, old = resolve_target(path)
    fd, tmp = _create_temporary(target, shown)
    try:
        with os.fdopen(fd, "wb") as f:
            if old is not None:
                _keep_metadata(f.fileno(), old)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        created = os.stat(tmp).st_mtime_ns
        os.replace(tmp, target)
    except BaseException:
        # Never leave half-written temporaries behind (even on KeyboardInterrupt).
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(target.parent)
    remove_stale_temporaries(target, created)


def _fsync_folder(folder):
    # Makes the rename itself durable (POSIX); not possible on Windows.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
