"""Issue 8, findings 9 and 10: values from files never reach the terminal raw.

Text output escapes every control character taken from a file as a JSON string escape
(ESC -> \\u001b, LF -> \\n, ...); JSON output stays exact. Lone surrogate escapes are
refused by the reader; bundle folders whose names a policy cannot hold are excluded
with a reason and refused by the commands that would name them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from door_support import assert_clean, run_taskclf, write_raw
from taskclf.core.errors import PolicyFileError
from taskclf.core.inference_policy import read_inference_policy
from taskclf.core.jsonio import JSONFileError, parse_json_bytes
from test_cli_support import Result

from conftest import write_json

# Raw control characters that must never be printed: C0 but LF and tab, DEL, C1.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")

HASH = "h\x1b[31mRED\x07\r\x7f\x9b2J"
LABELS = ["code\x1b]0;owned\x07", "write\nFORGED_LABEL here"]
SOURCE = "manual\x1b[2K\rFORGED_SOURCE"
GIT_COMMIT = "abc\x1b[2J\x00"
USER = "alice\x1b[1m\nFORGED_USER"


def _assert_no_raw_control(result: Result) -> None:
    for name, stream in (("stdout", result.stdout), ("stderr", result.stderr)):
        found = RAW_CONTROL.findall(stream)
        assert not found, f"raw control characters in {name}: {found!r}"
        undecodable = re.findall("[\udc80-\udcff]", stream)  # bytes that are not UTF-8
        assert not undecodable, f"{name} is not UTF-8: {undecodable!r}"
        forged = [line for line in stream.splitlines() if line.lstrip().startswith("FORGED")]
        assert not forged, f"{name} has lines forged by a value: {forged!r}"


@pytest.fixture
def hostile_home(home: Path) -> Path:
    """run_001 and a valid policy for it, every free-text value full of control characters."""
    models = home / "models"
    metadata = json.loads((models / "run_001" / "metadata.json").read_text())
    write_json(models / "run_001" / "metadata.json", {**metadata, "schema_hash": HASH,
                                                      "label_set": LABELS})  # fmt: skip
    write_json(
        models / "inference_policy.json",
        {
            "policy_version": "v1",
            "model_dir": "models/run_001",
            "model_schema_hash": HASH,
            "model_label_set": LABELS,
            "calibrator_store_dir": None,
            "calibration_method": None,
            "reject_threshold": 0.6,
            "created_at": "2026-01-31T12:00:00+00:00",
            "source": SOURCE,
            "git_commit": GIT_COMMIT,
            "per_user_reject_thresholds": {USER: 0.7},
        },
    )
    return home


class TestTextOutputEscapesControlCharacters:
    """show, resolve and model list print control characters from files as JSON escapes."""

    @pytest.mark.parametrize(
        "args",
        [
            ("policy", "show"),
            ("policy", "resolve", "--explain"),
            ("policy", "validate"),
            ("model", "list"),
        ],
    )
    def test_no_raw_control_character(self, hostile_home: Path, args: tuple[str, ...]) -> None:
        result = run_taskclf(*args, cwd=hostile_home)
        assert_clean(result)
        assert result.code in (0, 1)
        _assert_no_raw_control(result)

    def test_show_prints_the_escapes(self, hostile_home: Path) -> None:
        result = run_taskclf("policy", "show", cwd=hostile_home)
        assert result.code == 0, result
        _assert_no_raw_control(result)
        assert "\\u001b[31mRED" in result.stdout
        assert "FORGED_SOURCE" in result.stdout  # shown, on the source line, escaped
        assert "\\nFORGED_USER" in result.stdout

    def test_json_output_is_exact(self, hostile_home: Path) -> None:
        result = run_taskclf("policy", "resolve", "--format", "json", cwd=hostile_home)
        assert_clean(result)
        assert result.code == 0
        resolved = result.json()["resolved"]
        assert resolved["schema_hash"] == HASH
        assert sorted(resolved["label_set"]) == sorted(LABELS)
        assert resolved["per_user_reject_thresholds"] == {USER: 0.7}


def _copy_bundle(models: Path, name: str | bytes, *, best: bool = True) -> Path:
    folder = os.path.join(os.fsencode(models), os.fsencode(name))
    os.mkdir(folder)
    target = Path(os.fsdecode(folder))
    shutil.copy(models / "run_001" / "metadata.json", target / "metadata.json")
    metrics = {"macro_f1": 0.99, "weighted_f1": 0.99} if best else {"macro_f1": 0.1}
    write_json(target / "metrics.json", metrics)
    return target


class TestForgedRowsInModelList:
    """A newline in a bundle folder name cannot forge a row of `model list`."""

    def test_no_forged_row(self, home: Path) -> None:
        _copy_bundle(home / "models", "run_001\nrun_999 fake")
        result = run_taskclf("model", "list", cwd=home)
        assert_clean(result)
        assert result.code == 0
        _assert_no_raw_control(result)
        assert not [line for line in result.stdout.splitlines() if line.startswith("run_999")]
        assert "run_001\\nrun_999 fake" in result.stdout  # listed, escaped, with its reason
        best = [line for line in result.stdout.splitlines() if "<- best" in line]
        assert len(best) == 1
        assert " run_001 " in best[0]


UNNAMEABLE = {
    "control": "run_\x1b[1mbold",
    "newline": "run_001\nrun_999 fake",
    "not-utf8": b"run_\xff\xfe",
}


@pytest.mark.parametrize("kind", sorted(UNNAMEABLE))
class TestUnnameableBundleFolders:
    """Folders a policy cannot name are excluded from selection and refused by name."""

    @pytest.fixture
    def odd(self, home: Path, kind: str) -> str:
        folder = _copy_bundle(home / "models", UNNAMEABLE[kind])
        return f"models/{folder.name}"

    def test_model_list_excludes_it(self, home: Path, odd: str) -> None:
        result = run_taskclf("model", "list", cwd=home)
        assert_clean(result)
        assert result.code == 0
        _assert_no_raw_control(result)
        best = [line for line in result.stdout.splitlines() if "<- best" in line]
        assert len(best) == 1
        assert " run_001 " in best[0]

    def test_resolve_skips_it(self, home: Path, odd: str) -> None:
        result = run_taskclf("policy", "resolve", "--format", "json", cwd=home)
        assert_clean(result)
        assert result.code == 0
        assert result.json()["resolved"]["model_dir"] == "models/run_001"

    @pytest.mark.parametrize(
        "command", [("policy", "create"), ("model", "set-active")], ids=["create", "set-active"]
    )
    def test_naming_it_is_refused(self, home: Path, odd: str, command: tuple[str, str]) -> None:
        before = sorted(os.listdir(home / "models"))
        result = run_taskclf(*command, "--model-dir", odd, cwd=home)
        assert_clean(result)
        assert result.code == 1
        assert result.stderr.strip()
        _assert_no_raw_control(result)
        assert sorted(os.listdir(home / "models")) == before


SURROGATE_POLICY = (
    '{"policy_version": "v1", "model_dir": "models/run_001",'
    ' "model_schema_hash": "f3a9c2d1e8b7",'
    ' "model_label_set": ["browse", "code", "meeting", "write"],'
    ' "reject_threshold": 0.6, "source": "manual\\ud800", "_note": "x\\udc80y"}\n'
)


class TestLoneSurrogates:
    """A lone surrogate escape is refused by the reader, so nothing downstream crashes."""

    def test_reader_refuses(self) -> None:
        with pytest.raises(JSONFileError) as caught:
            parse_json_bytes(SURROGATE_POLICY.encode(), source="p.json")
        assert "surrogate" in caught.value.reason

    def test_read_inference_policy_refuses(self, models_dir: Path) -> None:
        path = write_raw(models_dir / "inference_policy.json", SURROGATE_POLICY)
        with pytest.raises(PolicyFileError) as caught:
            read_inference_policy(path)
        assert "surrogate" in caught.value.reason

    def test_validate_exit_1(self, home: Path) -> None:
        write_raw(home / "models" / "inference_policy.json", SURROGATE_POLICY)
        result = run_taskclf("policy", "validate", cwd=home)
        assert_clean(result)
        assert result.code == 1
        assert "surrogate" in result.stdout + result.stderr

    @pytest.mark.parametrize(
        ("args", "code"),
        [(("policy", "show"), 1), (("policy", "resolve", "--format", "json"), 0)],
        ids=["show", "resolve-json"],
    )
    def test_commands_do_not_crash(self, home: Path, args: tuple[str, ...], code: int) -> None:
        write_raw(home / "models" / "inference_policy.json", SURROGATE_POLICY)
        result = run_taskclf(*args, cwd=home)
        assert_clean(result)
        assert result.code == code

    def test_surrogate_in_bundle_metadata(self, home: Path) -> None:
        path = home / "models" / "run_001" / "metadata.json"
        text = path.read_text().replace('"browse"', '"browse\\udc80"')
        path.write_text(text)
        result = run_taskclf("model", "list", cwd=home)
        assert_clean(result)
        assert result.code == 0
        line = next(line for line in result.stdout.splitlines() if "run_001" in line)
        assert "<- best" not in line
