"""Issue 8, finding 13: `policy edit` leaves nothing behind and names only files that exist.

Aborting the edit of a freshly seeded policy leaves models/ exactly as it was; a message
naming a kept copy names one that exists; a failed final write names the kept edited copy.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from door_support import assert_clean, listing, run_taskclf
from test_cli_support import Result, tree_bytes

LIVE = Path("models") / "inference_policy.json"
_ABSOLUTE = re.compile(r"(/[^\s'\"`]+)")


def _editor(tmp_path: Path, body: str) -> dict[str, str]:
    script = tmp_path / "editor" / "edit.sh"
    script.parent.mkdir(exist_ok=True)
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    tmpdir = tmp_path / "edit-tmp"
    tmpdir.mkdir(exist_ok=True)
    return {"EDITOR": str(script), "VISUAL": "", "TMPDIR": str(tmpdir)}


def _mentioned_paths(result: Result, tmp_path: Path) -> list[Path]:
    paths = []
    for match in _ABSOLUTE.findall(result.stdout + result.stderr):
        path = Path(match.rstrip(".,;:)"))
        if path.is_relative_to(tmp_path):
            paths.append(path)
    return paths


def _assert_mentions_exist(result: Result, tmp_path: Path) -> None:
    for path in _mentioned_paths(result, tmp_path):
        assert os.path.lexists(path), f"the message names {path}, which does not exist: {result}"


def _kept_copy(result: Result) -> Path:
    match = re.search(r"kept at (/\S+?inference_policy\.json)", result.stdout + result.stderr)
    assert match, result
    return Path(match.group(1))


class TestAbortingASeededEdit:
    """With no policy before, an aborted edit leaves models/ exactly as it was."""

    def test_editor_fails(self, home: Path, tmp_path: Path) -> None:
        before = tree_bytes(home / "models")
        result = run_taskclf("policy", "edit", cwd=home, env=_editor(tmp_path, "exit 3"))
        assert_clean(result)
        assert result.code == 1
        assert tree_bytes(home / "models") == before
        assert not (home / LIVE).exists()
        _assert_mentions_exist(result, tmp_path)

    def test_user_answers_no(self, home: Path, tmp_path: Path) -> None:
        before = tree_bytes(home / "models")
        env = _editor(tmp_path, 'printf \'{"reject_threshold": 7}\\n\' > "$1"')
        result = run_taskclf("policy", "edit", cwd=home, env=env, input="n\n")
        assert_clean(result)
        assert result.code == 1
        assert tree_bytes(home / "models") == before
        assert not (home / LIVE).exists()
        kept = _kept_copy(result)
        assert kept.read_text() == '{"reject_threshold": 7}\n'
        _assert_mentions_exist(result, tmp_path)

    def test_editor_fails_after_changes(self, home: Path, tmp_path: Path) -> None:
        before = tree_bytes(home / "models")
        env = _editor(tmp_path, 'printf \'{"half": \\n\' > "$1"; exit 2')
        result = run_taskclf("policy", "edit", cwd=home, env=env)
        assert_clean(result)
        assert result.code == 1
        assert tree_bytes(home / "models") == before
        assert _kept_copy(result).read_text() == '{"half": \n'
        _assert_mentions_exist(result, tmp_path)


@pytest.fixture
def policy_home(home: Path) -> Path:
    assert run_taskclf("policy", "create", "--model-dir", "models/run_001", cwd=home).code == 0
    return home


class TestMessagesNameExistingFiles:
    """A failing editor with the copy unchanged: no message names a deleted copy."""

    def test_editor_fails_copy_unchanged(self, policy_home: Path, tmp_path: Path) -> None:
        live_before = (policy_home / LIVE).read_bytes()
        env = _editor(tmp_path, "exit 3")
        result = run_taskclf("policy", "edit", cwd=policy_home, env=env)
        assert_clean(result)
        assert result.code == 1
        assert (policy_home / LIVE).read_bytes() == live_before
        _assert_mentions_exist(result, tmp_path)
        assert "kept at" not in result.stderr or _kept_copy(result).exists()


_EDIT_AND_BREAK_LIVE = """\
sed -i 's/"reject_threshold": 0.6/"reject_threshold": 0.7/' "$1"
rm -f "$TASKCLF_TEST_LIVE"
{make}
"""


@pytest.mark.parametrize(
    "make",
    ['mkdir "$TASKCLF_TEST_LIVE"', 'mkfifo "$TASKCLF_TEST_LIVE"'],
    ids=["folder", "fifo"],
)
class TestFailedFinalWrite:
    """When the final write cannot happen, the message names the kept edited copy."""

    def test_kept_copy_is_named_and_exists(
        self, policy_home: Path, tmp_path: Path, make: str
    ) -> None:
        env = _editor(tmp_path, _EDIT_AND_BREAK_LIVE.format(make=make))
        env["TASKCLF_TEST_LIVE"] = str(policy_home / LIVE)
        result = run_taskclf("policy", "edit", cwd=policy_home, env=env, timeout=20)
        assert_clean(result)
        assert result.code == 1
        kept = _kept_copy(result)
        assert kept.is_file()
        assert '"reject_threshold": 0.7' in kept.read_text()
        _assert_mentions_exist(result, tmp_path)
        assert "models" in listing(policy_home)
