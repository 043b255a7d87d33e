"""Issue 8, finding 2: a path component over 255 bytes is a disk-check failure, not OSError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from door_support import assert_clean, run_taskclf
from taskclf.core.inference_policy import InferencePolicy, check_policy_artifacts
from taskclf.infer.reloader import InferencePolicyReloader
from taskclf.infer.resolve import resolve_inference_config

from conftest import write_json

LONG = "a" * 300
FIELDS = ["model_dir", "calibrator_store_dir"]


def _long(field: str) -> str:
    return f"models/{LONG}" if field == "model_dir" else f"artifacts/{LONG}"


def _write(models: Path, document: dict[str, Any], field: str) -> Path:
    return write_json(models / "inference_policy.json", {**document, field: _long(field)})


@pytest.mark.parametrize("field", FIELDS)
class TestLongComponentInLibrary:
    """Library calls report a too-long component as a failed check and fall back."""

    def test_disk_check_failure_says_too_long(
        self, models_dir: Path, policy_document: dict[str, Any], field: str
    ) -> None:
        policy = InferencePolicy.from_dict({**policy_document, field: _long(field)})
        failures = check_policy_artifacts(policy, models_dir)
        assert failures
        assert any("too long" in failure.message for failure in failures)

    def test_resolve_falls_back_with_the_reason(
        self, models_dir: Path, policy_document: dict[str, Any], field: str
    ) -> None:
        _write(models_dir, policy_document, field)
        config = resolve_inference_config(models_dir)
        assert config.step != "policy"
        policy_entries = [entry for entry in config.trail if entry.step == "policy"]
        assert policy_entries
        assert "too long" in policy_entries[0].reason

    def test_reloader_keeps_the_last_good_config(
        self, models_dir: Path, policy_document: dict[str, Any], field: str
    ) -> None:
        write_json(models_dir / "inference_policy.json", policy_document)
        reloader = InferencePolicyReloader(
            models_dir, check_interval_s=0, content_check_interval_s=0
        )
        good = reloader.config
        _write(models_dir, policy_document, field)
        assert reloader.check_reload(force=True) is None
        assert reloader.config == good
        assert reloader.failure is not None
        assert "too long" in reloader.failure


@pytest.mark.parametrize("field", FIELDS)
class TestLongComponentInCli:
    """show/validate exit 1 with the reason; resolve falls back and exits 0."""

    @pytest.mark.parametrize("command", ["show", "validate"])
    def test_show_validate(
        self, home: Path, policy_document: dict[str, Any], field: str, command: str
    ) -> None:
        _write(home / "models", policy_document, field)
        result = run_taskclf("policy", command, cwd=home)
        assert_clean(result)
        assert result.code == 1
        # Reported as a failed disk check of the policy file, not as an aborted command.
        [line] = [line for line in result.stdout.splitlines() if "too long" in line]
        assert "inference_policy.json" in line
        if command == "show":
            assert "inference uses models/run_001 via best-model selection" in result.stdout

    def test_resolve(self, home: Path, policy_document: dict[str, Any], field: str) -> None:
        _write(home / "models", policy_document, field)
        result = run_taskclf("policy", "resolve", "--explain", cwd=home)
        assert_clean(result)
        assert result.code == 0
        assert "best-model" in result.stdout
        assert "too long" in result.stdout
