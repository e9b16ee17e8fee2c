"""Reading and writing the user's files: typed errors on reads, atomic writes.

Every write goes to a temporary file in the target's folder, is flushed to
disk and then renamed over the target, so a crash mid-write never destroys
what the user saved before. Every failure is a :class:`~indexnet.DataError`
(reads) or :class:`~indexnet.CheckpointError` (writes) naming the path.

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
import tempfile
from collections.abc import Callable
from typing import IO, Any

from .errors import CheckpointError, DataError

__all__ = ["atomic_write_bytes", "check_output_path", "read_text", "write_figure_png"]


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
    """Check that ``path`` can be written: its folder exists, it is not a folder, its suffix.

    >>> check_output_path("/no/such/folder/x.png", "--plot", ".png")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.CheckpointError: cannot write --plot '/no/such/folder/x.png': folder ...
    """
    name = os.fspath(path)
    if suffix and not name.lower().endswith(suffix):
        raise CheckpointError(f"{what} writes a {suffix[1:].upper()} file; name it *{suffix}, "
                              f"got {name!r}")
    if os.path.isdir(name):
        raise CheckpointError(f"cannot write {what} {name!r}: it is a folder")
    folder = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(folder):
        raise CheckpointError(f"cannot write {what} {name!r}: folder {folder!r} does not exist")
    return name


def atomic_write_bytes(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any], what: str = "file"
) -> None:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it over ``path``.

    The new file gets the permissions a plain ``open`` would give it.
    """
    name = check_output_path(path, what)
    folder = os.path.dirname(os.path.abspath(name))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".indexnet-", suffix=".tmp", dir=folder)
    except OSError as err:
        raise CheckpointError(f"cannot write {what} {name!r}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, name)
    except OSError as err:
        _remove(tmp)
        raise CheckpointError(f"cannot write {what} {name!r}: {err.strerror or err}") from None
    except BaseException:
        _remove(tmp)
        raise
    _fsync_folder(folder)


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
