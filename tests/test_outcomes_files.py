"""The outcomes of ``policy create | init | remove | template | schema | edit``.

Each command states what it did as one frozen outcome, rendered as text, JSON
and GitHub annotations. These tests run the real command in every format, on
equal starting states, and check that the renderings agree: ``github`` is the
text report (with its ``::`` annotation lines removed), and the values in the
JSON report are the values the text report shows.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pty
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from test_cli_support import POLICY_NAME, Result, cli_env, normalise, run_cli

from conftest import EXAMPLE_HOME, write_example_policy

FORMATS = ("text", "github", "json")

_EDITOR = """\
#!{python}
\"\"\"An editor that does to the file what $EDIT_PLAN says, once, and exits 0.\"\"\"
import json
import os
import sys
from pathlib import Path

plan = json.loads(os.environ["EDIT_PLAN"])
target = Path(sys.argv[-1])
if plan.get("empty"):
    target.write_text("", encoding="utf-8")
elif plan.get("update"):
    document = json.loads(target.read_text(encoding="utf-8"))
    document.update(plan["update"])
    target.write_text(json.dumps(document, indent=2) + "\\n", encoding="utf-8")
"""

_KEPT_COPY = re.compile(r"\S*taskclf-edit-[^/\s]+/")


def _fresh_home(tmp_path: Path, name: str) -> Path:
    """A copy of examples/home without any policy, under ``tmp_path/name``."""
    target = tmp_path / name
    shutil.copytree(
        EXAMPLE_HOME,
        target,
        ignore=shutil.ignore_patterns("inference_policy.json*", ".policy_history"),
    )
    return target


def _in_every_format(
    tmp_path: Path,
    *args: str,
    prepare: Callable[[Path], object] = lambda home: None,
    **run: Any,
) -> dict[str, tuple[Path, Result]]:
    """Run ``taskclf ARGS --format F`` for each format, each on its own fresh home."""
    runs = {}
    for output_format in FORMATS:
        home = _fresh_home(tmp_path, f"home-{output_format}")
        prepare(home)
        runs[output_format] = (home, run_cli(*args, "--format", output_format, cwd=home, **run))
    return runs


def _without_annotations(stdout: str) -> str:
    return "".join(line for line in stdout.splitlines(keepends=True) if not line.startswith("::"))


def _assert_github_is_the_text(runs: dict[str, tuple[Path, Result]]) -> None:
    """``github`` prints the text report (plus annotations), with the same exit code."""
    text_home, text = runs["text"]
    github_home, github = runs["github"]
    assert github.code == text.code
    assert normalise(_without_annotations(github.stdout), github_home) == normalise(
        text.stdout, text_home
    )


def _policy(home: Path, **fields: Any) -> Path:
    """Write a valid policy for run_001 (example store, threshold 0.62) into ``home``."""
    return write_example_policy(home / "models", **fields)


def _summary_value(stdout: str, name: str) -> str:
    """The value on the ``  name  value`` line of a policy summary."""
    [value] = re.findall(rf"^  {re.escape(name)}\s+(.+)$", stdout, flags=re.MULTILINE)
    return value


class TestCreate:
    """``policy create``: one PolicyCreation, as text, JSON and GitHub annotations."""

    @pytest.mark.parametrize("dry_run", [False, True], ids=["write", "dry-run"])
    def test_formats_agree(self, tmp_path: Path, dry_run: bool) -> None:
        args = ["policy", "create", "--model-dir", "models/run_001"]
        runs = _in_every_format(tmp_path, *args, *(["--dry-run"] if dry_run else []))

        _assert_github_is_the_text(runs)
        text = runs["text"][1]
        json_home, as_json = runs["json"]
        assert text.code == as_json.code == 0, text.stderr + as_json.stderr
        report = as_json.json()
        assert report["written"] is (not dry_run)
        assert report["dry_run"] is dry_run
        assert report["previous_policy"] is None
        policy = report["policy"]
        assert _summary_value(text.stdout, "model_dir") == policy["model_dir"]
        assert float(_summary_value(text.stdout, "reject_threshold")) == policy["reject_threshold"]
        assert f"(reject_threshold from {report['reject_threshold_from']})" in text.stdout
        assert f"  (calibrator: {report['calibrator_from']} " in text.stdout
        assert (json_home / "models" / POLICY_NAME).exists() is (not dry_run)
        if dry_run:
            assert "Nothing was written (--dry-run)." in text.stdout.splitlines()
        else:
            assert "Wrote models/inference_policy.json" in text.stdout.splitlines()
            written = json.loads((json_home / "models" / POLICY_NAME).read_text("utf-8"))
            assert written == policy

    def test_changes_are_the_same_in_text_and_json(self, tmp_path: Path) -> None:
        args = ["policy", "create", "--model-dir", "models/run_001", "--reject-threshold", "0.7"]
        runs = _in_every_format(tmp_path, *args, "--dry-run", prepare=_policy)

        _assert_github_is_the_text(runs)
        text = runs["text"][1].stdout.splitlines()
        report = runs["json"][1].json()
        assert report["previous_policy"] == "valid"
        assert report["reject_threshold_from"] == "--reject-threshold"
        changed = {change["field"] for change in report["changes"]}
        assert "reject_threshold" in changed
        assert f"Changes to the existing policy ({len(report['changes'])}):" in text
        start = text.index(f"Changes to the existing policy ({len(report['changes'])}):") + 1
        shown = text[start : start + len(report["changes"])]
        assert {re.sub(r"^  [+~-] ([^:]+):.*$", r"\1", line) for line in shown} == changed

    def test_replacing_an_invalid_policy(self, tmp_path: Path) -> None:
        runs = _in_every_format(
            tmp_path,
            *("policy", "create", "--model-dir", "models/run_001"),
            prepare=lambda home: _policy(home, reject_threshold=7),
        )

        _assert_github_is_the_text(runs)
        assert "Replacing the invalid policy in models/inference_policy.json." in (
            runs["text"][1].stdout.splitlines()
        )
        assert runs["json"][1].json()["previous_policy"] == "invalid"


class TestRemove:
    """``policy remove``: one Removal, whatever the case."""

    def test_removed(self, tmp_path: Path) -> None:
        runs = _in_every_format(tmp_path, "policy", "remove", "--yes", prepare=_policy)

        _assert_github_is_the_text(runs)
        text = runs["text"][1]
        report = runs["json"][1].json()
        assert report["removed"] is True
        assert text.stdout.splitlines() == [
            "Removed models/inference_policy.json.",
            f"Now {report['fallback']}.",
        ]
        for home, _ in runs.values():
            assert not (home / "models" / POLICY_NAME).exists()

    def test_nothing_to_remove(self, tmp_path: Path) -> None:
        runs = _in_every_format(tmp_path, "policy", "remove")

        _assert_github_is_the_text(runs)
        report = runs["json"][1].json()
        assert (report["ok"], report["removed"]) == (True, False)
        assert report["fallback"].startswith("inference uses models/run_001")
        assert runs["text"][1].stdout == (
            "No inference policy at models/inference_policy.json; nothing to remove.\n"
        )

    def test_declined_on_a_terminal(self, tmp_path: Path) -> None:
        home = _fresh_home(tmp_path, "home")
        before = _policy(home).read_bytes()
        controller, terminal = pty.openpty()
        try:
            os.write(controller, b"no\n")
            completed = subprocess.run(
                [sys.executable, "-m", "taskclf", "policy", "remove", "--format", "github"],
                cwd=home,
                env=cli_env(),
                stdin=terminal,
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
        finally:
            os.close(terminal)
            os.close(controller)

        assert completed.returncode == 0, completed.stderr
        # The question comes first, then the answer's outcome.
        assert completed.stdout == "Remove models/inference_policy.json? [y/N] Not removed.\n"
        assert (home / "models" / POLICY_NAME).read_bytes() == before


class TestInit:
    """``policy init``: one StarterPolicy."""

    def test_formats_agree(self, tmp_path: Path) -> None:
        runs = _in_every_format(tmp_path, "policy", "init")

        _assert_github_is_the_text(runs)
        home, text = runs["text"]
        assert (
            text.stdout.splitlines()[0] == "Wrote a starter policy to models/inference_policy.json."
        )
        assert f"paths are relative to {home})" in text.stdout
        json_home, as_json = runs["json"]
        assert as_json.json()["written"] is True
        assert as_json.json()["policy_file"] == str(json_home / "models" / POLICY_NAME)
        assert (json_home / "models" / POLICY_NAME).is_file()


class TestTemplate:
    """``policy template``: Template (printed or written) and TemplateCheck."""

    def test_printed_is_the_json_template(self, tmp_path: Path) -> None:
        runs = _in_every_format(tmp_path, "policy", "template")

        _assert_github_is_the_text(runs)
        report = runs["json"][1].json()
        assert report["written"] is False
        assert report["template"] == json.loads(runs["text"][1].stdout)

    def test_written(self, tmp_path: Path) -> None:
        runs = _in_every_format(tmp_path, "policy", "template", "--output", "out/template.json")

        _assert_github_is_the_text(runs)
        report = runs["json"][1].json()
        assert (report["file"], report["written"]) == ("out/template.json", True)
        assert runs["text"][1].stdout == f"Wrote the template to {report['file']}.\n"
        printed = run_cli("policy", "template", cwd=tmp_path).stdout
        for home, _ in runs.values():
            assert (home / "out" / "template.json").read_text("utf-8") == printed

    @pytest.mark.parametrize("drift", [False, True], ids=["up-to-date", "drifted"])
    def test_check(self, tmp_path: Path, drift: bool) -> None:
        def prepare(home: Path) -> None:
            assert run_cli("policy", "template", "--output", "t.json", cwd=home).code == 0
            if drift:
                path = home / "t.json"
                path.write_text(path.read_text("utf-8").replace('"v1"', '"v0"', 1), "utf-8")

        runs = _in_every_format(
            tmp_path, "policy", "template", "--check", "--output", "t.json", prepare=prepare
        )

        _assert_github_is_the_text(runs)
        text = runs["text"][1]
        as_json = runs["json"][1]
        report = as_json.json()
        assert text.code == as_json.code == (1 if drift else 0)
        assert report["ok"] is report["up_to_date"] is (not drift)
        assert report["file"] == "t.json"
        if drift:
            assert report["diff"].rstrip("\n") in text.stdout
            assert text.stdout.startswith("t.json differs from the rendered template:\n")
            assert '-  "policy_version": "v0",' in report["diff"]
        else:
            assert (report["diff"], text.stdout) == ("", "t.json: up to date.\n")


class TestSchema:
    """``policy schema``: SchemaList and SchemaDocument."""

    def test_list(self, tmp_path: Path) -> None:
        runs = _in_every_format(tmp_path, "policy", "schema", "--list")

        _assert_github_is_the_text(runs)
        names = runs["json"][1].json()["names"]
        assert "inference_policy.v1" in names
        assert runs["text"][1].stdout.splitlines() == names

    @pytest.mark.parametrize("bundled", [False, True], ids=["as-shipped", "bundled"])
    def test_printed_is_the_json_schema(self, tmp_path: Path, bundled: bool) -> None:
        extra = ["--bundled"] if bundled else []
        runs = _in_every_format(tmp_path, "policy", "schema", "model_metadata.v1", *extra)

        _assert_github_is_the_text(runs)
        report = runs["json"][1].json()
        assert (report["name"], report["bundled"]) == ("model_metadata.v1", bundled)
        assert report["schema"] == json.loads(runs["text"][1].stdout)

    @pytest.mark.parametrize(
        ("name", "what"),
        [("inference_policy.v1", "policy"), ("model_metadata.v1", "model_metadata.v1")],
    )
    def test_written(self, tmp_path: Path, name: str, what: str) -> None:
        runs = _in_every_format(tmp_path, "policy", "schema", name, "--output", "s.json")

        _assert_github_is_the_text(runs)
        report = runs["json"][1].json()
        assert (report["name"], report["file"], report["written"]) == (name, "s.json", True)
        assert runs["text"][1].stdout == f"Wrote the {what} schema to {report['file']}.\n"
        for home, _ in runs.values():
            assert json.loads((home / "s.json").read_text("utf-8"))["$schema"]


@pytest.fixture
def edit_env(tmp_path: Path) -> Callable[[dict[str, Any]], dict[str, str]]:
    """Factory: the environment of a ``policy edit`` whose editor carries out ``plan``."""
    script = tmp_path / "editor" / "edit"
    script.parent.mkdir()
    script.write_text(_EDITOR.format(python=sys.executable), encoding="utf-8")
    script.chmod(0o755)

    def env(plan: dict[str, Any]) -> dict[str, str]:
        return {"VISUAL": "", "EDITOR": str(script), "EDIT_PLAN": json.dumps(plan)}

    return env


class TestEdit:
    """``policy edit``: how it ended (EditLeft, EditSaved, EditAborted), in every format.

    In JSON format the ending is said on stderr, where the dialogue goes, and
    it is the very text the other formats print on stdout.
    """

    @pytest.mark.parametrize(
        ("plan", "seeded", "outcome", "written"),
        [
            ({"update": {"reject_threshold": 0.7}}, False, "saved", True),
            ({"update": {"reject_threshold": 0.7}}, True, "saved", True),
            ({}, False, "unchanged", False),
            ({}, True, "unchanged", True),
            ({"empty": True}, False, "cancelled", False),
        ],
        ids=["saved", "seeded-saved", "unchanged", "seeded-unchanged", "cancelled"],
    )
    def test_endings(
        self,
        tmp_path: Path,
        edit_env: Callable[[dict[str, Any]], dict[str, str]],
        plan: dict[str, Any],
        seeded: bool,
        outcome: str,
        written: bool,
    ) -> None:
        runs = _in_every_format(
            tmp_path,
            "policy",
            "edit",
            prepare=(lambda home: None) if seeded else _policy,
            env=edit_env(plan),
        )

        _assert_github_is_the_text(runs)
        text = runs["text"][1]
        json_home, as_json = runs["json"]
        assert text.code == as_json.code == 0, text.stderr + as_json.stderr
        report = as_json.json()
        assert (report["outcome"], report["written"]) == (outcome, written)
        assert (report["seeded_from"] is not None) is seeded
        # The ending the person reads is the same in every format.
        assert as_json.stderr == text.stdout
        live = json_home / "models" / POLICY_NAME
        assert live.exists() is (written or not seeded)
        if written:  # the file as the person left it; the report's policy has every field
            saved = json.loads(live.read_text("utf-8"))
            assert {name: report["policy"][name] for name in saved} == saved
        if outcome == "saved":
            count = len(report["changes"])
            assert f"({count} field{'s' if count != 1 else ''} changed):" in text.stdout
            old = 0.6 if seeded else 0.62  # run_001's advisory threshold, or the policy's
            assert f"  ~ reject_threshold: {old} -> 0.7" in text.stdout.splitlines()
        else:
            assert "changes" not in report

    def test_aborted(
        self, tmp_path: Path, edit_env: Callable[[dict[str, Any]], dict[str, str]]
    ) -> None:
        runs = _in_every_format(
            tmp_path,
            "policy",
            "edit",
            prepare=_policy,
            env=edit_env({"update": {"reject_threshold": 1.5}}),
            input="n\n",
        )

        text, github = runs["text"][1], runs["github"][1]
        assert text.code == github.code == 1
        assert _KEPT_COPY.sub("<COPY>/", _without_annotations(github.stdout)) == _KEPT_COPY.sub(
            "<COPY>/", text.stdout
        )
        as_json = runs["json"][1]
        assert as_json.code == 1
        report = as_json.json()
        assert (report["ok"], report["written"], report["outcome"]) == (False, False, "aborted")
        assert report["error"]["message"] == "the edited policy is not valid"
        assert as_json.stderr.endswith(f"Your edited copy is kept at {report['kept_copy']}\n")
        for problem in report["problems"]:
            assert f"  {problem}\n" in as_json.stderr
        assert json.loads(Path(report["kept_copy"]).read_text("utf-8"))["reject_threshold"] == 1.5
        assert "Aborted: models/inference_policy.json was not modified." in text.stdout


class TestFrozen:
    """Every outcome is a frozen value: a reporter cannot change what a command found."""

    @staticmethod
    def _outcomes(tmp_path: Path) -> list[Any]:
        from taskclf.cli.policy_create import PolicyCreation
        from taskclf.cli.policy_edit import EditAborted, EditLeft, EditSaved
        from taskclf.cli.policy_files import (
            Removal,
            SchemaDocument,
            SchemaList,
            StarterPolicy,
            Template,
            TemplateCheck,
        )
        from taskclf.cli.render import field_changes
        from taskclf.core.inference_policy import InferencePolicy

        document = json.loads(_policy(tmp_path).read_text("utf-8"))
        policy = InferencePolicy.from_dict(document)
        changes = tuple(field_changes(None, document))
        return [
            PolicyCreation(policy, "p.json", False, "none", changes, "schema default", "x"),
            Removal("declined", "p.json", None),
            StarterPolicy("p.json", "/home"),
            Template("{}\n", None),
            TemplateCheck("t.json", "-a\n+b\n"),
            SchemaList(("a", "b")),
            SchemaDocument("a", False, "{}\n", "s.json"),
            EditLeft("cancelled", "p.json", None),
            EditSaved("p.json", None, changes, policy),
            EditAborted("p.json", False, "/tmp/copy", ("bad",), {}),
        ]

    def test_cannot_be_changed(self, tmp_path: Path) -> None:
        for outcome in self._outcomes(tmp_path):
            field = dataclasses.fields(outcome)[0].name
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(outcome, field, "changed")

    def test_failures_are_exit_1(self, tmp_path: Path) -> None:
        codes = {type(outcome).__name__: outcome.exit_code for outcome in self._outcomes(tmp_path)}
        assert {name for name, code in codes.items() if code != 0} == {
            "TemplateCheck",
            "EditAborted",
        }
        assert set(codes.values()) == {0, 1}
