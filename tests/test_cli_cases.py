"""Good and bad policy files through ``taskclf policy show`` and ``validate``, one case per folder.

The cases live in ``tests/cases/{invalid,valid}/<name>/`` (see the README
there); the few that cannot be stored as plain bytes are built below. Every
bad file must give exit 1 and a message naming the file and what is wrong,
never a traceback; every good one must be shown with exit 0.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from test_cli_support import EXAMPLE_FALLBACK, POLICY_NAME, run_cli, tree_bytes

from conftest import EXAMPLE_HOME

CASES_DIR = Path(__file__).resolve().parent / "cases"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One policy file: how to put it at a path, and the substrings users must see."""

    name: str
    build: Callable[[Path], None]
    expected: tuple[str, ...]


def _folder_cases(kind: str) -> list[Case]:
    cases = []
    for folder in sorted(path for path in (CASES_DIR / kind).iterdir() if path.is_dir()):
        content = (folder / POLICY_NAME).read_bytes()
        expected = (folder / "expected").read_text(encoding="utf-8").splitlines()
        cases.append(
            Case(
                name=folder.name,
                build=lambda target, content=content: target.write_bytes(content),
                expected=tuple(line for line in expected if line),
            )
        )
    return cases


def _directory(target: Path) -> None:
    target.mkdir()
    (target / "notes.txt").write_text("a folder where the policy file should be\n")


def _symlink_loop(target: Path) -> None:
    target.symlink_to(target.name)


def _two_link_loop(target: Path) -> None:
    target.with_name("other.json").symlink_to(target.name)
    target.symlink_to("other.json")


def _fifo(target: Path) -> None:
    os.mkfifo(target)


def _deeply_nested(target: Path) -> None:
    target.write_bytes(b"[" * 200_000)


def _over_one_mebibyte(target: Path) -> None:
    target.write_bytes(b'{"_padding": "' + b"x" * MIB + b'"}\n')


def _exactly_one_mebibyte(target: Path) -> None:
    document = json.loads(
        (CASES_DIR / "valid" / "complete_with_calibrator" / POLICY_NAME).read_text()
    )
    document["_padding"] = ""
    room = MIB - len(json.dumps(document, indent=2).encode())
    document["_padding"] = "x" * room
    data = json.dumps(document, indent=2).encode()
    assert len(data) == MIB
    target.write_bytes(data)


INVALID = [
    *_folder_cases("invalid"),
    Case("directory_at_path", _directory, ("inference_policy.json: is a directory, not a file",)),
    Case("symlink_loop", _symlink_loop, ("cannot be opened: ", "symbolic links")),
    Case("two_symlinks_in_a_loop", _two_link_loop, ("symbolic links",)),
    Case("fifo_at_path", _fifo, ("is not a regular file",)),
    Case("deeply_nested_brackets", _deeply_nested, ("is nested more than 64 levels deep",)),
    Case(
        "over_one_mebibyte",
        _over_one_mebibyte,
        (f"is {MIB + 17} bytes, larger than the {MIB}-byte limit",),
    ),
]
VALID = [
    *_folder_cases("valid"),
    Case("exactly_one_mebibyte", _exactly_one_mebibyte, ("Disk checks: passed",)),
]


def _ids(cases: list[Case]) -> list[str]:
    return [case.name for case in cases]


def test_every_case_folder_is_complete() -> None:
    for kind in ("invalid", "valid"):
        for folder in (CASES_DIR / kind).iterdir():
            assert sorted(path.name for path in folder.iterdir()) == ["expected", POLICY_NAME]
            assert (folder / "expected").read_text(encoding="utf-8").strip(), folder


class TestShowRejectsBadFiles:
    """``taskclf policy show`` on a bad file: exit 1, the reason, the fallback, no traceback."""

    @pytest.mark.parametrize("case", INVALID, ids=_ids(INVALID))
    def test_bad_file(self, case: Case, home: Path, snapshot: Any) -> None:
        case.build(home / "models" / POLICY_NAME)
        before = tree_bytes(home)

        result = run_cli("policy", "show", cwd=home)

        assert result.code == 1
        assert result.stderr == ""
        assert result.stdout.startswith(
            "models/inference_policy.json exists but is invalid, so inference ignores it:\n"
        )
        assert f"Until it is fixed, {EXAMPLE_FALLBACK}." in result.stdout
        for expected in case.expected:
            assert expected in result.stdout
        assert tree_bytes(home) == before  # show only reads
        assert result.seen(home) == snapshot


class TestValidateRejectsBadFiles:
    """``taskclf policy validate`` on every bad file at once: one report per file, exit 1."""

    @pytest.fixture
    def bad_files(self, tmp_path: Path) -> list[str]:
        names = []
        for case in INVALID:
            folder = tmp_path / "invalid" / case.name
            folder.mkdir(parents=True)
            case.build(folder / POLICY_NAME)
            names.append(f"invalid/{case.name}/{POLICY_NAME}")
        return names

    def test_text_report(self, bad_files: list[str], tmp_path: Path, snapshot: Any) -> None:
        result = run_cli("policy", "validate", *bad_files, cwd=tmp_path)

        assert result.code == 1
        assert result.stderr == ""
        lines = result.stdout.splitlines()
        count = len(bad_files)
        assert lines[-1] == f"{count} files checked: 0 valid, {count} invalid."
        for case, name in zip(INVALID, bad_files, strict=True):
            own = [line for line in lines if line.startswith(f"{name}:")]
            assert own, f"no line names {name}"
            for expected in case.expected:
                if expected.startswith("::"):
                    # A schema error: FILE::/json/pointer: message
                    assert any(line.startswith(f"{name}{expected}") for line in own), expected
                else:
                    assert any(expected in line for line in own), expected
        assert len(lines) == len({*lines}), "a line is repeated"
        assert result.seen(tmp_path / "home") == snapshot

    def test_json_report(self, bad_files: list[str], tmp_path: Path) -> None:
        result = run_cli("policy", "validate", "--format", "json", *bad_files, cwd=tmp_path)

        assert result.code == 1
        assert result.stderr == ""
        report = result.json()
        assert report["command"] == "policy validate"
        assert report["ok"] is False
        assert report["summary"] == {
            "checked": len(bad_files),
            "valid": 0,
            "invalid": len(bad_files),
        }
        by_file = {entry["file"]: entry for entry in report["files"]}
        for case, name in zip(INVALID, bad_files, strict=True):
            entry = by_file[name]
            assert entry["exists"] is True
            assert entry["valid"] is False
            pointers = {error["pointer"] for error in entry["schema_errors"]}
            for expected in case.expected:
                if expected.startswith("::/"):
                    assert expected[2:].split(": ")[0] in pointers, (name, expected)
            # Either the file could not be read as JSON, or it broke the schema; never both.
            assert (entry["read_error"] is None) == bool(entry["schema_errors"]), name


class TestShowAcceptsGoodFiles:
    """``taskclf policy show`` on a good file: exit 0, every field, disk checks passed."""

    @pytest.mark.parametrize("case", VALID, ids=_ids(VALID))
    def test_good_file(self, case: Case, home: Path, snapshot: Any) -> None:
        case.build(home / "models" / POLICY_NAME)

        result = run_cli("policy", "show", cwd=home)

        assert result.code == 0, result.stdout
        assert result.stderr == ""
        assert result.stdout.startswith("Inference policy: models/inference_policy.json\n")
        assert "Disk checks: passed" in result.stdout
        for expected in case.expected:
            assert expected in result.stdout
        if case.name != "exactly_one_mebibyte":  # its snapshot would be the padding
            assert result.seen(home) == snapshot


def test_validate_accepts_every_good_file(tmp_path: Path) -> None:
    # The folder above each file's folder is its TASKCLF_HOME, so give every case
    # folder a parent that holds the example bundles and calibrator store.
    shutil.copytree(EXAMPLE_HOME, tmp_path, dirs_exist_ok=True)
    names = []
    for case in VALID:
        folder = tmp_path / case.name
        folder.mkdir()
        case.build(folder / POLICY_NAME)
        names.append(f"{case.name}/{POLICY_NAME}")

    result = run_cli("policy", "validate", *names, cwd=tmp_path)

    assert result.code == 0, result.stdout
    assert result.stderr == ""
    expected = [f"{name}: ok (schema and disk checks)" for name in names]
    expected.append(f"{len(names)} files checked: {len(names)} valid, 0 invalid.")
    assert result.stdout.splitlines() == expected
