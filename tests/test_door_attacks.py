"""Regression tests for problems found by attacking the "one door into TASKCLF_HOME" change.

Each class pins one problem; every test here failed when it was written (the
fix is the lead's). Real files in ``tmp_path``; special files are made inside it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

import pytest

from door_support import assert_clean, run_taskclf, write_policy_doc
from taskclf.core.atomic import STALE_TEMP_SECONDS, write_bytes_atomic
from taskclf.core.home import Home

from conftest import write_json


def _age(path: Path, seconds: float) -> None:
    when = time.time() - seconds
    os.utime(path, (when, when))


class TestFinalLinkResolvedAgainstTheRealFolder:
    """A relative link at the end of a path is resolved from the folder it really lives in.

    ``a -> b/c`` and ``b/c/f -> ../g``: the kernel reads ``b/g``. The walk
    resolves ``../g`` against the path as written (``a/``), not against the
    folder the link is in (``b/c/``), so it reads ``g`` (another file) or
    refuses a link that stays inside as leading outside.
    """

    def test_reads_the_file_the_link_names(self, tmp_path: Path) -> None:
        home = tmp_path / "home"
        (home / "b" / "c").mkdir(parents=True)
        (home / "b" / "g").write_text("b/g: the file the link names")
        (home / "g").write_text("g: another file")
        (home / "a").symlink_to("b/c")
        (home / "b" / "c" / "f").symlink_to("../g")
        assert (home / "a" / "f").read_text() == "b/g: the file the link names"
        assert Home.at(home).read_bytes("a/f") == b"b/g: the file the link names"

    def test_link_staying_inside_is_not_refused(self, tmp_path: Path) -> None:
        home = tmp_path / "home"
        (home / "b" / "c").mkdir(parents=True)
        (home / "top.json").write_text("top")
        (home / "a").symlink_to("b/c")
        (home / "b" / "c" / "up").symlink_to("../../top.json")  # b/c/../../top.json: inside
        assert Home.at(home).read_bytes("a/up") == b"top"

    def test_chain_after_a_folder_link(self, tmp_path: Path) -> None:
        home = tmp_path / "home"
        (home / "x" / "y").mkdir(parents=True)
        (home / "x" / "real.json").write_text("real")
        (home / "l").symlink_to("x/y")
        (home / "x" / "y" / "one").symlink_to("two")
        (home / "x" / "y" / "two").symlink_to("../real.json")
        assert Home.at(home).read_bytes("l/one") == b"real"

    def test_dotdot_after_a_linked_folder_in_a_link_target(self, tmp_path: Path) -> None:
        # f -> lnk/../real.json with lnk -> x/y: the kernel reads x/real.json.
        home = tmp_path / "home"
        (home / "x" / "y").mkdir(parents=True)
        (home / "x" / "real.json").write_text("x/real.json")
        (home / "real.json").write_text("real.json: another file")
        (home / "lnk").symlink_to("x/y")
        (home / "f").symlink_to("lnk/../real.json")
        assert (home / "f").read_text() == "x/real.json"
        assert Home.at(home).read_bytes("f") == b"x/real.json"

    def test_dotdot_after_a_linked_folder_in_a_folder_link_target(self, tmp_path: Path) -> None:
        # m -> lnk/../d with lnk -> x/y: the kernel opens x/d/f.json.
        home = tmp_path / "home"
        (home / "x" / "y").mkdir(parents=True)
        (home / "x" / "d").mkdir()
        (home / "x" / "d" / "f.json").write_text("x/d/f.json")
        (home / "d").mkdir()
        (home / "d" / "f.json").write_text("d/f.json: another file")
        (home / "lnk").symlink_to("x/y")
        (home / "m").symlink_to("lnk/../d")
        assert (home / "m" / "f.json").read_text() == "x/d/f.json"
        assert Home.at(home).read_bytes("m/f.json") == b"x/d/f.json"

    def test_policy_validate_reads_the_metadata_the_bundle_links_to(
        self, home: Path, policy_document: dict[str, object]
    ) -> None:
        # models/run_003 -> ../store/b3 ; store/b3/metadata.json -> ../shared/b3.json
        write_json(
            home / "store" / "shared" / "b3.json",
            {"schema_hash": "real_hash", "label_set": ["a", "b"]},
        )
        (home / "store" / "b3").mkdir()
        (home / "store" / "b3" / "metadata.json").symlink_to("../shared/b3.json")
        # The file the walk wrongly reads instead (models/run_003/../shared/b3.json):
        write_json(
            home / "models" / "shared" / "b3.json", {"schema_hash": "WRONG", "label_set": ["z"]}
        )
        (home / "models" / "run_003").symlink_to("../store/b3")
        assert json.loads((home / "models" / "run_003" / "metadata.json").read_text()) == {
            "schema_hash": "real_hash",
            "label_set": ["a", "b"],
        }
        write_policy_doc(
            home / "models",
            {
                **policy_document,
                "model_dir": "models/run_003",
                "model_schema_hash": "real_hash",
                "model_label_set": ["a", "b"],
                "calibrator_store_dir": None,
                "calibration_method": None,
            },
        )
        result = run_taskclf("policy", "validate", cwd=home, env={"TASKCLF_HOME": str(home)})
        assert_clean(result)
        assert result.code == 0, result


class TestAbsoluteLinkThroughTheHomeAsNamed:
    """An absolute link naming the home the way the user named it (through a link) is inside.

    With TASKCLF_HOME=/x/hl and hl -> real, a link to /x/hl/models/run_001 is
    refused with the self-contradictory "leads outside TASKCLF_HOME (/x/hl)
    to /x/hl/models/run_001": only the resolved root is accepted as a prefix.
    """

    def test_followed(self, tmp_path: Path) -> None:
        real = tmp_path / "real"
        (real / "models" / "run_001").mkdir(parents=True)
        (real / "models" / "run_001" / "metadata.json").write_text("{}")
        named = tmp_path / "hl"
        named.symlink_to("real")
        (real / "models" / "run_abs").symlink_to(named / "models" / "run_001")
        door = Home.at(named)
        assert door.kind("models/run_abs") == "folder"
        assert door.read_bytes("models/run_abs/metadata.json") == b"{}"


class TestSocketIsOther:
    """A socket is "other" for ``Home.kind`` and "not_regular" for reads, like a FIFO.

    Opening a socket fails with ENXIO, which comes out as kind "unreadable"
    ("cannot be opened: No such device or address"), so ``kind`` raises
    instead of returning "other", and ``model list`` says the bundle "cannot
    be opened" instead of "is not a bundle folder".
    """

    @pytest.fixture
    def socket_home(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        import socket

        home = tmp_path / "home"
        (home / "models").mkdir(parents=True)
        monkeypatch.chdir(home / "models")  # AF_UNIX paths are short: bind a relative name
        sock = socket.socket(socket.AF_UNIX)
        sock.bind("run_sock")
        sock.close()
        return home

    def test_kind(self, socket_home: Path) -> None:
        assert Home.at(socket_home).kind("models/run_sock") == "other"

    def test_read_bytes(self, socket_home: Path) -> None:
        with pytest.raises(OSError) as caught:
            Home.at(socket_home).read_bytes("models/run_sock")
        assert getattr(caught.value, "kind", None) == "not_regular"


class TestLongestFileNameCanBeWritten:
    """A file name of up to 255 bytes can be written: the temporary name must fit too.

    The temporary file is ``.<name>.<12 hex>.tmp`` (18 bytes more), so a valid
    name of 238 to 255 bytes cannot be written ("File name too long").
    """

    def test_write_bytes_atomic(self, tmp_path: Path) -> None:
        target = tmp_path / ("n" * 250)
        write_bytes_atomic(target, b"{}")
        assert target.read_bytes() == b"{}"

    def test_home_write_bytes(self, bare_home: Path) -> None:
        Home.at(bare_home).write_bytes("models/" + "p" * 250, b"{}")
        assert (bare_home / "models" / ("p" * 250)).read_bytes() == b"{}"


class TestNulInTheLastComponent:
    """A NUL in a path's last component is a HomePathError, like a NUL anywhere else.

    ``Home.kind`` says so, but ``write_bytes``, ``write_document``,
    ``open_append``, ``entry_kind`` and ``remove`` let a bare ValueError escape
    (not an OSError, so callers' handlers miss it).
    """

    @pytest.mark.parametrize(
        "call",
        [
            lambda door: door.write_bytes("models/a\x00b", b"x"),
            lambda door: door.write_document("models/a\x00b", {}),
            lambda door: door.open_append("models/a\x00b"),
            lambda door: door.entry_kind("models/a\x00b"),
            lambda door: door.remove("models/a\x00b"),
        ],
        ids=["write_bytes", "write_document", "open_append", "entry_kind", "remove"],
    )
    def test_is_a_home_path_error(self, bare_home: Path, call: object) -> None:
        door = Home.at(bare_home)
        with contextlib.suppress(OSError):  # HomePathError is an OSError: what callers catch
            call(door)  # type: ignore[operator]
        assert os.listdir(bare_home / "models") == []


class TestKindBelowAFile:
    """``Home.kind`` of a path below a regular file is "nothing", as ``entry_kind`` says.

    It raises NotADirectoryError instead, so the disk checks abort: ``policy
    validate`` on a policy whose model_dir is ``models/run_001/metadata.json/x``
    prints one "is not a folder" error instead of its disk-check report.
    """

    def test_kind(self, home: Path) -> None:
        assert Home.at(home).kind("models/run_001/metadata.json/x") == "nothing"

    def test_policy_validate_reports_the_disk_checks(
        self, home: Path, policy_document: dict[str, object]
    ) -> None:
        write_policy_doc(
            home / "models", {**policy_document, "model_dir": "models/run_001/metadata.json/x"}
        )
        result = run_taskclf(
            "policy", "validate", "--format", "json", cwd=home, env={"TASKCLF_HOME": str(home)}
        )
        assert_clean(result)
        assert result.code == 1
        checks = [
            failure["check"]
            for entry in result.json()["files"]
            for failure in entry["disk_check_failures"]
        ]
        assert "model_dir_exists" in checks


class TestStaleTempCleanupSparesOtherFiles:
    """A write removes only taskclf's own stale temporary files, never a user's file.

    The cleanup removes every old regular file named ``.<anything>.<6+ letters,
    digits or _>.tmp`` in the folder written, so a user's
    ``.thesis.docx.backup.tmp`` is deleted by ``policy create``, and by
    ``--output FILE`` in any folder outside the home too.
    """

    def test_policy_create_keeps_a_users_file_in_models(self, home: Path) -> None:
        precious = home / "models" / ".thesis.docx.backup.tmp"
        precious.write_text("a user's file")
        _age(precious, 10 * STALE_TEMP_SECONDS)
        result = run_taskclf(
            "policy", "create", "--model-dir", "models/run_001", cwd=home,
            env={"TASKCLF_HOME": str(home)},
        )  # fmt: skip
        assert result.code == 0, result
        assert precious.exists()

    def test_output_outside_the_home_keeps_a_users_file(self, tmp_path: Path) -> None:
        downloads = tmp_path / "downloads"
        downloads.mkdir()
        precious = downloads / ".notes.txt.backup.tmp"
        precious.write_text("a user's file")
        _age(precious, 10 * STALE_TEMP_SECONDS)
        result = run_taskclf(
            "policy", "template", "--output", downloads / "policy.json", cwd=tmp_path
        )
        assert result.code == 0, result
        assert precious.exists()

    def test_library_writer_keeps_a_users_file(self, tmp_path: Path) -> None:
        precious = tmp_path / ".report.csv.draft_v2.tmp"
        precious.write_text("a user's file")
        _age(precious, 10 * STALE_TEMP_SECONDS)
        write_bytes_atomic(tmp_path / "out.json", b"{}")
        assert precious.exists()


class TestJsonOutputIsUtf8:
    """``--format json`` output is UTF-8 JSON (RFC 8259) whatever the folder names hold.

    A bundle folder whose name is not UTF-8 (``run_\\xff``) is listed under
    ``excluded`` with the raw byte written to stdout, so the output cannot be
    decoded by any strict JSON reader.
    """

    def test_model_list(self, home: Path) -> None:
        name = os.fsencode(home / "models") + b"/run_\xff"
        os.mkdir(name)
        result = run_taskclf(
            "model", "list", "--format", "json", cwd=home, env={"TASKCLF_HOME": str(home)}
        )
        assert_clean(result)
        raw = result.stdout.encode("utf-8", "surrogateescape")
        document = json.loads(raw.decode("utf-8"))  # strict: no undecodable byte
        assert document["ok"] is True


class TestLongHomeIsNotCalledAFileOrMissing:
    """A home whose path is longer than PATH_MAX is reported as too long, not "not a folder"."""

    def test_policy_show(self, tmp_path: Path) -> None:
        fd = os.open(tmp_path, os.O_RDONLY)
        long_home = tmp_path
        try:
            for _ in range(18):
                os.mkdir("d" * 250, dir_fd=fd)
                child = os.open("d" * 250, os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = child
                long_home = long_home / ("d" * 250)
        finally:
            os.close(fd)
        assert len(os.fsencode(long_home)) > 4096
        result = run_taskclf("policy", "show", cwd=tmp_path, env={"TASKCLF_HOME": str(long_home)})
        assert_clean(result)
        assert "is not a folder" not in result.stderr


class TestJsonOutputEscapesTerminalControls:
    """``--format json`` escapes C1 and bidi controls (``\\u009b``, ``\\u202e``) too.

    JSON's ``\\uXXXX`` escapes keep the document exactly the same value, but
    the output is written with ``ensure_ascii=False``, so a folder named
    ``run_\\u202eevil\\u009b2J`` reaches the terminal as a raw right-to-left
    override and a raw 8-bit CSI when the JSON is printed (hardening).
    """

    def test_model_list(self, home: Path) -> None:
        (home / "models" / "run_\u202eevil\u009b2J").mkdir()
        result = run_taskclf(
            "model", "list", "--format", "json", cwd=home, env={"TASKCLF_HOME": str(home)}
        )
        assert_clean(result)
        assert result.json()["ok"] is True
        for char in ("\u202e", "\u009b"):
            assert char not in result.stdout
        assert "\\u202e" in result.stdout


class TestReplaceKeepsOwnerAndGroup:
    """A replaced file keeps its owner and group, not only its permission bits.

    A policy ``root:taskclf 0640`` (readable by the service's group) replaced by
    root becomes ``root:root 0640``: the mode is kept but the group is not,
    so the service can no longer read its policy.
    """

    def test_owner_and_group_kept(self, bare_home: Path) -> None:
        if os.geteuid() != 0:
            pytest.skip("only root can give a file another owner")
        target = bare_home / "models" / "inference_policy.json"
        target.write_text("{}")
        os.chown(target, 1234, 4321)
        os.chmod(target, 0o640)
        Home.at(bare_home).write_bytes("models/inference_policy.json", b'{"new": 1}')
        info = target.stat()
        assert (info.st_uid, info.st_gid) == (1234, 4321)
        assert info.st_mode & 0o777 == 0o640


class TestSetActiveDoesNotWaitForeverForTheLock:
    """``model set-active`` gives up (with a message) when the history lock stays taken.

    The writer takes ``flock(LOCK_EX)`` on ``models/active_history.jsonl`` and
    waits without limit. Anyone who can read that file can take the lock (a
    read-only descriptor suffices), so a stuck or hostile process makes every
    ``set-active`` hang forever.
    """

    def test_returns_while_another_process_holds_the_lock(self, home: Path) -> None:
        import fcntl
        import subprocess

        history = home / "models" / "active_history.jsonl"
        history.write_text("")
        holder = os.open(history, os.O_RDONLY)
        try:
            fcntl.flock(holder, fcntl.LOCK_EX)
            try:
                result = run_taskclf(
                    "model", "set-active", "--model-dir", "models/run_001", cwd=home,
                    env={"TASKCLF_HOME": str(home)}, timeout=20,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                pytest.fail("set-active still waits for the lock after 20 s")
        finally:
            os.close(holder)
        assert_clean(result)
        assert result.code != 0
        assert not (home / "models" / "active.json").exists()


class TestFullStdoutIsNotAnInternalError:
    """A write error on stdout (a full disk behind ``>``) is reported as such, not as a bug.

    With ``--format json`` the error escapes from the command while the report
    is printed and comes out as "internal error: OSError: [Errno 28] No space
    left on device ... This is a bug in taskclf"; in text mode it is "error: No
    space left on device", not naming stdout (entry.py's "could not write the
    report to stdout" is never reached).
    """

    @pytest.mark.parametrize(
        "command",
        [
            ("policy", "show", "--format", "json"),
            ("policy", "show"),
            ("model", "list", "--format", "json"),
            ("policy", "validate", "--format", "json"),
        ],
        ids=lambda command: " ".join(command),
    )
    def test_report(self, home: Path, tmp_path: Path, command: tuple[str, ...]) -> None:
        import stat
        import subprocess

        from test_cli_support import cli_env

        from conftest import console_script

        full = tmp_path / "full"  # like /dev/full: every write fails with ENOSPC
        try:
            os.mknod(full, 0o600 | stat.S_IFCHR, os.makedev(1, 7))
        except PermissionError:
            pytest.skip("cannot make a device node here")
        with open(full, "wb") as sink:
            done = subprocess.run(
                [str(console_script()), *command],
                cwd=home,
                env=cli_env({"TASKCLF_HOME": str(home)}),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.PIPE,
                text=True,
                timeout=60,
                check=False,
            )
        assert done.returncode == 1
        assert "internal error" not in done.stderr
        assert "Traceback" not in done.stderr
        assert "stdout" in done.stderr


class TestInterruptAfterTheSwitchKeepsItsHistory:
    """Ctrl-C after ``active.json`` was replaced does not take the switch's history record back.

    ``replace_at`` renames first, then fsyncs the folder and removes stale
    temporary files; a KeyboardInterrupt there leaves ``write_bytes`` as if the
    write had failed, so ``write_active_atomic`` truncates the history record of
    a switch that did happen (and the CLI says "nothing more was done").
    """

    def test_history_holds_the_switch(self, home: Path) -> None:
        import signal
        import subprocess

        from test_cli_support import cli_env

        from conftest import console_script

        models = home / "models"
        # Many stale temporary files: the clean-up after the rename takes a while.
        for index in range(60_000):
            stale = models / f".x.{index:012x}.tmp"
            os.close(os.open(stale, os.O_CREAT | os.O_WRONLY, 0o644))
            _age(stale, 10 * STALE_TEMP_SECONDS)
        child = subprocess.Popen(
            [str(console_script()), "model", "set-active", "--model-dir", "models/run_001"],
            cwd=home,
            env=cli_env({"TASKCLF_HOME": str(home)}),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not (models / "active.json").exists() and child.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.0005)
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=60)
        assert (models / "active.json").exists()
        pointer = json.loads((models / "active.json").read_text())
        history = (models / "active_history.jsonl").read_text().splitlines()
        assert len(history) == 1, "the switch happened but its history record was taken back"
        assert json.loads(history[0])["new"] == pointer


class TestOutputNamesTheFileInTheWay:
    """``write_bytes_atomic`` names the file that stands where a folder is needed.

    ``Path.mkdir(parents=True)`` raises NotADirectoryError (not
    FileExistsError) when a parent is a file, so the blocker is never looked
    for: ``--output afile/sub/x.json`` says "afile/sub: Not a directory".
    """

    def test_blocker_named(self, tmp_path: Path) -> None:
        (tmp_path / "afile").write_text("a file")
        with pytest.raises(NotADirectoryError) as caught:
            write_bytes_atomic(tmp_path / "afile" / "sub" / "x.json", b"{}")
        assert caught.value.filename == str(tmp_path / "afile")
        assert "is a file where a folder should be" in str(caught.value)
