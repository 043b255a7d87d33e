"""``--format json`` answers in JSON even when the command line itself is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_cli_support import run_cli


class TestUsageErrorsAsJson:
    """A usage error with --format json is one JSON object on stdout and exit code 2."""

    @pytest.mark.parametrize(
        ("args", "command", "words"),
        [
            (["policy", "create", "--format", "json"], "policy create", "--model-dir"),
            (["policy", "validate", "--format=json", "--bogus"], "taskclf", "--bogus"),
            (
                [
                    "policy",
                    "create",
                    "--model-dir",
                    "m",
                    "--reject-threshold",
                    "2",
                    "--format",
                    "json",
                ],
                "policy create",
                "--reject-threshold",
            ),
            (["model", "list", "--format", "json", "--schema-hash"], "model list", "expected"),
        ],
    )
    def test_json_object(self, home: Path, args: list[str], command: str, words: str) -> None:
        result = run_cli(*args, cwd=home)
        assert result.code == 2
        assert result.stderr == ""
        report = result.json()
        assert report["command"] == command and report["ok"] is False
        assert report["error"]["kind"] == "usage"
        assert words in report["error"]["message"]
        assert report["error"]["usage"].startswith("usage: taskclf")

    def test_text_mode_is_argparse_as_usual(self, home: Path) -> None:
        result = run_cli("policy", "create", cwd=home)
        assert result.code == 2 and result.stdout == ""
        assert result.stderr.startswith("usage: taskclf policy create")
        assert result.stderr.rstrip().endswith(
            "taskclf policy create: error: the following arguments are required: --model-dir"
        )


class TestEnvelope:
    """``policy template`` and ``policy schema`` answer in the same envelope as every command."""

    def test_template(self, tmp_path: Path) -> None:
        result = run_cli("policy", "template", "--format", "json", cwd=tmp_path)
        report = result.json()
        assert (report["command"], report["ok"], report["written"]) == (
            "policy template",
            True,
            False,
        )
        text = run_cli("policy", "template", cwd=tmp_path).stdout
        assert report["template"] == json.loads(text)

    def test_schema_and_list(self, tmp_path: Path) -> None:
        report = run_cli(
            "policy", "schema", "score_row.v1", "--format", "json", cwd=tmp_path
        ).json()
        assert (report["command"], report["name"], report["bundled"]) == (
            "policy schema",
            "score_row.v1",
            False,
        )
        assert report["schema"]["$id"].endswith("score_row.v1.json")
        names = run_cli("policy", "schema", "--list", "--format", "json", cwd=tmp_path).json()
        assert "inference_policy.v1" in names["names"]
