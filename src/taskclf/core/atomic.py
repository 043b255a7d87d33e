"""The one writer: durable, atomic replacement of small files, and complete appends.

Readers of a file written here see either the old content or the new one, never
a mix, even when several processes write at once: each writer fills its own
uniquely named temporary file in the destination folder, fsyncs it, renames it
over the destination (atomic on POSIX) and fsyncs the folder so the rename
itself survives a crash. Everything happens relative to one open folder
descriptor, so the file lands in the folder that was checked.

What is never done:

- writing over something that is not a regular file: a folder, FIFO, socket or
  device at the destination is refused, and so is a symbolic link (taskclf
  never writes through a link; the link stays as it was);
- giving a new file special bits: a replaced file keeps its permission bits
  without setuid, setgid and sticky; a new file gets ``0o666`` under the
  umask (``0o644`` with the usual umask);
- leaving temporary files behind: a failed write removes its own, and our
  temporary files older than :data:`STALE_TEMP_SECONDS` (left by a writer
  that was killed) are removed by the next write in that folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "STALE_TEMP_SECONDS",
    "UnsafeTargetError",
    "append_all",
    "replace_at",
    "write_bytes_atomic",
    "write_text_atomic",
]

STALE_TEMP_SECONDS = 60
"""Age after which a temporary file of ours is taken as left by a killed writer."""

# ".<name>.taskclf-<12 hex digits>.tmp": the names this module gives its temporary
# files, distinctive enough that the clean-up never takes a file of someone else's.
_TEMP_MARK = ".taskclf-"
_TEMP_NAME = re.compile(r"\..*\.taskclf-[0-9a-f]{12}\.tmp\Z", re.DOTALL)
_NAME_MAX = 255


class UnsafeTargetError(OSError):
    """The destination is not a regular file (or is a symbolic link): nothing was written."""


def write_text_atomic(path: Path, text: str) -> Path:
    """Replace ``path`` with ``text`` encoded as UTF-8; see :func:`write_bytes_atomic`."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Replace the file at ``path`` (any path the caller names) with ``data`` atomically.

    For files outside a TASKCLF_HOME, such as ``--output FILE``. Missing parent
    folders are created. The folder is opened once (links in the path leading
    to it are followed: the caller named it); the file itself is written with
    :func:`replace_at`. Files inside a home go through
    :class:`taskclf.core.home.Home` instead.

    Returns:
        ``path``.

    Raises:
        UnsafeTargetError: something other than a regular file, or a symbolic
            link, is at ``path``.
        OSError: the folder cannot be created or written, the disk is full, ...
    """
    folder = path.parent
    _make_folder(folder)
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot open the folder: {exc.strerror}", str(folder)) from exc
    try:
        replace_at(fd, path.name, data, shown=str(path))
    finally:
        os.close(fd)
    return path


def replace_at(folder_fd: int, name: str, data: bytes, *, shown: str) -> None:
    """Replace ``name`` in the open folder ``folder_fd`` with ``data``, atomically and durably.

    On any failure the previous file, if any, is left exactly as it was and
    no temporary file is left behind. ``shown`` names the file in errors.

    Raises:
        UnsafeTargetError: a folder, FIFO, socket, device or symbolic link is at ``name``.
        OSError: the file cannot be written (disk full, read-only, ...).
    """
    old = _old_file(folder_fd, name, shown)
    temp_name, fd = _create_temp(folder_fd, name, shown)
    try:
        try:
            if old is not None:
                _keep_owner_and_mode(fd, old)
            _write_all(fd, data)
            os.fsync(fd)
        except OSError as exc:
            raise _failed(exc, shown) from exc
        finally:
            os.close(fd)
        # The destination is checked again just before the rename, so a
        # non-regular file that appeared meanwhile is not replaced either.
        _old_file(folder_fd, name, shown)
        os.rename(temp_name, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name, dir_fd=folder_fd)
        raise
    _fsync(folder_fd)
    _remove_stale_temps(folder_fd)


def append_all(fd: int, data: bytes, *, shown: str) -> None:
    """Append ``data`` to the file open at ``fd`` (``O_APPEND``) completely, or not at all.

    Short writes are continued; when a write fails (a full disk, say) the
    file is cut back to its size before the call, so no partial record is
    left, and the error is raised. The data is fsynced before returning.
    Callers serialise appenders (a lock) when records must not interleave.

    Raises:
        OSError: the data could not be written in full (the file is unchanged);
            its message names the file as ``shown``.
    """
    start = os.fstat(fd).st_size
    try:
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, start)
            os.fsync(fd)
        if isinstance(exc, OSError):
            raise _failed(exc, shown) from exc
        raise


def _failed(exc: OSError, shown: str) -> OSError:
    """``exc`` as an error naming the file and saying that nothing was written."""
    return OSError(exc.errno, f"{exc.strerror or exc}; nothing was written", shown)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # pragma: no cover - os.write raises rather than return 0
            raise OSError(errno.EIO, "the system wrote nothing")
        view = view[written:]


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:  # a file where a folder is needed
        blocker = next((p for p in (folder, *folder.parents) if p.is_file()), folder)
        raise NotADirectoryError(
            errno.ENOTDIR, "is a file where a folder should be; nothing was written", str(blocker)
        ) from exc


def _old_file(folder_fd: int, name: str, shown: str) -> os.stat_result | None:
    """The status of the regular file being replaced, ``None`` for a new file.

    Raises:
        UnsafeTargetError: something other than a regular file is at ``name``.
    """
    try:
        info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if stat.S_ISREG(info.st_mode):
        return info
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeTargetError(
            errno.EEXIST,
            "is a symbolic link; taskclf does not write through links (remove the link, or "
            "write to the file it points at); nothing was written",
            shown,
        )
    kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO, socket or device"
    raise UnsafeTargetError(
        errno.EEXIST,
        f"is not a regular file ({kind} is there); taskclf replaces only regular files, "
        "so nothing was written",
        shown,
    )


def _keep_owner_and_mode(fd: int, old: os.stat_result) -> None:
    """Give the new file the replaced one's owner, group and permission bits.

    A service that reads the policy through its group keeps reading it. The
    owner can be kept only by root (others keep their own, as the kernel
    says); special bits are never carried over: a policy is data, not a program.
    """
    with contextlib.suppress(PermissionError):
        os.fchown(fd, old.st_uid, old.st_gid)
    os.fchmod(fd, stat.S_IMODE(old.st_mode) & 0o777)


def _create_temp(folder_fd: int, name: str, shown: str) -> tuple[str, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    # The temporary name must fit in a folder entry too: a long name is cut.
    suffix_bytes = len(f".{_TEMP_MARK}{'0' * 12}.tmp".encode())
    stem = os.fsencode(name)[: _NAME_MAX - suffix_bytes]
    for _attempt in range(100):
        temp_name = os.fsdecode(b"." + stem) + f"{_TEMP_MARK}{os.urandom(6).hex()}.tmp"
        try:
            # 0o666 under the umask: the mode a new file gets (kept for a new
            # destination; a replaced one's mode is set with fchmod).
            return temp_name, os.open(temp_name, flags, 0o666, dir_fd=folder_fd)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OSError(
                exc.errno, f"cannot be written ({exc.strerror}); nothing was written", shown
            ) from exc
    raise OSError(errno.EEXIST, "no free temporary file name", shown)  # pragma: no cover


def _fsync(folder_fd: int) -> None:
    # Makes the rename durable. Some file systems refuse to fsync a folder;
    # the data itself is already safe, so that is not an error worth raising.
    with contextlib.suppress(OSError):
        os.fsync(folder_fd)


def _stale_temps(folder_fd: int) -> Iterator[str]:
    cutoff = time.time() - STALE_TEMP_SECONDS
    with os.scandir(folder_fd) as entries:
        for entry in entries:
            if not _TEMP_NAME.match(entry.name):
                continue
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                    yield entry.name


def _remove_stale_temps(folder_fd: int) -> None:
    with contextlib.suppress(OSError):
        for temp_name in list(_stale_temps(folder_fd)):
            with contextlib.suppress(OSError):
                os.unlink(temp_name, dir_fd=folder_fd)
