"""Reading and writing the user's files: typed errors on reads, atomic writes.

Every write goes to a temporary file in the target's folder, is flushed to
disk and then renamed over the target, so a crash mid-write never destroys
what the user saved before; the temporaries a killed save leaves are named
after their target and removed by its next save. A symlink is written
through to its target; a target that is not a regular file is refused.
Every failure is a :class:`~indexnet.DataError` (reads) or
:class:`~indexnet.CheckpointError` (writes) naming the path.

>>> import os, tempfile
>>> p = os.path.join(tempfile.mkdtemp(), "a.txt")
>>> atomic_write_bytes(p, lambda f: f.write(b"x^n_d"))
>>> read_text(p)
'x^n_d'
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
import time
from collections.abc import Callable
from typing import IO, Any

from .errors import CheckpointError, DataError

__all__ = [
    "STALE_AFTER",
    "TEMP_MARK",
    "atomic_write_bytes",
    "check_output_path",
    "clean_stale_temporaries",
    "read_text",
    "temp_prefix",
    "write_figure_png",
]


def read_text(path: str | os.PathLike[str], what: str = "file") -> str:
    """The UTF-8 text of ``path``; a missing file, a folder or bad bytes is a DataError."""
    name = os.fspath(path)
    if os.path.isdir(name):
        raise DataError(f"cannot read {what} {name!r}: it is a folder, not a file")
    try:
        with open(name, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise DataError(f"cannot read {what} {name!r}: no such file") from None
    except UnicodeDecodeError as err:
        raise DataError(
            f"cannot read {what} {name!r}: not UTF-8 text (byte {err.start}: {err.reason})"
        ) from None
    except OSError as err:
        raise DataError(f"cannot read {what} {name!r}: {err.strerror or err}") from None


def check_output_path(path: str | os.PathLike[str], what: str, suffix: str = "") -> str:
    """Check that ``path`` can be written: its folder exists, it is a regular file if anything.

    A symlink is followed (the write goes through it to its target, see
    :func:`atomic_write_bytes`); a folder, a device, a FIFO or a socket is refused.

    >>> check_output_path("/no/such/folder/x.png", "--plot", ".png")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.CheckpointError: cannot write --plot '/no/such/folder/x.png': folder ...
    >>> check_output_path("/dev/null", "--save")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.CheckpointError: cannot write --save '/dev/null': it is a character device, ...
    """
    name = os.fspath(path)
    if suffix and not name.lower().endswith(suffix):
        raise CheckpointError(f"{what} writes a {suffix[1:].upper()} file; name it *{suffix}, "
                              f"got {name!r}")
    target = _target(name)
    kind = _kind(target)
    if kind == "folder":
        raise CheckpointError(f"cannot write {what} {name!r}: it is a folder")
    if kind:
        through = f" (through the link to {target!r})" if target != name else ""
        raise CheckpointError(f"cannot write {what} {name!r}{through}: it is a {kind}, not a "
                              "regular file; indexnet writes and replaces regular files only")
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise CheckpointError(f"cannot write {what} {name!r}: folder {folder!r} does not exist")
    return name


def _target(name: str) -> str:
    """The file a write to ``name`` lands in: ``name``, or what the symlink ``name`` points to.

    A chain of links is followed to its end (which need not exist yet).
    """
    return os.path.realpath(name) if os.path.islink(name) else name


def _kind(name: str) -> str:
    """'' when ``name`` is a regular file or absent; else what it is ('folder', 'FIFO', ...)."""
    try:
        mode = os.stat(name).st_mode
    except OSError:  # absent, or a dangling link: a regular file will be made
        return ""
    if stat.S_ISREG(mode):
        return ""
    kinds = ((stat.S_ISDIR, "folder"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "FIFO"),
             (stat.S_ISSOCK, "socket"))
    return next((kind for test, kind in kinds if test(mode)), "special file")


#: Temporary files of a save are named ``.{target}.indexnet-{pid}-{random}.tmp``.
TEMP_MARK = ".indexnet-"

#: A temporary file whose writer still runs is left alone unless older than this (seconds).
STALE_AFTER = 24 * 3600.0


def temp_prefix(target: str) -> str:
    """The start of the names of ``target``'s temporary files (which lie in its folder).

    >>> temp_prefix("/data/net.npz")
    '.net.npz.indexnet-'
    """
    return f".{os.path.basename(target)[:100]}{TEMP_MARK}"


def clean_stale_temporaries(target: str) -> list[str]:
    """Remove the temporary files an interrupted save of ``target`` left; return their paths.

    A temporary is stale when the process named in it is gone (a save killed
    by ``kill -9`` or a power cut), or when it is older than :data:`STALE_AFTER`.
    Another process's save in progress is left alone.
    """
    folder = os.path.dirname(os.path.abspath(target))
    prefix = temp_prefix(target)
    removed: list[str] = []
    try:
        entries = [e for e in os.scandir(folder)
                   if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    except OSError:
        return removed
    for entry in entries:
        if _is_stale(entry, prefix):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(entry.path)
    return removed


def _is_stale(entry: os.DirEntry[str], prefix: str) -> bool:
    """Whether the temporary ``entry`` belongs to no running save."""
    try:
        if not entry.is_file(follow_symlinks=False):
            return False
        age = time.time() - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return False
    pid_text = entry.name[len(prefix):].split("-", 1)[0]
    if not pid_text.isdigit():
        return age > STALE_AFTER
    return age > STALE_AFTER or not _running(int(pid_text))


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists (this process counts, so its own saves are safe)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):  # not ours (EPERM), or not a pid at all
        return True
    return True


def atomic_write_bytes(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any], what: str = "file"
) -> None:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it over ``path``.

    A symlink is written through: its target is replaced and the link stays. A
    path that exists but is not a regular file (a folder, a device) is refused.
    The temporary is named ``.{name}.indexnet-{pid}-{random}.tmp`` (see
    :func:`temp_prefix`), and those that a killed save left are removed first
    (:func:`clean_stale_temporaries`). The new file keeps the permissions of
    the file it replaces, else gets those a plain ``open`` would give it.
    """
    name = check_output_path(path, what)
    target = _target(name)
    folder = os.path.dirname(os.path.abspath(target))
    clean_stale_temporaries(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{temp_prefix(target)}{os.getpid()}-",
                                   suffix=".tmp", dir=folder)
    except OSError as err:
        raise CheckpointError(f"cannot write {what} {name!r}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except OSError as err:
        _remove(tmp)
        raise CheckpointError(f"cannot write {what} {name!r}: {err.strerror or err}") from None
    except BaseException:
        _remove(tmp)
        raise
    _fsync_folder(folder)


def _mode_for(target: str) -> int:
    """The permissions of the file ``target`` replaces, else ``0o666`` less the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_figure_png(figure: Any, path: str | os.PathLike[str], what: str = "plot") -> None:
    """Save a matplotlib figure as PNG, atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write_bytes(path, lambda handle: handle.write(buffer.getvalue()), what)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _fsync_folder(folder: str) -> None:
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
