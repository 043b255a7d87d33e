"""Line and column of every reported problem: ``--format github`` and ``--format json``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from taskclf.core.json_positions import Position, json_positions, position_of
from test_cli_support import run_cli

BAD_POLICY = """{
  "model_dir": "models/run_001",
  "model_schema_hash": "f3a9c2d1e8b7",
  "model_label_set": ["browse", "code", "meeting", "write"],
  "reject_threshold": 1.5,
  "per_user_reject_thresholds": {"alice": 0.5, "bob": -1},
  "reject_treshold": 2
}
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


class TestJsonPositions:
    """Pointers map to where keys and items start, 1-based, in characters."""

    def test_members_items_and_root(self) -> None:
        text = '{\n  "a": [10, {"b\\u00e9": null}],\n  "c~/": 1\n}'
        found = json_positions(text)
        assert found[""] == Position(1, 1)
        assert found["/a"] == Position(2, 3)
        assert found["/a/0"] == Position(2, 9)
        assert found["/a/1"] == Position(2, 13)
        assert found["/a/1/bé"] == Position(2, 14)
        assert found["/c~0~1"] == Position(3, 3)

    def test_byte_order_mark_is_not_a_column(self) -> None:
        assert json_positions('\ufeff{"a": 1}')["/a"] == Position(1, 2)

    def test_missing_key_falls_back_to_its_object(self) -> None:
        found = json_positions('{\n  "o": {\n    "x": 1\n  }\n}')
        assert position_of(found, "/o/missing") == Position(2, 3)
        assert position_of(found, "/nowhere/deeper") == Position(1, 1)

    def test_invalid_text_keeps_what_was_scanned(self) -> None:
        found = json_positions('{"a": 1, "b": ')
        assert found["/a"] == Position(1, 2)


class TestGithubAnnotations:
    """``policy validate --format github``: one ::error per problem, at the offending key."""

    def test_schema_errors(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "p.json", BAD_POLICY)
        result = run_cli("policy", "validate", "--no-disk-checks", "--format", "github", "p.json",
                         cwd=tmp_path)  # fmt: skip
        assert result.code == 1
        annotations = [line for line in result.stdout.splitlines() if line.startswith("::error")]
        assert len(annotations) == 3
        lines = path.read_text().splitlines()
        for annotation in annotations:
            found = re.match(
                r"::error file=p\.json,line=(\d+),col=(\d+),title=([^:]+)::(.+)", annotation
            )
            assert found, annotation
            line, col, message = int(found[1]), int(found[2]), found[4]
            pointer = message.split(":", 1)[0]
            key = pointer.rsplit("/", 1)[1]
            assert lines[line - 1][col - 1 :].startswith(f'"{key}"'), (annotation, lines[line - 1])
        assert result.stdout.splitlines()[-1] == "1 file checked: 0 valid, 1 invalid."

    def test_disk_check_failure(self, home: Path, policy_document: dict[str, Any]) -> None:
        document = {
            **policy_document,
            "model_dir": "models/run_404",
            "calibrator_store_dir": None,
            "calibration_method": None,
        }
        path = home / "models" / "inference_policy.json"
        path.write_text(json.dumps(document, indent=2) + "\n")
        result = run_cli("policy", "validate", "--format", "github", cwd=home)
        assert result.code == 1
        (annotation,) = [line for line in result.stdout.splitlines() if line.startswith("::")]
        found = re.match(r"::error file=([^,]+),line=(\d+),col=(\d+),title=([^:]+)::", annotation)
        assert found, annotation
        assert found[1] == "models/inference_policy.json"
        assert found[4] == "taskclf disk check%3A model_dir_exists"
        line, col = int(found[2]), int(found[3])
        assert path.read_text().splitlines()[line - 1][col - 1 :].startswith('"model_dir"')

    def test_syntax_error_and_escaping(self, tmp_path: Path) -> None:
        _write(tmp_path, "bad,name.json", '{\n  "a": 1,\n  "b": \n}\n')
        result = run_cli("policy", "validate", "--no-disk-checks", "--format", "github",
                         "bad,name.json", cwd=tmp_path)  # fmt: skip
        (annotation,) = [line for line in result.stdout.splitlines() if line.startswith("::")]
        assert annotation.startswith("::error file=bad%2Cname.json,line=4,col=1,title=")
        assert "is not valid JSON: Expecting value at line 4 column 1" in annotation

    def test_valid_file_has_no_annotation(
        self, home: Path, policy_document: dict[str, Any]
    ) -> None:
        (home / "models" / "inference_policy.json").write_text(json.dumps(policy_document))
        result = run_cli("policy", "validate", "--format", "github", cwd=home)
        assert result.code == 0
        assert result.stdout == "1 file checked: 1 valid, 0 invalid.\n"


class TestJsonLineAndColumn:
    """``--format json`` errors carry line and column beside the JSON pointer."""

    @pytest.mark.parametrize("disk", [False, True])
    def test_each_reported_line_holds_the_key(self, tmp_path: Path, disk: bool) -> None:
        path = _write(tmp_path, "p.json", BAD_POLICY)
        flags = [] if disk else ["--no-disk-checks"]
        result = run_cli("policy", "validate", *flags, "--format", "json", "p.json", cwd=tmp_path)
        (report,) = result.json()["files"]
        lines = path.read_text().splitlines()
        assert report["schema_errors"]
        for error in report["schema_errors"]:
            key = error["pointer"].rsplit("/", 1)[1]
            assert lines[error["line"] - 1][error["column"] - 1 :].startswith(f'"{key}"')

    def test_syntax_error_position_as_fields(self, tmp_path: Path) -> None:
        _write(tmp_path, "bad.json", '{"a": 1,\n "b" 2}\n')
        result = run_cli("policy", "validate", "--format", "json", "bad.json", cwd=tmp_path)
        (report,) = result.json()["files"]
        assert (report["read_error_line"], report["read_error_column"]) == (2, 6)


class TestDeployAnnotations:
    """``policy apply`` and ``policy diff`` pin each problem of FILE to its key, too."""

    @staticmethod
    def _pinned(stdout: str, path: Path) -> list[tuple[str, str]]:
        """(title, the text at the annotation's line and column) of each positioned ::error."""
        lines = path.read_text().splitlines()
        found = []
        for annotation in stdout.splitlines():
            place = re.match(r"::error file=[^,]+,line=(\d+),col=(\d+),title=([^:]+)::", annotation)
            if place:
                line, col = int(place[1]), int(place[2])
                found.append((place[3], lines[line - 1][col - 1 :]))
        return found

    def test_apply_schema_errors(self, home: Path) -> None:
        path = _write(home, "candidate.json", BAD_POLICY)
        result = run_cli("policy", "apply", "candidate.json", "--format", "github", cwd=home)
        assert result.code == 1
        pinned = self._pinned(result.stdout, path)
        assert len(pinned) == 3
        assert all(title.startswith("taskclf schema%3A") for title, _ in pinned)
        assert {text.split('"')[1] for _, text in pinned} == {
            "reject_threshold", "bob", "reject_treshold",
        }  # fmt: skip
        # One more annotation: the command's error, in one line (the rest is pinned above).
        (error,) = [
            line for line in result.stdout.splitlines() if "title=taskclf policy apply" in line
        ]
        assert "%0A" not in error
        assert not (home / "models" / "inference_policy.json").exists()

    def test_apply_and_diff_disk_check_failure(
        self, home: Path, policy_document: dict[str, Any]
    ) -> None:
        document = {**policy_document, "model_dir": "models/run_404",
                    "calibrator_store_dir": None, "calibration_method": None}  # fmt: skip
        path = _write(home, "candidate.json", json.dumps(document, indent=2) + "\n")
        for command in ("apply", "diff"):
            result = run_cli("policy", command, "candidate.json", "--format", "github", cwd=home)
            assert result.code == 1, command
            ((title, text),) = self._pinned(result.stdout, path)
            assert title == "taskclf disk check%3A model_dir_exists"
            assert text.startswith('"model_dir"')
