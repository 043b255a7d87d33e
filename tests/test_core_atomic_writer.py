"""Unit tests of :mod:`taskclf.core.atomic`: the one writer.

Real files in ``tmp_path``; the full-disk tests mount a tiny tmpfs inside it
(skipped when mounting is not allowed) and always unmount it.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskclf.core.atomic import (
    STALE_TEMP_SECONDS,
    UnsafeTargetError,
    append_all,
    replace_at,
    write_bytes_atomic,
    write_text_atomic,
)
from taskclf.core.home import Home


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A folder in tmp_path and a descriptor open on it."""
    path = tmp_path / "folder"
    path.mkdir()
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield path, fd
    finally:
        os.close(fd)


def age(path: Path, seconds: float) -> None:
    when = time.time() - seconds
    os.utime(path, (when, when), follow_symlinks=False)


class TestReplaceAt:
    """replace_at replaces one regular file in an open folder, atomically, leaving no temp."""

    def test_new_file(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        replace_at(fd, "x.json", b"data", shown="x.json")
        assert (path / "x.json").read_bytes() == b"data"
        assert os.listdir(path) == ["x.json"]

    def test_new_file_mode_is_0644_under_umask_022(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        old = os.umask(0o022)
        try:
            replace_at(fd, "x.json", b"data", shown="x.json")
        finally:
            os.umask(old)
        assert stat.S_IMODE((path / "x.json").stat().st_mode) == 0o644

    def test_new_file_mode_follows_the_umask(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        old = os.umask(0o077)
        try:
            replace_at(fd, "x.json", b"data", shown="x.json")
        finally:
            os.umask(old)
        assert stat.S_IMODE((path / "x.json").stat().st_mode) == 0o600

    @pytest.mark.parametrize(
        ("before", "after"), [(0o4755, 0o755), (0o2640, 0o640), (0o1600, 0o600)]
    )
    def test_replaced_file_keeps_its_mode_without_special_bits(
        self, folder: tuple[Path, int], before: int, after: int
    ) -> None:
        path, fd = folder
        (path / "x.json").write_bytes(b"old")
        os.chmod(path / "x.json", before)
        replace_at(fd, "x.json", b"new", shown="x.json")
        assert stat.S_IMODE((path / "x.json").stat().st_mode) == after
        assert (path / "x.json").read_bytes() == b"new"

    def test_replaced_file_is_a_new_inode(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        (path / "x.json").write_bytes(b"old")
        (path / "hard").hardlink_to(path / "x.json")
        replace_at(fd, "x.json", b"new", shown="x.json")
        assert (path / "hard").read_bytes() == b"old"  # the other name is not written through

    def test_symlink_refused_and_kept(self, folder: tuple[Path, int], tmp_path: Path) -> None:
        path, fd = folder
        target = tmp_path / "target.json"
        target.write_bytes(b"target")
        (path / "x.json").symlink_to(target)
        with pytest.raises(UnsafeTargetError) as caught:
            replace_at(fd, "x.json", b"new", shown="shown/x.json")
        assert caught.value.filename == "shown/x.json"
        assert "symbolic link" in str(caught.value)
        assert os.readlink(path / "x.json") == str(target)
        assert target.read_bytes() == b"target"
        assert os.listdir(path) == ["x.json"]

    def test_dangling_symlink_refused(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        (path / "x.json").symlink_to("missing")
        with pytest.raises(UnsafeTargetError):
            replace_at(fd, "x.json", b"new", shown="x.json")
        assert not (path / "missing").exists()

    def test_fifo_refused_and_kept(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        os.mkfifo(path / "x.json")
        with pytest.raises(UnsafeTargetError) as caught:
            replace_at(fd, "x.json", b"new", shown="x.json")
        assert "FIFO" in str(caught.value)
        assert stat.S_ISFIFO((path / "x.json").lstat().st_mode)
        assert os.listdir(path) == ["x.json"]

    def test_device_refused_and_kept(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        try:
            os.mknod(path / "x.json", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("cannot make a device node here")
        with pytest.raises(UnsafeTargetError):
            replace_at(fd, "x.json", b"new", shown="x.json")
        assert stat.S_ISCHR((path / "x.json").lstat().st_mode)

    def test_folder_refused_and_kept(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        (path / "x.json").mkdir()
        (path / "x.json" / "inner").write_bytes(b"inner")
        with pytest.raises(UnsafeTargetError) as caught:
            replace_at(fd, "x.json", b"new", shown="x.json")
        assert "folder" in str(caught.value)
        assert (path / "x.json" / "inner").read_bytes() == b"inner"

    def test_unsafe_target_is_an_oserror(self) -> None:
        assert issubclass(UnsafeTargetError, OSError)


class TestWriteBytesAtomic:
    """write_bytes_atomic writes any named path (links above it followed), same target rules."""

    def test_creates_parents(self, tmp_path: Path) -> None:
        path = tmp_path / "a" / "b" / "c.json"
        assert write_bytes_atomic(path, b"x") == path
        assert path.read_bytes() == b"x"

    def test_text(self, tmp_path: Path) -> None:
        write_text_atomic(tmp_path / "t.txt", "é\n")
        assert (tmp_path / "t.txt").read_bytes() == "é\n".encode()

    def test_folder_reached_through_a_link(self, tmp_path: Path) -> None:
        (tmp_path / "real").mkdir()
        (tmp_path / "link").symlink_to("real")
        write_bytes_atomic(tmp_path / "link" / "x", b"x")
        assert (tmp_path / "real" / "x").read_bytes() == b"x"

    def test_file_in_the_way(self, tmp_path: Path) -> None:
        (tmp_path / "a").write_bytes(b"file")
        with pytest.raises(NotADirectoryError) as caught:
            write_bytes_atomic(tmp_path / "a" / "b" / "c.json", b"x")
        assert str(caught.value.filename).startswith(str(tmp_path / "a"))
        assert (tmp_path / "a").read_bytes() == b"file"

    def test_final_link_refused(self, tmp_path: Path) -> None:
        (tmp_path / "real").write_bytes(b"real")
        (tmp_path / "x").symlink_to("real")
        with pytest.raises(UnsafeTargetError):
            write_bytes_atomic(tmp_path / "x", b"new")
        assert (tmp_path / "real").read_bytes() == b"real"

    def test_fifo_refused(self, tmp_path: Path) -> None:
        os.mkfifo(tmp_path / "x")
        with pytest.raises(UnsafeTargetError):
            write_bytes_atomic(tmp_path / "x", b"new")
        assert stat.S_ISFIFO((tmp_path / "x").lstat().st_mode)


class TestStaleTemporaryFiles:
    """A write removes our old temporary files in its folder, and only those."""

    def test_old_temp_removed_fresh_kept(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        old = path / ".x.json.taskclf-0123456789ab.tmp"
        fresh = path / ".x.json.taskclf-ba9876543210.tmp"
        old.write_bytes(b"old")
        fresh.write_bytes(b"fresh")
        age(old, STALE_TEMP_SECONDS + 5)
        replace_at(fd, "x.json", b"new", shown="x.json")
        assert sorted(os.listdir(path)) == [".x.json.taskclf-ba9876543210.tmp", "x.json"]

    def test_old_temp_of_another_name_is_removed_too(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        other = path / ".active.json.taskclf-0123456789ab.tmp"
        other.write_bytes(b"old")
        age(other, STALE_TEMP_SECONDS + 5)
        replace_at(fd, "x.json", b"new", shown="x.json")
        assert not other.exists()

    @pytest.mark.parametrize(
        "name",
        [
            "x.json.taskclf-0123456789ab.tmp",  # no leading dot
            ".x.json.taskclf-0123456789ab.tmp~",  # does not end in .tmp
            ".x.json.taskclf-12345.tmp",  # random part too short
            ".x.json.0123456789ab.tmp",  # not marked as taskclf's
            ".thesis.docx.backup.tmp",  # somebody else's file
            "..tmp",
            "notes.txt",
        ],
    )
    def test_non_matching_names_kept(self, folder: tuple[Path, int], name: str) -> None:
        path, fd = folder
        (path / name).write_bytes(b"keep")
        age(path / name, 10 * STALE_TEMP_SECONDS)
        replace_at(fd, "x.json", b"new", shown="x.json")
        assert (path / name).read_bytes() == b"keep"

    def test_stale_folder_with_a_matching_name_kept(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        stale_dir = path / ".x.json.taskclf-0123456789ab.tmp"
        stale_dir.mkdir()
        (stale_dir / "inner").write_bytes(b"inner")
        age(stale_dir, 10 * STALE_TEMP_SECONDS)
        replace_at(fd, "x.json", b"new", shown="x.json")
        assert (stale_dir / "inner").read_bytes() == b"inner"

    def test_stale_link_and_fifo_with_matching_names_kept(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        link = path / ".a.0123456789ab.tmp"
        link.symlink_to("x.json")
        age(link, 10 * STALE_TEMP_SECONDS)
        fifo = path / ".b.0123456789ab.tmp"
        os.mkfifo(fifo)
        age(fifo, 10 * STALE_TEMP_SECONDS)
        replace_at(fd, "x.json", b"new", shown="x.json")
        assert link.is_symlink()
        assert stat.S_ISFIFO(fifo.lstat().st_mode)

    def test_a_failed_write_leaves_no_temp(self, folder: tuple[Path, int]) -> None:
        path, fd = folder
        os.mkfifo(path / "x.json")
        with pytest.raises(UnsafeTargetError):
            replace_at(fd, "x.json", b"new", shown="x.json")
        assert os.listdir(path) == ["x.json"]


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs mounted inside tmp_path (skipped when mounting is not allowed)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,nr_inodes=64", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


class TestAppendAll:
    """append_all writes the whole record or, when the disk is full, nothing at all."""

    def test_appends_completely(self, tmp_path: Path) -> None:
        path = tmp_path / "h.jsonl"
        path.write_bytes(b"first\n")
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            append_all(fd, b"x" * 1_000_000 + b"\n", shown="h.jsonl")
        finally:
            os.close(fd)
        data = path.read_bytes()
        assert data.startswith(b"first\n")
        assert len(data) == 6 + 1_000_001

    def test_through_open_append(self, tmp_path: Path) -> None:
        door = Home.at(tmp_path / "home")
        fd = door.open_append("models/h.jsonl")
        try:
            append_all(fd, b"one\n", shown="models/h.jsonl")
            append_all(fd, b"two\n", shown="models/h.jsonl")
        finally:
            os.close(fd)
        assert (tmp_path / "home" / "models" / "h.jsonl").read_bytes() == b"one\ntwo\n"

    def test_full_disk_cuts_the_file_back(self, tiny_fs: Path) -> None:
        path = tiny_fs / "h.jsonl"
        path.write_bytes(b"kept record\n")
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            with pytest.raises(OSError) as caught:
                append_all(fd, b"y" * 1_000_000, shown="models/h.jsonl")
        finally:
            os.close(fd)
        assert caught.value.errno == errno.ENOSPC
        assert caught.value.filename == "models/h.jsonl"
        assert "nothing was written" in str(caught.value)
        assert path.read_bytes() == b"kept record\n"

    def test_full_disk_in_a_home(self, tiny_fs: Path) -> None:
        door = Home.at(tiny_fs / "home")
        fd = door.open_append("models/h.jsonl")
        try:
            append_all(fd, b"one\n", shown="h")
            with pytest.raises(OSError):
                append_all(fd, b"z" * 200_000, shown="h")
            append_all(fd, b"two\n", shown="h")  # space is back: the record went
        finally:
            os.close(fd)
        assert (tiny_fs / "home" / "models" / "h.jsonl").read_bytes() == b"one\ntwo\n"

    def test_full_disk_replace_keeps_the_old_file_and_no_temp(self, tiny_fs: Path) -> None:
        (tiny_fs / "x.json").write_bytes(b"old")
        with pytest.raises(OSError) as caught:
            write_bytes_atomic(tiny_fs / "x.json", b"n" * 200_000)
        assert caught.value.errno == errno.ENOSPC
        assert (tiny_fs / "x.json").read_bytes() == b"old"
        assert os.listdir(tiny_fs) == ["x.json"]
