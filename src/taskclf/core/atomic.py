"""Durable, atomic replacement of small files.

Readers of a file written here see either the old content or the new one, never
a mix, even when several processes write at once: each writer fills its own
uniquely named temporary file in the destination folder, flushes and fsyncs it,
renames it over the destination with :func:`os.replace` (atomic on POSIX), and
fsyncs the folder so the rename itself survives a crash.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

__all__ = ["write_bytes_atomic", "write_text_atomic"]


def write_text_atomic(path: Path, text: str) -> Path:
    """Replace ``path`` with ``text`` encoded as UTF-8; see :func:`write_bytes_atomic`."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically and durably.

    Missing parent folders are created. On any failure the previous file, if
    any, is left exactly as it was and no temporary file is left behind.

    Returns:
        ``path``.

    Raises:
        OSError: the folder cannot be created or written, the disk is full, ...
    """
    import tempfile  # imported here: commands that only read never need it

    folder = path.parent
    _prepare_folder(folder)
    if path.is_dir():
        raise IsADirectoryError(
            errno.EISDIR, "is a folder where a file should be; nothing was written", str(path)
        )
    mode = _mode_for(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as tmp:
            os.fchmod(tmp.fileno(), mode)
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_folder(folder)
    return path


def _prepare_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:  # a file stands where a folder is needed
        blocker = next((p for p in (folder, *folder.parents) if p.is_file()), folder)
        raise NotADirectoryError(
            errno.ENOTDIR, "is a file where a folder should be; nothing was written", str(blocker)
        ) from exc


def _mode_for(path: Path) -> int:
    # mkstemp creates files readable by their owner only; a policy must stay
    # readable by whoever could read it before (an inference service, say), so
    # keep the old file's mode, or give a new file the usual mode under the umask.
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    # Makes the rename durable. Some file systems refuse to fsync a directory;
    # the data itself is already safe, so that is not an error worth raising.
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
