"""Issue 8, findings 4, 5, 7 and 13 (stale temp files): how taskclf replaces a file.

Every write is atomic and refuses to replace anything but a regular file (never a
device, FIFO, folder or symlink); a replaced file keeps its permission bits minus
setuid/setgid/sticky; nothing over the 1 MiB read limit is ever written; stale
temporary files of killed writers are cleaned up by the next write.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from door_support import assert_clean, run_taskclf
from taskclf.core.errors import PolicyValidationError
from taskclf.core.inference_policy import InferencePolicy, save_inference_policy

from conftest import write_json

REFUSED = ("not a regular file", "symbolic link")
SIZE = ("1048576", "1 MiB")
RUN_001 = ("--model-dir", "models/run_001")


def _kind(path: Path) -> str:
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        return f"symlink -> {os.readlink(path)}"
    if stat.S_ISCHR(mode):
        return f"char device {os.major(path.lstat().st_rdev)},{os.minor(path.lstat().st_rdev)}"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return stat.filemode(mode)


Special = Callable[[Path], str]


def _chardev(path: Path) -> str:
    # Our own device node inside tmp_path (never a real /dev entry).
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("cannot create a device node here")
    return _kind(path)


def _fifo(path: Path) -> str:
    os.mkfifo(path)
    return _kind(path)


def _symlink(path: Path) -> str:
    target = path.parent / "link-target.txt"
    target.write_text("the link's target, untouched\n")
    path.symlink_to(target.name)
    return _kind(path)


SPECIALS = {"chardev": _chardev, "fifo": _fifo, "symlink": _symlink}


@pytest.mark.parametrize("kind", sorted(SPECIALS))
@pytest.mark.parametrize("command", ["template", "schema"])
class TestOutputRefusesNonRegular:
    """`policy template/schema --output P` refuses a device, FIFO or symlink at P."""

    def test_refused_and_unchanged(self, tmp_path: Path, command: str, kind: str) -> None:
        target = tmp_path / "out.json"
        before = SPECIALS[kind](target)
        result = run_taskclf("policy", command, "--output", target, cwd=tmp_path, timeout=20)
        assert_clean(result)
        assert result.code == 1
        assert any(phrase in result.stderr for phrase in REFUSED), result.stderr
        assert _kind(target) == before
        if kind == "symlink":
            assert (tmp_path / "link-target.txt").read_text() == "the link's target, untouched\n"


@pytest.mark.parametrize("command", ["template", "schema"])
def test_output_dash_is_stdout(tmp_path: Path, command: str) -> None:
    """`--output -` writes the document to stdout and creates no file named '-'."""
    result = run_taskclf("policy", command, "--output", "-", cwd=tmp_path)
    assert_clean(result)
    assert result.code == 0
    assert isinstance(json.loads(result.stdout), dict)
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("kind", sorted(SPECIALS))
class TestCreateRefusesNonRegularPolicy:
    """`policy create` refuses to replace a FIFO, device or symlink at the policy path."""

    def test_refused_and_unchanged(self, home: Path, kind: str) -> None:
        live = home / "models" / "inference_policy.json"
        before = SPECIALS[kind](live)
        result = run_taskclf("policy", "create", *RUN_001, cwd=home, timeout=20)
        assert_clean(result)
        assert result.code == 1
        assert any(phrase in result.stderr for phrase in REFUSED), result.stderr
        assert _kind(live) == before


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


class TestModes:
    """A replaced file keeps its permission bits without setuid/setgid/sticky; a new one 0o644."""

    def test_create_drops_special_bits(self, home: Path, umask_022: None) -> None:
        live = write_json(home / "models" / "inference_policy.json", {"old": True})
        os.chmod(live, 0o6777)
        result = run_taskclf("policy", "create", *RUN_001, cwd=home)
        assert result.code == 0, result
        assert stat.S_IMODE(live.stat().st_mode) == 0o777

    def test_template_output_drops_special_bits(self, tmp_path: Path, umask_022: None) -> None:
        out = tmp_path / "template.json"
        out.write_text("{}\n")
        os.chmod(out, 0o7755)
        result = run_taskclf("policy", "template", "--output", out, cwd=tmp_path)
        assert result.code == 0, result
        assert stat.S_IMODE(out.stat().st_mode) == 0o755

    def test_new_file_gets_umask_mode(self, home: Path, umask_022: None) -> None:
        result = run_taskclf("policy", "create", *RUN_001, cwd=home)
        assert result.code == 0, result
        live = home / "models" / "inference_policy.json"
        assert stat.S_IMODE(live.stat().st_mode) == 0o644


def _users(count: int) -> dict[str, float]:
    return {f"user_{i:06d}": 0.5 for i in range(count)}


class TestNothingOverTheReadLimitIsWritten:
    """A policy whose text would exceed 1 MiB is refused before anything is replaced."""

    def test_save_inference_policy(self, models_dir: Path, policy_document: dict[str, Any]) -> None:
        live = write_json(models_dir / "inference_policy.json", policy_document)
        before = live.read_bytes()
        with pytest.raises((PolicyValidationError, ValueError, OSError)) as caught:
            policy = InferencePolicy.from_dict(
                {**policy_document, "per_user_reject_thresholds": _users(70_000)}
            )
            save_inference_policy(policy, models_dir)
        message = str(caught.value)
        assert any(size in message for size in SIZE), message[:500]
        assert "per-user thresholds" in message, message[:500]
        assert live.read_bytes() == before
        assert sorted(os.listdir(models_dir)) == ["inference_policy.json", "run_001", "run_002"]

    def test_tune_reject_write_policy(self, home: Path) -> None:
        assert run_taskclf("policy", "create", *RUN_001, cwd=home).code == 0
        live = home / "models" / "inference_policy.json"
        before = live.read_bytes()
        row = '{{"label": "code", "predicted": "code", "confidence": 0.95, "user_id": "u{:06d}"}}\n'
        with (home / "scores.jsonl").open("w") as stream:
            stream.writelines(row.format(i) for i in range(60_000))
        result = run_taskclf(
            "policy", "tune-reject", "--scores", "scores.jsonl", *RUN_001, "--no-calibrator",
            "--thresholds", "0.5,0.9", "--per-user", "--min-user-samples", "1", "--write-policy",
            cwd=home, timeout=120,
        )  # fmt: skip
        assert_clean(result)
        assert result.code == 1
        assert "Wrote" not in result.stdout
        assert any(size in result.stderr for size in SIZE), result.stderr[-500:]
        assert "per-user thresholds" in result.stderr
        assert live.read_bytes() == before


class TestStaleTemporaryFiles:
    """The next write in models/ removes temp files older than 60 s and keeps fresh ones."""

    def test_old_removed_fresh_kept(self, home: Path) -> None:
        models = home / "models"
        # Names as taskclf's writer gives its temporary files (taskclf.core.atomic).
        stale = models / ".inference_policy.json.taskclf-0123456789ab.tmp"
        fresh = models / ".inference_policy.json.taskclf-ba9876543210.tmp"
        for leftover in (stale, fresh):
            leftover.write_text('{"half": ')
        old = time.time() - 600
        os.utime(stale, (old, old))
        result = run_taskclf("policy", "create", *RUN_001, cwd=home)
        assert result.code == 0, result
        assert not stale.exists()
        assert fresh.exists()


_BIG_EDIT = """\
#!{python}
import json, sys
path = sys.argv[-1]
document = json.load(open(path, encoding="utf-8"))
document["per_user_reject_thresholds"] = {{f"user_{{i:06d}}": 0.5 for i in range({users})}}
open(path, "w", encoding="utf-8").write(json.dumps(document, indent=2) + "\\n")
"""


class TestEditCannotWriteOverTheLimit:
    """`policy edit` never saves a copy whose size is over the 1 MiB read limit."""

    def test_big_copy_refused(self, home: Path, tmp_path: Path) -> None:
        assert run_taskclf("policy", "create", *RUN_001, cwd=home).code == 0
        live = home / "models" / "inference_policy.json"
        before = live.read_bytes()
        editor = tmp_path / "big-editor"
        editor.write_text(_BIG_EDIT.format(python=sys.executable, users=50_000))
        editor.chmod(0o755)
        edit_tmp = tmp_path / "edit-tmp"
        edit_tmp.mkdir()
        env = {"EDITOR": str(editor), "VISUAL": "", "TMPDIR": str(edit_tmp)}
        result = run_taskclf("policy", "edit", cwd=home, env=env, input="n\n", timeout=60)
        assert_clean(result)
        assert result.code == 1
        assert any(size in result.stdout + result.stderr for size in SIZE)
        assert "Saved" not in result.stdout
        assert live.read_bytes() == before
