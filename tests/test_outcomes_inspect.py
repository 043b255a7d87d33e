"""The outcomes of ``policy show``, ``policy validate``, ``model list`` and ``model set-active``.

Each of these commands states what it found or did as one frozen outcome, and
every format is rendered from it. So the text, JSON and GitHub reports of one
run (or of runs from equal starting states) must agree: the same values in
the text and in the JSON, the same report for people in ``text`` and
``github`` (less the itemized lines the annotations replace), and one
annotation per problem the JSON lists.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taskclf.cli.model_commands import ActiveSet, BundleListing
from taskclf.cli.policy_inspect import FileReport, PolicyShown, Validation
from taskclf.cli.report import Line
from taskclf.model_registry import ActiveChange, ActivePointer, SelectionReport
from test_cli_support import EXAMPLE_FALLBACK, POLICY_NAME, Result, run_cli

_ANNOTATION = re.compile(r"::(?P<severity>error|warning|notice) (?P<props>[^:]*)::(?P<message>.*)")
_SUMMARY = re.compile(r"(\d+) files? checked: (\d+) valid, (\d+) invalid\.")
_PRECEDENCE = "takes precedence over models/active.json"


def _in_formats(*args: str | Path, cwd: Path) -> dict[str, Result]:
    """One run per format of a command that changes nothing."""
    return {kind: run_cli(*args, "--format", kind, cwd=cwd) for kind in ("text", "json", "github")}


def _annotations(stdout: str) -> list[dict[str, str]]:
    """The workflow commands in ``stdout``: severity, message and each property."""
    found = []
    for line in stdout.splitlines():
        match = _ANNOTATION.fullmatch(line)
        if match is not None:
            props = dict(prop.split("=", 1) for prop in match["props"].split(","))
            found.append({"severity": match["severity"], "message": match["message"], **props})
    return found


def _report_lines(stdout: str) -> list[str]:
    """``stdout`` without its workflow commands: the report for people."""
    return [line for line in stdout.splitlines() if not line.startswith("::")]


def _row(stdout: str, name: str) -> str:
    """The value of the aligned ``  name  value`` row of a text report."""
    (value,) = [
        line.split(None, 1)[1] for line in stdout.splitlines() if line.split(None, 1)[:1] == [name]
    ]
    return value


def _twins(home: Path, count: int) -> list[Path]:
    """``count`` copies of ``home`` as it is now: equal starting states for commands that write."""
    twins = []
    for number in range(count):
        twin = home.parent / f"twin{number}"
        shutil.copytree(home, twin, symlinks=True)
        twins.append(twin)
    return twins


class TestPolicyValidate:
    """One FileReport per file: text lines, annotations and JSON files are the same checks."""

    @pytest.fixture
    def files(self, home: Path) -> list[str]:
        """A valid file, one failing the schema four times, one that is not JSON, one missing."""
        assert run_cli("policy", "create", "--model-dir", "models/run_001", cwd=home).code == 0
        (home / "bad.json").write_text(
            '{"policy_version": "v1",\n "reject_threshold": 7}\n', encoding="utf-8"
        )
        (home / "broken.json").write_text("{\n", encoding="utf-8")
        return [f"models/{POLICY_NAME}", "bad.json", "broken.json", "nope.json"]

    def test_formats_agree(self, home: Path, files: list[str]) -> None:
        runs = _in_formats("policy", "validate", *files, cwd=home)
        text, github, document = runs["text"], runs["github"], runs["json"].json()

        assert {run.code for run in runs.values()} == {1}
        assert document["ok"] is False
        summary = text.stdout.splitlines()[-1]
        assert summary == "4 files checked: 1 valid, 3 invalid."
        # github shows the annotations instead of the per-file lines.
        assert _report_lines(github.stdout) == [summary]
        match = _SUMMARY.fullmatch(summary)
        assert match is not None
        checked, valid, invalid = map(int, match.groups())
        assert document["summary"] == {"checked": checked, "valid": valid, "invalid": invalid}
        assert [entry["file"] for entry in document["files"]] == files
        for entry in document["files"]:
            ok_line = f"{entry['file']}: ok (schema and disk checks)"
            assert (ok_line in text.stdout.splitlines()) is entry["valid"]

    def test_one_annotation_per_problem_at_its_place(self, home: Path, files: list[str]) -> None:
        runs = _in_formats("policy", "validate", *files, cwd=home)
        expected = []
        for entry in runs["json"].json()["files"]:
            if not entry["exists"]:
                expected.append((entry["file"], None, None))
            elif entry["read_error"] is not None:
                where = (entry["read_error_line"], entry["read_error_column"])
                expected.append((entry["file"], *where))
            for problem in entry["schema_errors"] + entry["disk_check_failures"]:
                expected.append((entry["file"], problem["line"], problem["column"]))

        found = [
            (
                annotation["file"],
                None if "line" not in annotation else int(annotation["line"]),
                None if "col" not in annotation else int(annotation["col"]),
            )
            for annotation in _annotations(runs["github"].stdout)
        ]

        assert len(expected) == 4 + 1 + 1  # four schema errors, unreadable, missing
        assert found == expected
        assert _annotations(runs["text"].stdout) == []

    def test_current_policy(self, home: Path) -> None:
        assert run_cli("policy", "create", "--model-dir", "models/run_001", cwd=home).code == 0
        runs = _in_formats("policy", "validate", cwd=home)
        document = runs["json"].json()

        assert {run.code for run in runs.values()} == {0}
        assert runs["text"].stdout.splitlines() == [
            f"models/{POLICY_NAME}: ok (schema and disk checks)",
            "1 file checked: 1 valid, 0 invalid.",
        ]
        assert runs["github"].stdout == "1 file checked: 1 valid, 0 invalid.\n"
        assert Path(document["policy_file"]).resolve() == (home / "models" / POLICY_NAME).resolve()
        (entry,) = document["files"]
        assert (entry["valid"], entry["disk_checked"]) == (True, True)

    def test_schema_only(self, home: Path, files: list[str]) -> None:
        runs = _in_formats("policy", "validate", "--no-disk-checks", files[0], cwd=home)

        assert runs["text"].stdout.splitlines()[0] == f"{files[0]}: ok (schema)"
        (entry,) = runs["json"].json()["files"]
        assert entry["disk_checked"] is False
        assert runs["json"].json()["policy_file"] is None


class TestPolicyShow:
    """The policy's check and the fallback: the same facts in text and JSON."""

    def test_valid(self, home: Path, write_policy: Callable[..., Path]) -> None:
        write_policy(home / "models")
        runs = _in_formats("policy", "show", cwd=home)
        text, document = runs["text"], runs["json"].json()

        assert {run.code for run in runs.values()} == {0}
        assert runs["github"].stdout == text.stdout
        assert (document["exists"], document["valid"], document["fallback"]) == (True, True, None)
        policy = document["policy"]
        assert _row(text.stdout, "reject_threshold") == f"{policy['reject_threshold']:g}" == "0.62"
        assert _row(text.stdout, "model_dir") == policy["model_dir"]
        assert text.stdout.splitlines()[0] == f"Inference policy: models/{POLICY_NAME}"

    def test_missing(self, home: Path) -> None:
        runs = _in_formats("policy", "show", cwd=home)
        document = runs["json"].json()

        assert {run.code for run in runs.values()} == {0}
        assert runs["github"].stdout == runs["text"].stdout
        assert (document["ok"], document["exists"], document["valid"]) == (True, False, None)
        assert document["fallback"] == EXAMPLE_FALLBACK
        assert f"Without it, {document['fallback']}." in runs["text"].stdout.splitlines()

    def test_invalid(self, home: Path, write_policy: Callable[..., Path]) -> None:
        write_policy(home / "models", reject_threshold=7, model_label_set="code")
        runs = _in_formats("policy", "show", cwd=home)
        text, document = runs["text"], runs["json"].json()

        assert {run.code for run in runs.values()} == {1}
        assert runs["github"].stdout == text.stdout
        assert (document["ok"], document["valid"]) == (False, False)
        errors = document["report"]["schema_errors"]
        listed = [line for line in text.stdout.splitlines() if line.startswith("  ")]
        assert len(errors) == len(listed) == 2
        assert [error["pointer"] for error in errors] == [
            line.split("::", 1)[1].split(":", 1)[0] for line in listed
        ]
        assert f"Until it is fixed, {document['fallback']}." in text.stdout.splitlines()

    def test_disk_checks_fail(self, home: Path, write_policy: Callable[..., Path]) -> None:
        write_policy(home / "models", model_schema_hash="deadbeef")
        runs = _in_formats("policy", "show", cwd=home)
        text, document = runs["text"], runs["json"].json()

        assert {run.code for run in runs.values()} == {1}
        assert runs["github"].stdout == text.stdout
        failures = document["report"]["disk_check_failures"]
        assert failures
        assert f"Disk checks: {len(failures)} failed" in text.stdout
        assert document["fallback"] == EXAMPLE_FALLBACK
        assert f"Until it is fixed, {document['fallback']}." in text.stdout.splitlines()
        assert document["policy"]["model_schema_hash"] == "deadbeef"
        assert _row(text.stdout, "model_schema_hash") == "deadbeef"


class TestModelList:
    """The ranking and the legacy pointer: the same in the text table and in the JSON."""

    def test_ranking(self, home: Path) -> None:
        runs = _in_formats("model", "list", cwd=home)
        text, document = runs["text"], runs["json"].json()

        assert {run.code for run in runs.values()} == {0}
        assert runs["github"].stdout == text.stdout
        rows = [line.split() for line in text.stdout.splitlines() if re.match(r"\s+\d+\s", line)]
        selection = document["selection"]
        assert [row[1] for row in rows] == [b["bundle_id"] for b in selection["ranked"]]
        assert [row[1] for row in rows if row[-1] == "best"] == [selection["best"]["bundle_id"]]
        assert [float(row[2]) for row in rows] == [b["macro_f1"] for b in selection["ranked"]]
        assert document["active"] is None
        assert text.stdout.splitlines()[-1] == "Legacy active pointer (models/active.json): none"

    def test_active_pointer(self, home: Path, write_active: Callable[..., Path]) -> None:
        write_active(home / "models", "models/run_002")
        runs = _in_formats("model", "list", cwd=home)
        document = runs["json"].json()

        assert document["active"]["model_dir"] == "models/run_002"
        assert runs["text"].stdout.splitlines()[-1] == (
            f"Legacy active pointer (models/active.json): {document['active']['model_dir']}"
        )

    def test_invalid_active_pointer(self, home: Path) -> None:
        (home / "models" / "active.json").write_text("{", encoding="utf-8")
        runs = _in_formats("model", "list", cwd=home)
        document = runs["json"].json()

        assert {run.code for run in runs.values()} == {0}
        assert document["active"] is None
        assert document["active_error"]
        assert runs["text"].stdout.splitlines()[-1] == (
            "Legacy active pointer (models/active.json): invalid, so inference ignores it "
            f"({document['active_error']})"
        )


class TestModelSetActive:
    """The change written, and the warning when a valid policy still decides."""

    @staticmethod
    def _set_active(homes: list[Path]) -> dict[str, Result]:
        """``set-active --model-dir models/run_002`` in each format, each in its own home."""
        runs = {}
        for kind, twin in zip(("text", "json", "github"), homes, strict=True):
            args = ("model", "set-active", "--model-dir", "models/run_002", "--format", kind)
            runs[kind] = run_cli(*args, cwd=twin)
        return runs

    def test_without_policy(self, home: Path) -> None:
        runs = self._set_active(_twins(home, 3))
        text, document = runs["text"], runs["json"].json()

        assert {run.code for run in runs.values()} == {0}
        assert runs["github"].stdout == text.stdout
        assert text.stderr == runs["github"].stderr == ""
        change = document["change"]
        assert text.stdout == (
            f"models/active.json now points at {change['new']['model_dir']} (was nothing).\n"
        )
        assert (change["old"], change["new"]["model_dir"]) == (None, "models/run_002")
        assert document["warning"] is None
        assert "warnings" not in document

    def test_replacing_a_pointer(self, home: Path, write_active: Callable[..., Path]) -> None:
        write_active(home / "models", "models/run_001")
        runs = self._set_active(_twins(home, 3))
        change = runs["json"].json()["change"]

        assert change["old"]["model_dir"] == "models/run_001"
        assert runs["text"].stdout == (
            f"models/active.json now points at {change['new']['model_dir']} "
            f"(was {change['old']['model_dir']}).\n"
        )

    def test_policy_takes_precedence(self, home: Path) -> None:
        assert run_cli("policy", "create", "--model-dir", "models/run_001", cwd=home).code == 0
        runs = self._set_active(_twins(home, 3))
        text, github, document = runs["text"], runs["github"], runs["json"].json()

        assert {run.code for run in runs.values()} == {0}
        warning = document["warning"]
        assert _PRECEDENCE in warning
        assert "inference keeps using models/run_001" in warning
        assert document["warnings"] == [warning]
        assert text.stderr == runs["json"].stderr == f"taskclf: warning: {warning}\n"
        (annotation,) = _annotations(github.stdout)
        assert (annotation["severity"], annotation["message"]) == ("warning", warning)
        assert _report_lines(github.stdout) == text.stdout.splitlines()
        assert github.stderr == ""


class TestOutcomesInProcess:
    """The outcome objects themselves: frozen, and rendering only what they hold."""

    def test_validation(self) -> None:
        missing = FileReport(file=Path("a.json"), exists=False)
        outcome = Validation(checked=(("a.json", missing),), policy_file=None)

        assert (outcome.ok, outcome.exit_code, outcome.invalid) == (False, 1, 1)
        assert list(outcome.text_lines()) == [
            Line("a.json: does not exist", itemized=True),
            "1 file checked: 0 valid, 1 invalid.",
        ]
        (annotation,) = outcome.annotations()
        assert (annotation.file, annotation.message) == ("a.json", "does not exist")
        assert outcome.json_fields()["summary"] == {"checked": 1, "valid": 0, "invalid": 1}
        with pytest.raises(dataclasses.FrozenInstanceError):
            outcome.policy_file = "elsewhere.json"  # type: ignore[misc]

    def test_no_files_is_no_failure(self) -> None:
        outcome = Validation(checked=(), policy_file=None)

        assert (outcome.ok, outcome.exit_code) == (True, 0)
        assert list(outcome.text_lines()) == ["0 files checked: 0 valid, 0 invalid."]

    def test_policy_shown(self) -> None:
        missing = FileReport(file=Path("models") / POLICY_NAME, exists=False)
        outcome = PolicyShown(report=missing, policy_file="p.json", fallback="inference uses x")

        assert (outcome.ok, outcome.exit_code) == (True, 0)
        assert list(outcome.text_lines())[:2] == [
            "No inference policy at p.json.",
            "Without it, inference uses x.",
        ]
        assert outcome.json_fields() == {
            "exists": False,
            "valid": None,
            "fallback": "inference uses x",
        }
        with pytest.raises(dataclasses.FrozenInstanceError):
            outcome.fallback = None  # type: ignore[misc]

    def test_bundle_listing(self) -> None:
        selection = SelectionReport(models_dir=Path("models"), best=None, ranked=(), excluded=())
        outcome = BundleListing(
            selection=selection,
            active=None,
            active_problem=None,
            models_dir="shown/models",
            active_file="shown/models/active.json",
        )

        assert list(outcome.text_lines()) == [
            "Model bundles in shown/models, best first:",
            "  (none qualifies)",
            "Legacy active pointer (shown/models/active.json): none",
        ]
        assert outcome.json_fields()["active"] is None
        with pytest.raises(dataclasses.FrozenInstanceError):
            outcome.active_problem = "broken"  # type: ignore[misc]

    @pytest.mark.parametrize("policy_model_dir", [None, "models/run_001"])
    def test_active_set(self, policy_model_dir: str | None) -> None:
        new = ActivePointer(model_dir="models/run_002", selected_at="2026-01-31T12:00:00+00:00")
        change = ActiveChange(at="2026-01-31T12:00:00+00:00", old=None, new=new)
        outcome = ActiveSet(
            change=change,
            active_file="m/active.json",
            policy_file="m/p.json",
            policy_model_dir=policy_model_dir,
        )

        assert list(outcome.text_lines()) == [
            "m/active.json now points at models/run_002 (was nothing)."
        ]
        warnings = list(outcome.warnings())
        fields: dict[str, Any] = dict(outcome.json_fields())
        assert fields["change"] == change.to_dict()
        if policy_model_dir is None:
            assert (warnings, fields["warning"]) == ([], None)
        else:
            assert warnings == [fields["warning"]]
            assert fields["warning"].startswith("m/p.json takes precedence over m/active.json: ")
        with pytest.raises(dataclasses.FrozenInstanceError):
            outcome.policy_model_dir = "models/run_003"  # type: ignore[misc]
