"""Issue 8, finding 1: documents nested too deeply (64 levels at most), read and written."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from door_support import (
    assert_clean,
    deep_text,
    deep_value,
    policy_text_with,
    run_taskclf,
    write_raw,
)
from taskclf.core.errors import PolicyFileError, PolicyValidationError
from taskclf.core.inference_policy import (
    InferencePolicy,
    load_inference_policy,
    read_inference_policy,
    save_inference_policy,
)
from taskclf.core.jsonio import JSONFileError, parse_json_bytes
from taskclf.infer.reloader import InferencePolicyReloader
from taskclf.model_registry import select_best_model

from conftest import write_json

NESTED = "nested more than 64 levels deep"
RUN_001 = ("--model-dir", "models/run_001")


def _deep_policy(models: Path, document: dict[str, Any], depth: int = 500) -> Path:
    return write_raw(
        models / "inference_policy.json", policy_text_with(document, [("_notes", deep_text(depth))])
    )


class TestStrictReaderDepth:
    """The strict JSON reader accepts 64 levels of arrays/objects and refuses 65 or more."""

    def test_64_levels_are_read(self) -> None:
        assert parse_json_bytes(deep_text(64).encode(), source="doc.json") == deep_value(64)

    @pytest.mark.parametrize("depth", [65, 500, 5000])
    def test_deeper_is_refused_with_the_reason(self, depth: int) -> None:
        with pytest.raises(JSONFileError) as caught:
            parse_json_bytes(deep_text(depth).encode(), source="doc.json")
        assert NESTED in caught.value.reason
        assert "doc.json" in str(caught.value)


class TestDeepPolicyFile:
    """A policy whose _notes are nested 500 deep is an invalid file, never an exception."""

    def test_load_returns_none_with_one_warning(
        self, models_dir: Path, policy_document: dict[str, Any], caplog: pytest.LogCaptureFixture
    ) -> None:
        _deep_policy(models_dir, policy_document)
        with caplog.at_level(logging.WARNING, logger="taskclf"):
            assert load_inference_policy(models_dir) is None
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert NESTED in warnings[0].getMessage()

    def test_read_raises_policy_file_error(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        path = _deep_policy(models_dir, policy_document)
        with pytest.raises(PolicyFileError) as caught:
            read_inference_policy(path)
        assert NESTED in caught.value.reason

    def test_reloader_keeps_the_last_good_config(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        write_json(models_dir / "inference_policy.json", policy_document)
        reloader = InferencePolicyReloader(
            models_dir, check_interval_s=0, content_check_interval_s=0
        )
        good = reloader.config
        assert good.step == "policy"
        _deep_policy(models_dir, {**policy_document, "reject_threshold": 0.9})
        assert reloader.check_reload(force=True) is None
        assert reloader.config == good
        assert reloader.failure is not None
        assert NESTED in reloader.failure

    @pytest.mark.parametrize("command", ["show", "validate"])
    def test_show_and_validate_report_the_file(
        self, home: Path, policy_document: dict[str, Any], command: str
    ) -> None:
        _deep_policy(home / "models", policy_document)
        result = run_taskclf("policy", command, cwd=home)
        assert_clean(result)
        assert result.code == 1
        assert "inference_policy.json" in result.stdout + result.stderr
        assert NESTED in result.stdout + result.stderr

    def test_create_replaces_the_deep_file(
        self, home: Path, policy_document: dict[str, Any]
    ) -> None:
        _deep_policy(home / "models", policy_document)
        result = run_taskclf("policy", "create", *RUN_001, cwd=home)
        assert_clean(result)
        assert result.code == 0
        written = json.loads((home / "models" / "inference_policy.json").read_text())
        assert "_notes" not in written
        assert written["model_dir"] == "models/run_001"


@pytest.fixture
def deep_extra() -> str:
    return deep_text(500)


class TestDeepBundleFiles:
    """A deep extra key in metadata.json / metrics.json makes only that bundle invalid."""

    @pytest.mark.parametrize("filename", ["metadata.json", "metrics.json"])
    def test_model_list_shows_the_bundle_as_invalid(
        self, home: Path, filename: str, deep_extra: str
    ) -> None:
        path = home / "models" / "run_001" / filename
        document = json.loads(path.read_text())
        write_raw(path, policy_text_with(document, [("extra", deep_extra)]))
        result = run_taskclf("model", "list", cwd=home)
        assert_clean(result)
        assert result.code == 0
        assert "run_002" in result.stdout
        line = next(line for line in result.stdout.splitlines() if "run_001" in line)
        assert NESTED in line or NESTED in result.stdout

    @pytest.mark.parametrize("filename", ["metadata.json", "metrics.json"])
    def test_best_model_selection_skips_it(
        self, models_dir: Path, filename: str, deep_extra: str
    ) -> None:
        path = models_dir / "run_001" / filename
        document = json.loads(path.read_text())
        write_raw(path, policy_text_with(document, [("extra", deep_extra)]))
        report = select_best_model(models_dir)
        assert report.best is not None
        assert report.best.bundle_id == "run_002"
        [excluded] = [e for e in report.excluded if e.bundle.bundle_id == "run_001"]
        assert NESTED in str(excluded)


class TestDeepActivePointer:
    """A deep active.json is reported, and set-active replaces it."""

    @pytest.fixture
    def deep_active(self, models_dir: Path, deep_extra: str) -> Path:
        document = {
            "model_dir": "models/run_002",
            "selected_at": "2026-01-31T12:00:00+00:00",
            "policy_version": "v1",
        }
        return write_raw(
            models_dir / "active.json", policy_text_with(document, [("x", deep_extra)])
        )

    def test_model_list_still_works(self, home: Path, deep_active: Path) -> None:
        result = run_taskclf("model", "list", cwd=home)
        assert_clean(result)
        assert result.code == 0
        assert "run_001" in result.stdout

    def test_set_active_repairs_it(self, home: Path, deep_active: Path) -> None:
        result = run_taskclf("model", "set-active", *RUN_001, cwd=home)
        assert_clean(result)
        assert result.code == 0
        repaired = json.loads(deep_active.read_text())
        assert repaired["model_dir"] == "models/run_001"
        assert "x" not in repaired

    def test_resolve_falls_back(self, home: Path, deep_active: Path) -> None:
        result = run_taskclf("policy", "resolve", "--explain", cwd=home)
        assert_clean(result)
        assert result.code == 0
        assert "best-model" in result.stdout


class TestWritingDeepIsRefused:
    """A document nested deeper than 64 levels is never written; the old file stays."""

    def test_save_with_a_deep_note(self, models_dir: Path, policy_document: dict[str, Any]) -> None:
        live = write_json(models_dir / "inference_policy.json", policy_document)
        before = live.read_bytes()
        fields = {k: v for k, v in policy_document.items() if k != "model_label_set"}
        fields["model_label_set"] = tuple(policy_document["model_label_set"])

        def attempt() -> None:
            policy = InferencePolicy(**fields, annotations={"_notes": deep_value(100)})
            save_inference_policy(policy, models_dir)

        with pytest.raises((PolicyValidationError, ValueError)) as caught:
            attempt()
        assert "nested" in str(caught.value)
        assert live.read_bytes() == before
        assert sorted(p.name for p in models_dir.iterdir()) == sorted(
            ["inference_policy.json", "run_001", "run_002"]
        )
