"""The pre-commit hook in .pre-commit-hooks.yaml, run the way pre-commit runs it."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT, console_script, write_json


def _hook() -> dict[str, object]:
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "taskclf-policy"]
    return dict(hook)


def _run_hook(repo: Path, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Select staged-like files with the hook's `files` regex and run its entry on them.

    ``args`` are the hook's ``args:`` from a user's config: pre-commit puts them
    between the entry and the file names.
    """
    hook = _hook()
    pattern = re.compile(str(hook["files"]))
    candidates = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file())
    selected = [name for name in candidates if pattern.search(name)]
    command = shlex.split(str(hook["entry"]))
    # pre-commit installs the hook's package into its own environment and runs the entry's
    # console script from there; here that environment is the one running the tests.
    script = console_script(command[0])
    return subprocess.run(
        [str(script), *command[1:], *args, *selected],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


class TestPreCommitHook:
    """The hook validates committed policies (schema only) and fails on a bad one."""

    def test_hook_definition(self) -> None:
        hook = _hook()
        assert hook["language"] == "python"
        assert "--no-disk-checks" in str(hook["entry"])
        pattern = re.compile(str(hook["files"]))
        assert pattern.search("models/inference_policy.json")
        assert pattern.search("inference_policy.json")
        assert pattern.search("configs/inference_policy.template.json")
        assert not pattern.search("models/run_001/metadata.json")
        assert not pattern.search("models/old_inference_policy.json")

    def test_valid_policies_pass_without_their_bundles(self, tmp_path: Path) -> None:
        shutil.copy(
            REPO_ROOT / "configs" / "inference_policy.template.json",
            tmp_path / "inference_policy.template.json",
        )
        write_json(
            tmp_path / "deploy" / "models" / "inference_policy.json",
            {
                "model_dir": "models/run_404",
                "model_schema_hash": "abc",
                "model_label_set": ["a", "b"],
                "reject_threshold": 0.5,
            },
        )
        (tmp_path / "notes.json").write_text("not json at all", encoding="utf-8")
        result = _run_hook(tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "2 files checked: 2 valid, 0 invalid." in result.stdout

    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            (
                {
                    "model_dir": "m",
                    "model_schema_hash": "h",
                    "model_label_set": ["a"],
                    "reject_threshold": 1.5,
                },
                "::/reject_threshold: 1.5 is greater than the maximum of 1",
            ),
            (
                {
                    "model_dir": "m",
                    "model_schema_hash": "h",
                    "model_label_set": ["a"],
                    "reject_treshold": 0.5,
                },
                '::/reject_treshold: unknown key "reject_treshold"',
            ),
        ],
    )
    def test_invalid_policy_fails_the_commit(
        self, tmp_path: Path, content: dict[str, object], expected: str
    ) -> None:
        write_json(tmp_path / "models" / "inference_policy.json", content)
        result = _run_hook(tmp_path)
        assert result.returncode == 1
        assert "models/inference_policy.json" + expected in result.stdout
        assert "Traceback" not in result.stderr

    def test_unparsable_policy_fails_the_commit(self, tmp_path: Path) -> None:
        path = tmp_path / "models" / "inference_policy.json"
        path.parent.mkdir()
        path.write_text('{"model_dir": "m",', encoding="utf-8")
        result = _run_hook(tmp_path)
        assert result.returncode == 1
        assert "models/inference_policy.json: is not valid JSON" in result.stdout

    def test_github_annotations_through_hook_args(self, tmp_path: Path) -> None:
        path = write_json(
            tmp_path / "models" / "inference_policy.json",
            {"model_dir": "m", "model_schema_hash": "h", "model_label_set": ["a"],
             "reject_threshold": 1.5},
        )  # fmt: skip
        result = _run_hook(tmp_path, ("--format", "github"))
        assert result.returncode == 1
        (annotation,) = [line for line in result.stdout.splitlines() if line.startswith("::")]
        found = re.match(
            r"::error file=models/inference_policy\.json,line=(\d+),col=(\d+),", annotation
        )
        assert found, annotation
        line, column = int(found[1]), int(found[2])
        assert (
            path.read_text().splitlines()[line - 1][column - 1 :].startswith('"reject_threshold"')
        )
