"""The one door into TASKCLF_HOME: every file taskclf reads or writes there goes through here.

The rule for paths (the same for every command and every library call):

- TASKCLF_HOME itself is resolved once, when a :class:`Home` is made (it may be
  reached through symbolic links: the person running taskclf named it).
- Below it, every path is walked one component at a time from a directory file
  descriptor, with ``O_NOFOLLOW``: the kernel never follows a link for us. A
  symbolic link met on the way is read and resolved by the walk itself; it is
  followed only when its target stays inside the home, else the path is refused
  as leading outside TASKCLF_HOME. ``..`` is resolved by the walk too, never
  handed to the kernel. What was checked is what is opened, so flipping a link
  or swapping a folder between two steps cannot make taskclf read or write
  outside the home.
- Files are opened without blocking (a FIFO cannot stall a read), must be
  regular files, and are read with a size limit.

Writes go through :mod:`taskclf.core.atomic` on the folder descriptor the walk
opened, so a write lands exactly where the checks looked. Messages name paths
relative to the home (``models/run_001/metadata.json``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from taskclf.core.atomic import replace_at
from taskclf.core.jsonio import MAX_JSON_BYTES, JSONFileError, encode_json_document, read_fd_bytes

__all__ = ["MAX_SYMLINK_HOPS", "Home", "HomePathError"]

MAX_SYMLINK_HOPS = 40
"""Symbolic links one path may go through before it counts as a loop (Linux's own limit)."""

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_APPEND_FLAGS = (
    os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
)


class HomePathError(JSONFileError, OSError):
    """A path below TASKCLF_HOME cannot be used.

    It is a :class:`~taskclf.core.jsonio.JSONFileError` (a file that cannot be
    read) and an :class:`OSError` (a file that cannot be written), so callers
    of either kind of operation catch it as they already do.

    Attributes:
        path: the path as shown to the user.
        reason: what is wrong, in words a person can act on.
        kind: ``"outside"`` (it leads out of the home), ``"too_long"``,
            ``"loop"``, ``"not_regular"`` (a folder, FIFO, socket or device
            where a file should be), ``"in_the_way"`` (a file where a folder
            should be) or ``"unreadable"``.
        target: for ``"outside"``, where the path leads (lexically resolved).
    """

    def __init__(self, path: str, reason: str, *, kind: str, target: str | None = None) -> None:
        super().__init__(path, reason)
        self.strerror = reason
        self.filename = path
        self.kind = kind
        self.target = target

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


class _Link(Exception):
    """Raised inside the walk: the component just opened is a symbolic link to ``target``."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


@dataclass(frozen=True, slots=True)
class Home:
    """A TASKCLF_HOME folder and the only way taskclf touches files inside it.

    Attributes:
        given: the home as the caller named it, made absolute (shown in messages).
        root: the same folder with symbolic links resolved, once.
    """

    given: Path
    root: Path

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> Home:
        """The home at ``path`` (absolute or relative to the current folder)."""
        given = Path(os.path.abspath(path))
        return cls(given=given, root=Path(os.path.realpath(given)))

    @classmethod
    def of_models_dir(cls, models_dir: str | os.PathLike[str]) -> Home:
        """The home of a ``models/`` folder: the folder above it."""
        return cls.at(Path(os.path.abspath(models_dir)).parent)

    # ------------------------------------------------------------------ naming

    def parts(self, path: str | os.PathLike[str]) -> tuple[str, ...]:
        """The components of ``path`` below the home, ``..`` and ``.`` resolved lexically.

        ``path`` is relative to the home, or absolute and (lexically) inside
        ``given`` or ``root``.

        Raises:
            HomePathError: ``path`` lies outside the home (kind ``"outside"``).
        """
        text = os.fspath(path)
        if os.path.isabs(text):
            absolute = os.path.normpath(text)
            for base in (str(self.given), str(self.root)):
                if absolute == base:
                    return ()
                if absolute.startswith(base.rstrip("/") + "/"):
                    text = absolute[len(base.rstrip("/")) + 1 :]
                    break
            else:
                raise self._outside(text, absolute)
        return self._lexical(text.split("/"), shown=text)

    def display(self, path: str | os.PathLike[str]) -> str:
        """``path`` as messages show it: relative to the home in POSIX form when inside it."""
        try:
            parts = self.parts(path)
        except HomePathError:
            return os.fspath(path)
        return "/".join(parts) if parts else "."

    def path_of(self, path: str | os.PathLike[str]) -> Path:
        """The absolute path (below ``given``) of a home-relative ``path``, for messages."""
        return self.given.joinpath(*self.parts(path))

    # ------------------------------------------------------------------ reading

    def read_bytes(self, path: str | os.PathLike[str], *, max_bytes: int = MAX_JSON_BYTES) -> bytes:
        """The bytes of the regular file at ``path``, read once and bounded.

        Raises:
            FileNotFoundError: nothing is at ``path`` (or a part of it is a file).
            HomePathError: the path leads outside the home, is too long, loops,
                or is not a regular file.
            JSONFileError: the file is larger than ``max_bytes`` or cannot be read.
        """
        # Written out rather than through open_file: this is the hot path of
        # every policy load, and each helper layer costs more than a syscall.
        parts = self.parts(path)
        if not parts:
            raise HomePathError(".", "is the home folder itself, not a file", kind="not_regular")
        shown = "/".join(parts)
        fd = self._open(parts, want_file=True, create=False, shown=shown)
        try:
            _require_regular(fd, shown)
            return read_fd_bytes(fd, shown, max_bytes=max_bytes)
        finally:
            os.close(fd)

    @contextmanager
    def open_file(self, path: str | os.PathLike[str]) -> Iterator[int]:
        """Open the regular file at ``path`` for reading (non-blocking); yield its descriptor."""
        parts = self.parts(path)
        shown = "/".join(parts) if parts else "."
        if not parts:
            raise HomePathError(shown, "is the home folder itself, not a file", kind="not_regular")
        fd = self._open(parts, want_file=True, create=False, shown=shown)
        try:
            _require_regular(fd, shown)
            yield fd
        finally:
            os.close(fd)

    @contextmanager
    def open_dir(self, path: str | os.PathLike[str]) -> Iterator[int]:
        """Open the folder at ``path``; yield its descriptor.

        Raises:
            FileNotFoundError: nothing is at ``path``.
            NotADirectoryError: something other than a folder is at ``path``.
            HomePathError: as for :meth:`read_bytes`.
        """
        fd = self._open(self.parts(path), want_file=False, create=False, shown=self.display(path))
        try:
            yield fd
        finally:
            os.close(fd)

    def kind(self, path: str | os.PathLike[str]) -> str:
        """What is at ``path``: ``"folder"``, ``"file"``, ``"other"`` or ``"nothing"``.

        Links inside the home are followed as everywhere else.

        Raises:
            HomePathError: the path leads outside the home, is too long or loops.
        """
        try:
            with self.open_dir(path):
                return "folder"
        except FileNotFoundError:
            return "nothing"
        except NotADirectoryError:
            pass
        try:
            with self.open_file(path):
                return "file"
        except FileNotFoundError:
            return "nothing"
        except HomePathError as exc:
            if exc.kind == "not_regular":
                return "other"
            raise

    def entry_kind(self, path: str | os.PathLike[str]) -> str:
        """What the entry at ``path`` itself is, its last component not followed.

        Returns ``"folder"``, ``"file"``, ``"link"``, ``"other"`` or ``"nothing"``.

        Raises:
            HomePathError: the folders above it lead outside the home, are too
                long or loop.
        """
        try:
            parent, name, _shown = self._parent(path)
        except (FileNotFoundError, NotADirectoryError):
            return "nothing"
        try:
            info = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return "nothing"
        except OSError as exc:
            raise _os_error(exc, self.display(path)) from exc
        finally:
            os.close(parent)
        if stat.S_ISLNK(info.st_mode):
            return "link"
        if stat.S_ISDIR(info.st_mode):
            return "folder"
        return "file" if stat.S_ISREG(info.st_mode) else "other"

    def list_dir(self, path: str | os.PathLike[str], *, limit: int) -> tuple[list[str], bool]:
        """Names in the folder at ``path`` (unsorted) and whether ``limit`` cut the list.

        Raises:
            FileNotFoundError, NotADirectoryError, HomePathError: as for :meth:`open_dir`.
        """
        names: list[str] = []
        with self.open_dir(path) as fd, os.scandir(fd) as entries:
            for entry in entries:
                if len(names) >= limit:
                    return names, True
                names.append(entry.name)
        return names, False

    # ------------------------------------------------------------------ writing

    def write_bytes(self, path: str | os.PathLike[str], data: bytes) -> Path:
        """Replace the file at ``path`` with ``data`` atomically (see :mod:`taskclf.core.atomic`).

        Missing folders are created. Returns the file's path below ``given``.

        Raises:
            HomePathError: the path leads outside the home, is too long, or a
                file stands where a folder is needed.
            UnsafeTargetError: a folder, FIFO, socket, device or link is at ``path``.
            OSError: the file cannot be written; the previous one is intact.
        """
        with self.open_folder_for_writing(path) as (parent, name):
            replace_at(parent, name, data, shown=self.display(path))
        return self.path_of(path)

    def write_document(self, path: str | os.PathLike[str], document: object) -> Path:
        """Write ``document`` as taskclf's JSON (:func:`~taskclf.core.jsonio.encode_json_document`).

        A document the reader would refuse (too large, too deep, a lone
        surrogate) is refused before anything is touched.

        Raises:
            JSONFileError: the document cannot be written as a file taskclf reads.
            HomePathError, UnsafeTargetError, OSError: as for :meth:`write_bytes`.
        """
        data = encode_json_document(document, self.display(path))
        return self.write_bytes(path, data)

    def remove(self, path: str | os.PathLike[str]) -> bool:
        """Remove the regular file (or link) at ``path``; ``False`` when nothing was there.

        Raises:
            HomePathError: the path leads outside the home, or a folder, FIFO,
                socket or device is there (never removed).
            OSError: it cannot be removed.
        """
        shown = self.display(path)
        try:
            parent, name, _shown = self._parent(path)
        except (FileNotFoundError, NotADirectoryError):
            return False
        try:
            try:
                info = os.stat(name, dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                return False
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
                kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO, socket or device"
                raise HomePathError(
                    shown,
                    f"is not a regular file ({kind}); nothing was removed",
                    kind="not_regular",
                )
            try:
                os.unlink(name, dir_fd=parent)
            except FileNotFoundError:
                return False
            _fsync_quietly(parent)
            return True
        finally:
            os.close(parent)

    @contextmanager
    def open_folder_for_writing(self, path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
        """Walk to the folder holding ``path``, creating missing folders; yield (fd, name).

        The name is the last component of ``path``, not yet opened: callers
        create, replace or remove it relative to the descriptor.

        Raises:
            HomePathError: the path leads outside the home, is too long, or a
                file stands where a folder is needed (kind ``"in_the_way"``).
            OSError: a folder cannot be created.
        """
        parent, name, _shown = self._parent(path, create=True)
        try:
            yield parent, name
        finally:
            os.close(parent)

    def open_append(self, path: str | os.PathLike[str]) -> int:
        """Open (creating) the regular file at ``path`` for appending; the caller closes it.

        Raises:
            HomePathError: as for :meth:`open_folder_for_writing`, or the path
                is not a regular file or is a symbolic link.
            OSError: it cannot be created or opened.
        """
        with self.open_folder_for_writing(path) as (parent, name):
            shown = self.display(path)
            try:
                fd = os.open(name, _APPEND_FLAGS, 0o644, dir_fd=parent)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.EMLINK):
                    raise HomePathError(
                        shown,
                        "cannot be opened for appending: it is a symbolic link, and taskclf "
                        "does not write through links (replace it with a regular file); "
                        "nothing was written",
                        kind="not_regular",
                    ) from exc
                raise HomePathError(
                    shown,
                    f"cannot be opened for appending ({exc.strerror or exc}); nothing was written",
                    kind="too_long" if exc.errno == errno.ENAMETOOLONG else "unreadable",
                ) from exc
        try:
            _require_regular(fd, shown)
        except BaseException:
            os.close(fd)
            raise
        return fd

    # ------------------------------------------------------------------ the walk

    def _parent(
        self, path: str | os.PathLike[str], *, create: bool = False
    ) -> tuple[int, str, str]:
        """Open the folder holding the last component of ``path``; return (fd, name, shown).

        Links in the folders above are followed (inside the home); the last
        component itself is not opened.
        """
        parts = self.parts(path)
        shown = "/".join(parts) if parts else "."
        if not parts:
            raise HomePathError(shown, "is the home folder itself, not a file", kind="not_regular")
        fd = self._open(parts[:-1], want_file=False, create=create, shown=shown)
        return fd, parts[-1], shown

    def _open(self, parts: tuple[str, ...], *, want_file: bool, create: bool, shown: str) -> int:
        """Open ``parts`` below the root: the last one as a file (``want_file``) or a folder.

        Each component is opened with ``O_NOFOLLOW`` relative to the folder
        opened before it. A link is read and its target put in front of the
        components still to open: a relative target continues from the folder
        the link is in, an absolute one from the root (it must lie in the
        home). ``..`` goes back one folder of the path really walked (so it
        means what the kernel would make of it), and never above the root.
        With ``create``, missing folders are made.
        """
        pending = list(parts)
        walked: list[str] = []  # the folders really opened, links resolved
        hops = 0
        current = self._open_root(create=create)
        try:
            while pending:
                name = pending.pop(0)
                if name in ("", "."):
                    continue
                if name == "..":
                    if not walked:
                        lexical = os.path.normpath(os.path.join(self.root, "..", *pending))
                        raise self._outside(shown, lexical)
                    # Walk again from the root: a folder's ".." entry is not trusted.
                    pending = [*walked[:-1], *pending]
                    walked = []
                    current = self._reopen_root(current)
                    continue
                as_file = want_file and not pending
                try:
                    child = _open_at(current, name, as_file=as_file, shown=shown)
                except _Link as link:
                    hops += 1
                    if hops > MAX_SYMLINK_HOPS:
                        raise _loop(shown) from None
                    if link.target.startswith("/"):
                        pending = [*self._inside(link.target, shown), *pending]
                        walked = []
                        current = self._reopen_root(current)
                    else:
                        pending = [*link.target.split("/"), *pending]
                    continue
                except FileNotFoundError:
                    if not create or as_file:
                        raise
                    _make_folder(current, name, shown)
                    pending.insert(0, name)
                    continue
                except NotADirectoryError:
                    where = "/".join([*walked, name])
                    if create:
                        raise HomePathError(
                            where,
                            "is a file where a folder should be; nothing was written",
                            kind="in_the_way",
                        ) from None
                    if not pending:
                        raise  # the folder asked for is something else
                    # Nothing can exist below a file.
                    raise FileNotFoundError(
                        2, f"a part of the path ({where}) is a file, not a folder", shown
                    ) from None
                # `current` always names an open folder, even when a Ctrl-C lands
                # between these two lines (the except below closes it once).
                previous, current = current, child
                os.close(previous)
                walked.append(name)
            return current
        except BaseException:
            os.close(current)
            raise

    def _reopen_root(self, current: int) -> int:
        """Open the root again and close ``current``; the root's fd is returned."""
        root = self._open_root(create=False)
        os.close(current)
        return root

    def _open_root(self, *, create: bool) -> int:
        try:
            return os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            if not create:
                raise
        except NotADirectoryError:
            raise
        except OSError as exc:
            raise _os_error(exc, str(self.given)) from exc
        _make_home(self.root)
        return self._open_root(create=False)

    def _inside(self, target: str, shown: str) -> list[str]:
        """The components below the home of the absolute link target ``target``.

        A target inside the home as it was named (``given``) or as it really
        is (``root``) is inside; anything else leads outside.
        """
        normal = os.path.normpath(target)
        for base in (str(self.root), str(self.given)):
            prefix = base.rstrip("/") + "/"
            if normal == base:
                return []
            if normal.startswith(prefix):
                return normal[len(prefix) :].split("/")
        raise self._outside(shown, normal)

    def _lexical(self, components: list[str], *, shown: str) -> tuple[str, ...]:
        """``components`` of a path taskclf was given, ``.`` and ``..`` resolved lexically.

        A path a policy or a person gives is taken as written (policies may
        not hold ``..`` at all); only links met on the way are resolved by the
        walk itself.
        """
        result: list[str] = []
        for part in components:
            if "\x00" in part:
                raise HomePathError(shown, "holds a NUL character", kind="unreadable")
            if part in ("", "."):
                continue
            if part == "..":
                if not result:
                    lexical = os.path.normpath(os.path.join(self.root, *components))
                    raise self._outside(shown, lexical)
                result.pop()
            else:
                result.append(part)
        return tuple(result)

    def _outside(self, shown: str, target: str) -> HomePathError:
        return HomePathError(
            shown,
            f"leads outside TASKCLF_HOME ({self.given}) to {target}",
            kind="outside",
            target=target,
        )


def _open_at(parent: int, name: str, *, as_file: bool, shown: str) -> int:
    """Open ``name`` in ``parent`` without following a link (a link raises :class:`_Link`).

    A file to read is looked at first (``lstat``): a FIFO, socket or device is
    refused without being opened, so opening it can have no side effect; the
    descriptor is checked again after the open, in case it changed between.
    """
    try:
        if as_file:
            info = os.stat(name, dir_fd=parent, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                raise _Link(os.readlink(name, dir_fd=parent))
            if not stat.S_ISREG(info.st_mode):
                raise _not_regular(info, shown)
            return os.open(name, _FILE_FLAGS, dir_fd=parent)
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except (FileNotFoundError, _Link, HomePathError):
        raise
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            try:
                target = os.readlink(name, dir_fd=parent)
            except OSError:
                target = None
            if target is not None:
                raise _Link(target) from None
            if exc.errno == errno.ENOTDIR:
                raise NotADirectoryError(errno.ENOTDIR, "is not a folder", shown) from None
        if exc.errno == errno.ENXIO:  # a socket (or a FIFO without a writer) at the path
            raise HomePathError(
                shown, "is not a regular file (a FIFO, socket or device?)", kind="not_regular"
            ) from exc
        raise _os_error(exc, shown) from exc


def _not_regular(info: os.stat_result, shown: str) -> HomePathError:
    if stat.S_ISDIR(info.st_mode):
        return HomePathError(shown, "is a directory, not a file", kind="not_regular")
    return HomePathError(
        shown, "is not a regular file (a FIFO, socket or device?)", kind="not_regular"
    )


def _make_folder(parent: int, name: str, shown: str) -> None:
    try:
        os.mkdir(name, 0o777, dir_fd=parent)
    except FileExistsError:
        pass  # made meanwhile by someone else: it is opened next
    except OSError as exc:
        raise _os_error(exc, shown) from exc


def _os_error(exc: OSError, shown: str) -> HomePathError:
    if exc.errno == errno.ENAMETOOLONG:
        return HomePathError(
            shown,
            "is too long: a part of it is longer than the system allows (255 bytes per name)",
            kind="too_long",
        )
    if exc.errno == errno.ELOOP:
        return _loop(shown)
    return HomePathError(shown, f"cannot be opened: {exc.strerror or exc}", kind="unreadable")


def _loop(shown: str) -> HomePathError:
    return HomePathError(
        shown,
        f"cannot be opened: it goes through more than {MAX_SYMLINK_HOPS} symbolic links (a loop?)",
        kind="loop",
    )


def _make_home(root: Path) -> None:
    """Create the home folder itself (and its parents) before the first write into it."""
    try:
        os.makedirs(root, exist_ok=True)
    except FileExistsError as exc:
        raise HomePathError(
            str(root), "is a file where a folder should be; nothing was written", kind="in_the_way"
        ) from exc
    except OSError as exc:
        raise _os_error(exc, str(root)) from exc


def _fsync_quietly(folder_fd: int) -> None:
    # Some file systems refuse to fsync a folder; the change itself is made.
    with contextlib.suppress(OSError):
        os.fsync(folder_fd)


def _require_regular(fd: int, shown: str) -> os.stat_result:
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise HomePathError(shown, "is a directory, not a file", kind="not_regular")
    if not stat.S_ISREG(info.st_mode):
        raise HomePathError(
            shown, "is not a regular file (a FIFO, socket or device?)", kind="not_regular"
        )
    return info
