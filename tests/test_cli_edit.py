"""``taskclf policy edit``: a real editor process on a temporary copy, validated before saving.

The editor is a small script written into tmp_path and named in ``$EDITOR``
(or ``$VISUAL``, or a ``vi`` on PATH). The scripted editor reads a plan, one
step per time it is opened (rewrite the file, change fields, exit with a
status, touch the live file), and logs what it was given, so a test can tell
what the person at the editor would have seen. Answers to the re-open prompt
come on stdin. TMPDIR points into tmp_path, so the temporary copies can be
checked (and found again when they are kept).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from test_cli_support import POLICY_NAME, Result, normalise, run_cli, tree_bytes

from conftest import EXAMPLE_LABELS, EXAMPLE_SCHEMA_HASH, make_store, write_json

PROMPT = "Re-open the editor to fix it? [Y/n] "
STORE = "artifacts/calibrator_store"

_FAKE_EDITOR = """\
#!{python}
\"\"\"A scripted editor: the Nth time it is opened it does step N of the plan, and logs.\"\"\"
import json
import os
import sys
from pathlib import Path

plan = json.loads(Path(os.environ["FAKE_EDITOR_PLAN"]).read_text(encoding="utf-8"))
log = Path(os.environ["FAKE_EDITOR_LOG"])
runs = len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0
step = plan[min(runs, len(plan) - 1)]
target = Path(sys.argv[-1])
live = Path(os.environ["FAKE_EDITOR_LIVE"])
seen = target.read_text(encoding="utf-8")
entry = {{
    "argv": sys.argv[1:],
    "seen": seen,
    "live": live.read_text(encoding="utf-8") if live.exists() else None,
}}
with log.open("a", encoding="utf-8") as out:
    out.write(json.dumps(entry) + "\\n")
if "write" in step:
    target.write_bytes(step["write"].encode("utf-8"))
if "update" in step:
    document = json.loads(seen)
    document.update(step["update"])
    target.write_text(json.dumps(document, indent=2) + "\\n", encoding="utf-8")
if "live" in step:
    live.write_text(step["live"], encoding="utf-8")
sys.exit(step.get("exit", 0))
"""


def _executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


@dataclass
class Editor:
    """The scripted editor, its plan and its log, and the TMPDIR the copies go to."""

    script: Path
    plan_file: Path
    log_file: Path
    tmpdir: Path

    def plan(self, *steps: dict[str, Any]) -> None:
        """What to do the 1st, 2nd, ... time the editor is opened (the last step repeats)."""
        self.plan_file.write_text(json.dumps(list(steps)), encoding="utf-8")

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """Environment of a ``policy edit`` run: this editor as $EDITOR, no $VISUAL."""
        return {
            "VISUAL": "",
            "EDITOR": shlex.quote(str(self.script)),
            "FAKE_EDITOR_PLAN": str(self.plan_file),
            "FAKE_EDITOR_LOG": str(self.log_file),
            "FAKE_EDITOR_LIVE": str(home / "models" / POLICY_NAME),
            "TMPDIR": str(self.tmpdir),
            **extra,
        }

    def edit(self, home: Path, *args: str | Path, input: str | None = None, **env: str) -> Result:
        """Run ``taskclf policy edit ARGS`` in ``home`` with this editor."""
        return run_cli("policy", "edit", *args, cwd=home, env=self.env(home, **env), input=input)

    def runs(self) -> list[dict[str, Any]]:
        """One entry per time the editor was opened: its arguments, the copy, the live file."""
        if not self.log_file.exists():
            return []
        return [json.loads(line) for line in self.log_file.read_text("utf-8").splitlines()]

    def leftovers(self) -> list[Path]:
        """Whatever the command left in TMPDIR."""
        return sorted(self.tmpdir.rglob("*"))


@pytest.fixture
def editor(tmp_path: Path) -> Editor:
    """The scripted editor (leaving the file unchanged unless a plan says otherwise)."""
    folder = tmp_path / "editor"
    script = _executable(folder / "fake-editor", _FAKE_EDITOR.format(python=sys.executable))
    tmpdir = tmp_path / "edit-tmp"
    tmpdir.mkdir()
    made = Editor(script, folder / "plan.json", folder / "log.jsonl", tmpdir)
    made.plan({})
    return made


@pytest.fixture
def policy(home: Path, write_policy: Callable[..., Path]) -> bytes:
    """A valid policy for run_001 with the example store (threshold 0.62); its bytes."""
    return write_policy(home / "models").read_bytes()


def _live(home: Path) -> Path:
    return home / "models" / POLICY_NAME


def _document(home: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_live(home).read_text(encoding="utf-8"))
    return document


def _seen(result: Result, home: Path) -> dict[str, Any]:
    """The run as a snapshot, with the random name of the temporary folder replaced."""
    seen = result.seen(home)
    for stream in ("stdout", "stderr"):
        seen[stream] = re.sub(r"taskclf-edit-[^/\s]+", "taskclf-edit-<ID>", seen[stream])
    return seen


def _kept_copy(text: str) -> Path:
    match = re.search(r"kept at (\S+inference_policy\.json)", text)
    assert match, text
    return Path(match.group(1))


def _policy_text(**changes: Any) -> str:
    """A valid run_001 policy in an unusual layout: a note first, keys out of order."""
    document = {
        "_note": "edited by hand: café ✓",
        "reject_threshold": 0.7,
        "model_dir": "models/run_001",
        "calibration_method": "temperature",
        "calibrator_store_dir": STORE,
        "model_label_set": list(EXAMPLE_LABELS),
        "model_schema_hash": EXAMPLE_SCHEMA_HASH,
        "source": "manual",
        "git_commit": "unknown",
        "created_at": "2026-02-01T10:00:00+00:00",
        "policy_version": "v1",
        **changes,
    }
    # Tabs, no final newline, non-ASCII as is: nothing like what taskclf itself writes.
    return json.dumps(document, indent="\t", ensure_ascii=False)


class TestSaved:
    """A valid edit replaces the live file with exactly the bytes the editor left."""

    def test_byte_for_byte(self, home: Path, policy: bytes, editor: Editor, snapshot: Any) -> None:
        text = _policy_text()
        editor.plan({"write": text})

        result = editor.edit(home)

        assert result.code == 0, result.stderr
        assert result.stderr == ""
        assert _live(home).read_bytes() == text.encode("utf-8")
        assert result.stdout.splitlines() == [
            "Saved models/inference_policy.json (2 fields changed):",
            '  + _note: "edited by hand: café ✓"',
            "  ~ reject_threshold: 0.62 -> 0.7",
        ]
        assert _seen(result, home) == snapshot
        assert editor.leftovers() == []
        resolved = run_cli("policy", "resolve", "--format", "json", cwd=home).json()["resolved"]
        assert (resolved["step"], resolved["reject_threshold"]) == ("policy", 0.7)

    def test_editor_gets_a_temporary_copy(self, home: Path, policy: bytes, editor: Editor) -> None:
        editor.plan({"update": {"reject_threshold": 0.7}})

        result = editor.edit(home)

        assert result.code == 0, result.stderr
        [run] = editor.runs()
        [copy] = run["argv"]
        assert Path(copy).name == POLICY_NAME
        assert Path(copy).parent.parent == editor.tmpdir
        assert run["seen"] == policy.decode("utf-8")
        # The live file is not touched while the editor is open.
        assert run["live"] == policy.decode("utf-8")

    def test_json(self, home: Path, policy: bytes, editor: Editor) -> None:
        editor.plan({"update": {"reject_threshold": 0.7, "_why": "fewer rejects"}})

        result = editor.edit(home, "--format", "json")

        assert result.code == 0, result.stderr
        # The summary goes to stderr, so stdout stays one JSON document.
        assert result.stderr.splitlines() == [
            "Saved models/inference_policy.json (2 fields changed):",
            '  + _why: "fewer rejects"',
            "  ~ reject_threshold: 0.62 -> 0.7",
        ]
        report = result.json()
        assert {key: report[key] for key in ("command", "ok", "written", "outcome")} == {
            "command": "policy edit",
            "ok": True,
            "written": True,
            "outcome": "saved",
        }
        assert report["policy_file"] == str(_live(home))
        assert report["seeded_from"] is None
        assert report["changes"] == [
            {"field": "_why", "old": None, "new": "fewer rejects"},
            {"field": "reject_threshold", "old": 0.62, "new": 0.7},
        ]
        assert report["policy"]["reject_threshold"] == 0.7
        assert report["policy"]["_why"] == "fewer rejects"

    def test_no_validate_disk_skips_disk_checks(
        self, home: Path, policy: bytes, editor: Editor
    ) -> None:
        # run_002 with run_001's calibrator store: valid JSON and schema, wrong on disk.
        editor.plan({"update": {"model_dir": "models/run_002"}})

        checked = editor.edit(home, input="n\n")
        unchecked = editor.edit(home, "--no-validate-disk")

        assert checked.code == 1
        assert (
            "models/inference_policy.json::/calibrator_store_dir: [store_bundle_matches] "
            "Calibrator store was fitted for another model bundle" in checked.stdout
        )
        assert unchecked.code == 0, unchecked.stderr
        assert unchecked.stdout.splitlines() == [
            "Saved models/inference_policy.json (1 field changed):",
            '  ~ model_dir: "models/run_001" -> "models/run_002"',
        ]
        assert _document(home)["model_dir"] == "models/run_002"


class TestNothingSaved:
    """Unchanged or emptied: exit 0, the live file untouched, no copy left behind."""

    def test_unchanged(self, home: Path, policy: bytes, editor: Editor) -> None:
        result = editor.edit(home)

        assert result.code == 0
        assert result.stdout == "No changes; models/inference_policy.json was not modified.\n"
        assert result.stderr == ""
        assert _live(home).read_bytes() == policy
        assert len(editor.runs()) == 1
        assert editor.leftovers() == []

    def test_emptied_by_a_shell_script(self, tmp_path: Path, home: Path, policy: bytes) -> None:
        emptier = _executable(tmp_path / "bin" / "empty it", '#!/bin/sh\n: > "$1"\n')
        tmpdir = tmp_path / "edit-tmp"
        tmpdir.mkdir()

        result = run_cli(
            "policy",
            "edit",
            cwd=home,
            env={"VISUAL": "", "EDITOR": shlex.quote(str(emptier)), "TMPDIR": str(tmpdir)},
        )

        assert result.code == 0
        assert result.stdout == (
            "Cancelled: the copy was emptied; models/inference_policy.json was not modified.\n"
        )
        assert _live(home).read_bytes() == policy
        assert list(tmpdir.iterdir()) == []

    def test_whitespace_only_counts_as_emptied(
        self, home: Path, policy: bytes, editor: Editor
    ) -> None:
        editor.plan({"write": "  \n\n"})

        result = editor.edit(home, "--format", "json")

        assert result.code == 0
        report = result.json()
        assert (report["ok"], report["written"], report["outcome"]) == (True, False, "cancelled")
        assert result.stderr.startswith("Cancelled: the copy was emptied")
        assert _live(home).read_bytes() == policy


class TestInvalidEdits:
    """An invalid copy is never saved: errors are shown, then re-open or abort."""

    def test_invalid_then_valid(
        self, home: Path, policy: bytes, editor: Editor, snapshot: Any
    ) -> None:
        editor.plan(
            {"update": {"reject_threshold": 1.5}},
            {"update": {"reject_threshold": 0.7}},
        )

        result = editor.edit(home, input="y\n")

        assert result.code == 0, result.stderr
        assert result.stdout.splitlines() == [
            "The edited policy is not valid (1 problem):",
            "  models/inference_policy.json::/reject_threshold: 1.5 is greater than the "
            "maximum of 1 (expected a probability between 0 and 1)",
            PROMPT + "Saved models/inference_policy.json (1 field changed):",
            "  ~ reject_threshold: 0.62 -> 0.7",
        ]
        first, second = editor.runs()
        # The same copy is re-opened, holding the invalid edit.
        assert second["argv"] == first["argv"]
        assert json.loads(second["seen"])["reject_threshold"] == 1.5
        assert _document(home)["reject_threshold"] == 0.7
        assert editor.leftovers() == []
        assert _seen(result, home) == snapshot

    @pytest.mark.parametrize("answer", ["\n", "yes\n", "Y\n"], ids=["enter", "yes", "Y"])
    def test_other_answers_that_reopen(
        self, home: Path, policy: bytes, editor: Editor, answer: str
    ) -> None:
        editor.plan({"write": "{ nope"}, {"write": _policy_text(source="tray-edit")})

        result = editor.edit(home, input=answer)

        assert result.code == 0, result.stdout
        assert len(editor.runs()) == 2
        assert _document(home)["source"] == "tray-edit"

    def test_abort_keeps_the_copy(
        self, home: Path, policy: bytes, editor: Editor, snapshot: Any
    ) -> None:
        editor.plan(
            {"update": {"reject_threshold": 1.5}},
            {"update": {"reject_threshold": 2}},
        )

        result = editor.edit(home, input="y\nn\n")

        assert result.code == 1
        assert result.stderr == ""
        assert result.stdout.count(PROMPT) == 2
        assert _live(home).read_bytes() == policy
        kept = _kept_copy(result.stdout)
        assert result.stdout.endswith(
            "Aborted: models/inference_policy.json was not modified.\n"
            f"Your edited copy is kept at {kept}\n"
        )
        assert kept.parent.parent == editor.tmpdir
        # The kept copy holds the last edit, made on top of the first one.
        assert json.loads(kept.read_text("utf-8"))["reject_threshold"] == 2
        assert json.loads(editor.runs()[1]["seen"])["reject_threshold"] == 1.5
        assert _seen(result, home) == snapshot

    def test_no_answer_aborts(self, home: Path, policy: bytes, editor: Editor) -> None:
        editor.plan({"update": {"reject_threshold": 1.5}})

        result = editor.edit(home)  # stdin is /dev/null: nobody to answer

        assert result.code == 1
        assert len(editor.runs()) == 1
        assert f"{PROMPT}\nAborted: " in result.stdout
        assert _live(home).read_bytes() == policy
        assert _kept_copy(result.stdout).exists()

    @pytest.mark.parametrize(
        ("step", "problems"),
        [
            pytest.param(
                {"write": "{ nope"},
                [
                    "models/inference_policy.json: is not valid JSON: Expecting property name "
                    "enclosed in double quotes at line 1 column 3"
                ],
                id="not-json",
            ),
            pytest.param(
                {"update": {"reject_threshold": "high", "colour": "blue"}},
                [
                    'models/inference_policy.json::/colour: unknown key "colour" (remove it, or '
                    "fix its spelling; known keys: policy_version, model_dir, model_schema_hash, "
                    "model_label_set, calibrator_store_dir, calibration_method, reject_threshold, "
                    "created_at, source, git_commit, per_user_reject_thresholds)",
                    'models/inference_policy.json::/reject_threshold: "high" is not of type '
                    "number (expected a probability between 0 and 1, such as 0.55)",
                ],
                id="schema",
            ),
            pytest.param(
                {"update": {"model_dir": "models/run_009"}},
                [
                    "models/inference_policy.json::/model_dir: [model_dir_exists] Model "
                    "directory does not exist: models/run_009 (expected a model bundle folder "
                    "at {home}/models/run_009, found nothing); point model_dir at an existing "
                    "bundle (models/<run_id>)",
                    "models/inference_policy.json::/calibrator_store_dir: [store_bundle_matches] "
                    'Calibrator store was fitted for another model bundle: store has "run_001", '
                    "policy's model_dir is models/run_009 "
                    "({home}/artifacts/calibrator_store/store.json); use the calibrator store "
                    "fitted for this model",
                ],
                id="disk",
            ),
        ],
    )
    def test_problems_are_listed(
        self,
        home: Path,
        policy: bytes,
        editor: Editor,
        step: dict[str, Any],
        problems: list[str],
    ) -> None:
        editor.plan(step)

        result = editor.edit(home, input="n\n")

        assert result.code == 1
        count = len(problems)
        lines = result.stdout.splitlines()
        assert lines[0] == (
            f"The edited policy is not valid ({count} problem{'s' if count > 1 else ''}):"
        )
        assert lines[1 : 1 + count] == [f"  {p.format(home=home)}" for p in problems]
        assert _live(home).read_bytes() == policy

    def test_disk_problems_name_the_field(self, home: Path, policy: bytes, editor: Editor) -> None:
        editor.plan({"update": {"model_dir": "models/run_009"}})

        result = editor.edit(home, input="n\n")

        assert result.code == 1
        assert "  models/inference_policy.json::/model_dir: " in result.stdout

    def test_abort_in_json_mode(self, home: Path, policy: bytes, editor: Editor) -> None:
        editor.plan({"update": {"reject_threshold": 1.5}})

        result = editor.edit(home, "--format", "json", input="n\n")

        assert result.code == 1
        report = result.json()
        assert (report["ok"], report["written"], report["outcome"]) == (False, False, "aborted")
        assert report["problems"] == [
            "models/inference_policy.json::/reject_threshold: 1.5 is greater than the maximum "
            "of 1 (expected a probability between 0 and 1)"
        ]
        assert Path(report["kept_copy"]).exists()
        # The same structure as policy validate's report, with where the problem is.
        (error,) = report["report"]["schema_errors"]
        assert (error["pointer"], error["keyword"]) == ("/reject_threshold", "maximum")
        kept = Path(report["kept_copy"]).read_text("utf-8").splitlines()
        assert kept[error["line"] - 1][error["column"] - 1 :].startswith('"reject_threshold"')
        # The conversation goes to stderr, so stdout stays one JSON document.
        assert PROMPT in result.stderr
        assert _live(home).read_bytes() == policy

    def test_live_file_changed_meanwhile_is_not_overwritten(
        self, home: Path, policy: bytes, editor: Editor
    ) -> None:
        other = _policy_text(source="someone-else")
        editor.plan({"update": {"reject_threshold": 0.7}, "live": other})

        result = editor.edit(home)

        assert result.code == 1
        assert result.stderr.startswith(
            "taskclf: error: models/inference_policy.json was changed by something else while "
            "you were editing; not overwriting it. Your edited copy is kept at "
        )
        assert _live(home).read_text("utf-8") == other
        assert json.loads(_kept_copy(result.stderr).read_text("utf-8"))["reject_threshold"] == 0.7

    @pytest.mark.parametrize(
        "broken",
        ['{"policy_version": "v1",\n', '{"policy_version": "v1"}\n'],
        ids=["json", "schema"],
    )
    def test_repairs_a_broken_policy(self, home: Path, editor: Editor, broken: str) -> None:
        _live(home).write_text(broken, encoding="utf-8")
        fixed = _policy_text()
        editor.plan({"write": fixed})

        result = editor.edit(home)

        assert "internal error" not in result.stderr
        assert result.code == 0
        assert _live(home).read_text("utf-8") == fixed


class TestEditorCommand:
    """$VISUAL, else $EDITOR, else vi; split like a shell would, run without one."""

    def test_visual_wins_over_editor(
        self, tmp_path: Path, home: Path, policy: bytes, editor: Editor
    ) -> None:
        refuses = _executable(tmp_path / "bin" / "refuses", "#!/bin/sh\nexit 7\n")
        editor.plan({"update": {"reject_threshold": 0.7}})

        result = editor.edit(
            home, VISUAL=shlex.quote(str(editor.script)), EDITOR=shlex.quote(str(refuses))
        )

        assert result.code == 0, result.stderr
        assert len(editor.runs()) == 1
        assert _document(home)["reject_threshold"] == 0.7

    def test_vi_without_visual_or_editor(
        self, tmp_path: Path, home: Path, policy: bytes, editor: Editor
    ) -> None:
        vi = tmp_path / "bin" / "vi"
        _executable(vi, editor.script.read_text("utf-8"))
        editor.plan({"update": {"reject_threshold": 0.7}})
        path = f"{vi.parent}{os.pathsep}{os.environ.get('PATH', '')}"

        result = editor.edit(home, EDITOR="", PATH=path)

        assert result.code == 0, result.stderr
        assert len(editor.runs()) == 1
        assert _document(home)["reject_threshold"] == 0.7

    def test_command_with_arguments_runs_without_a_shell(
        self, tmp_path: Path, home: Path, policy: bytes, editor: Editor
    ) -> None:
        marker = tmp_path / "a shell ran this"
        command = (
            f"{shlex.quote(sys.executable)} {shlex.quote(str(editor.script))} --flag "
            f"'two words' ; touch {shlex.quote(str(marker))}"
        )
        editor.plan({"update": {"reject_threshold": 0.7}})

        result = editor.edit(home, EDITOR=command)

        assert result.code == 0, result.stderr
        [run] = editor.runs()
        assert run["argv"][:-1] == ["--flag", "two words", ";", "touch", str(marker)]
        assert Path(run["argv"][-1]).name == POLICY_NAME
        assert not marker.exists()
        assert _document(home)["reject_threshold"] == 0.7

    def test_missing_editor(
        self, tmp_path: Path, home: Path, policy: bytes, editor: Editor, snapshot: Any
    ) -> None:
        missing = tmp_path / "bin" / "no-such-editor"

        result = editor.edit(home, EDITOR=str(missing))

        assert result.code == 1
        assert result.stdout == ""
        assert result.stderr.startswith(
            f"taskclf: error: cannot start the editor '{missing}' (No such file or directory); "
            "set $VISUAL or $EDITOR to your editor; the policy was not modified"
        )
        assert "Traceback" not in result.stderr
        assert _live(home).read_bytes() == policy
        assert _seen(result, home) == snapshot

    def test_editor_failing_saves_nothing(self, home: Path, policy: bytes, editor: Editor) -> None:
        # A valid change, but the editor reports failure: the change is not trusted.
        editor.plan({"update": {"reject_threshold": 0.7}, "exit": 3})

        result = editor.edit(home)

        assert result.code == 1
        assert result.stdout == ""
        assert result.stderr.startswith(
            f"taskclf: error: the editor '{editor.script}' exited with status 3; the policy was "
            "not modified. Your copy is kept at "
        )
        assert _live(home).read_bytes() == policy
        assert json.loads(_kept_copy(result.stderr).read_text("utf-8"))["reject_threshold"] == 0.7

    def test_unparsable_editor_command(self, home: Path, policy: bytes, editor: Editor) -> None:
        result = editor.edit(home, EDITOR='"unclosed')

        assert result.code == 1
        assert result.stderr == (
            "taskclf: error: cannot parse the editor command '\"unclosed' ($VISUAL or $EDITOR): "
            "No closing quotation; nothing was written\n"
        )
        assert _live(home).read_bytes() == policy

    def test_unparsable_editor_command_leaves_nothing_behind(
        self, home: Path, policy: bytes, editor: Editor
    ) -> None:
        result = editor.edit(home, EDITOR='"unclosed')

        assert result.code == 1
        assert editor.leftovers() == []


def _seeded(home: Path) -> dict[str, Any]:
    """The seeded policy without its clock- and checkout-dependent fields."""
    document = _document(home)
    assert document.pop("created_at")
    assert document.pop("git_commit")
    return document


class TestSeeding:
    """Without a policy, one is seeded from the bundle inference would use, then edited."""

    def test_from_best_model(self, home: Path, editor: Editor, snapshot: Any) -> None:
        result = editor.edit(home)

        assert result.code == 0, result.stderr
        assert result.stdout.splitlines() == [
            "Seeded models/inference_policy.json from models/run_001 (best-model resolution; "
            "artifacts/calibrator_store; reject_threshold 0.6).",
            "No changes to the seeded policy; models/inference_policy.json keeps it.",
        ]
        assert _seeded(home) == {
            "policy_version": "v1",
            "model_dir": "models/run_001",
            "model_schema_hash": EXAMPLE_SCHEMA_HASH,
            "model_label_set": sorted(EXAMPLE_LABELS),
            "calibrator_store_dir": STORE,
            "calibration_method": "temperature",
            "reject_threshold": 0.6,  # the bundle's advisory value
            "source": "edit",
            "per_user_reject_thresholds": None,
        }
        # Only a copy while the editor ran (an aborted edit leaves the home as it was);
        # written when the editor exited successfully, as the editor was given it.
        [run] = editor.runs()
        assert run["live"] is None
        assert run["seen"] == _live(home).read_text("utf-8")
        assert _seen(result, home) == snapshot
        resolved = run_cli("policy", "resolve", "--format", "json", cwd=home).json()["resolved"]
        assert (resolved["step"], resolved["calibrator_store_dir"]) == ("policy", STORE)

    def test_from_active_json(
        self, home: Path, editor: Editor, write_active: Callable[..., Path]
    ) -> None:
        write_active(home / "models", "models/run_002")

        result = editor.edit(home)

        assert result.code == 0, result.stderr
        assert result.stdout.splitlines()[0] == (
            "Seeded models/inference_policy.json from models/run_002 (active resolution; "
            "no calibrator store; reject_threshold 0.55)."
        )
        document = _seeded(home)
        assert document["model_dir"] == "models/run_002"
        # No advisory threshold in run_002: the schema default. The example store is
        # bound to run_001, so none fits.
        assert document["reject_threshold"] == 0.55
        assert (document["calibrator_store_dir"], document["calibration_method"]) == (None, None)

    def test_model_dir_wins_and_the_seed_is_then_edited(
        self, home: Path, editor: Editor, write_active: Callable[..., Path]
    ) -> None:
        write_active(home / "models", "models/run_002")
        editor.plan({"update": {"reject_threshold": 0.65}})

        result = editor.edit(home, "--model-dir", "models/run_001", "--format", "json")

        assert result.code == 0, result.stderr
        assert result.stderr.splitlines() == [
            "Seeded models/inference_policy.json from models/run_001 (--model-dir; "
            "artifacts/calibrator_store; reject_threshold 0.6).",
            "Saved models/inference_policy.json (1 field changed):",
            "  ~ reject_threshold: 0.6 -> 0.65",
        ]
        report = result.json()
        assert report["seeded_from"] == "models/run_001"
        assert report["changes"] == [{"field": "reject_threshold", "old": 0.6, "new": 0.65}]
        assert _seeded(home)["reject_threshold"] == 0.65

    @pytest.mark.parametrize(
        ("stores", "chosen"),
        [
            pytest.param(
                {
                    STORE: {"model_schema_hash": EXAMPLE_SCHEMA_HASH, "created_at": "2026-03-01"},
                    "artifacts/by_id": {"model_bundle_id": "run_002", "created_at": "2026-01-01"},
                },
                "artifacts/by_id",
                id="bundle-id-beats-schema-hash",
            ),
            pytest.param(
                {
                    "artifacts/a_id": {"model_bundle_id": "run_002", "created_at": "2026-03-01"},
                    "artifacts/b_both": {
                        "model_bundle_id": "run_002",
                        "model_schema_hash": EXAMPLE_SCHEMA_HASH,
                        "created_at": "2026-01-01",
                    },
                },
                "artifacts/b_both",
                id="both-beat-bundle-id-alone",
            ),
            pytest.param(
                {
                    STORE: {"model_schema_hash": EXAMPLE_SCHEMA_HASH, "created_at": "2026-01-01"},
                    "artifacts/newer": {
                        "model_schema_hash": EXAMPLE_SCHEMA_HASH,
                        "created_at": "2026-03-01",
                    },
                },
                STORE,
                id="conventional-beats-newer",
            ),
            pytest.param(
                {
                    "artifacts/a_old": {
                        "model_schema_hash": EXAMPLE_SCHEMA_HASH,
                        "created_at": "2026-01-01",
                    },
                    "artifacts/b_new": {
                        "model_schema_hash": EXAMPLE_SCHEMA_HASH,
                        "created_at": "2026-03-01",
                    },
                },
                "artifacts/b_new",
                id="newest-created-at",
            ),
            pytest.param(
                {"artifacts/deep/er/store": {"model_bundle_id": "run_002"}},
                "artifacts/deep/er/store",
                id="found-below-artifacts",
            ),
            pytest.param(
                {
                    "artifacts/other_hash": {"model_schema_hash": "0000"},
                    "artifacts/unbound": {},
                    "artifacts/conflict": {
                        "model_bundle_id": "run_002",
                        "model_schema_hash": "0000",
                    },
                },
                None,
                id="unbound-or-conflicting-skipped",
            ),
        ],
    )
    def test_store_choice(
        self, home: Path, editor: Editor, stores: dict[str, dict[str, Any]], chosen: str | None
    ) -> None:
        # The example store stays bound to run_001 unless a case replaces it.
        for folder, binding in stores.items():
            created = binding.get("created_at")
            if created:
                binding = {**binding, "created_at": f"{created}T00:00:00+00:00"}
            make_store(home / folder, {"method": "isotonic", **binding})

        result = editor.edit(home, "--model-dir", "models/run_002")

        assert result.code == 0, result.stderr
        document = _seeded(home)
        assert document["calibrator_store_dir"] == chosen
        assert document["calibration_method"] == ("isotonic" if chosen else None)
        assert f"; {chosen or 'no calibrator store'}; " in result.stdout.splitlines()[0]

    def test_store_failing_disk_checks_is_dropped(
        self, tmp_path: Path, home: Path, editor: Editor
    ) -> None:
        # The conventional store folder links out of TASKCLF_HOME and its store.json links
        # back in: the store search accepts the file, the disk checks refuse the folder.
        conventional = home / STORE
        kept = home / "artifacts" / "run_001_store.json"
        (conventional / "store.json").rename(kept)
        shutil.rmtree(conventional)  # its global.json and users/ go too
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "store.json").symlink_to(kept)
        conventional.symlink_to(outside)

        result = editor.edit(home)

        assert result.code == 0, result.stderr
        assert result.stdout.splitlines()[0] == (
            "Seeded models/inference_policy.json from models/run_001 (best-model resolution; "
            "no calibrator store; reject_threshold 0.6)."
        )
        document = _seeded(home)
        assert (document["calibrator_store_dir"], document["calibration_method"]) == (None, None)
        assert document["reject_threshold"] == 0.6

    def test_store_a_policy_cannot_name_is_dropped(self, home: Path, editor: Editor) -> None:
        write_json(
            home / "artifacts" / "back\\slash" / "store.json",
            {"method": "isotonic", "model_bundle_id": "run_002"},
        )

        result = editor.edit(home, "--model-dir", "models/run_002")

        assert "internal error" not in result.stderr
        assert result.code == 0
        assert _seeded(home)["calibrator_store_dir"] is None

    def test_nothing_to_seed_from(
        self, bare_home: Path, editor: Editor, make_bundle: Callable[..., Path], snapshot: Any
    ) -> None:
        make_bundle(bare_home / "models", "run_001")  # metadata.json but no metrics.json
        before = tree_bytes(bare_home)

        result = editor.edit(bare_home)

        assert result.code == 1
        assert result.stdout == ""
        stderr = result.stderr
        assert stderr.startswith(
            "taskclf: error: there is no policy at models/inference_policy.json and no model "
            "bundle to seed one from, so nothing was written.\n"
        )
        assert "  models/run_001: models/run_001/metrics.json does not exist\n" in stderr
        assert "`taskclf policy create --model-dir models/<run_id>`" in stderr
        assert tree_bytes(bare_home) == before
        assert editor.runs() == []
        assert editor.leftovers() == []
        assert _seen(result, bare_home) == snapshot

    def test_nothing_to_seed_from_json(self, bare_home: Path, editor: Editor) -> None:
        result = editor.edit(bare_home, "--format", "json")

        assert result.code == 1
        assert result.stderr == ""
        report = result.json()
        assert report["ok"] is False
        assert "taskclf policy create --model-dir models/<run_id>" in report["error"]["message"]
        trail = report["error"]["details"]["resolution"]["trail"]
        assert trail[-1]["code"] == "no-bundle"
        assert not _live(bare_home).exists()

    def test_missing_model_dir(self, home: Path, editor: Editor) -> None:
        before = tree_bytes(home)

        result = editor.edit(home, "--model-dir", "models/nope")

        assert result.code == 1
        assert "models/nope does not exist" in result.stderr
        assert tree_bytes(home) == before
        assert editor.runs() == []

    def test_model_dir_with_an_existing_policy_is_not_ignored_silently(
        self, home: Path, policy: bytes, editor: Editor
    ) -> None:
        result = editor.edit(home, "--model-dir", "models/nope")

        assert "--model-dir" in result.stdout + result.stderr


def test_normalised_output_has_no_temporary_names(tmp_path: Path) -> None:
    # _seen() must hide the random part of the temporary folder, and only that.
    home = tmp_path / "home"
    text = f"kept at {tmp_path}/edit-tmp/taskclf-edit-ab_c123/inference_policy.json\n"
    seen = _seen(Result(text, "", 1), home)

    assert seen["stdout"] == "kept at <TMP>/edit-tmp/taskclf-edit-<ID>/inference_policy.json\n"
    assert normalise(text, home) != seen["stdout"]
