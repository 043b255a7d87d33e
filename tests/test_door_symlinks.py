"""Issue 8, finding 6: symlinks below TASKCLF_HOME that lead outside it are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from door_support import assert_clean, run_taskclf
from test_cli_support import tree_bytes

from conftest import write_json

OUTSIDE = "outside TASKCLF_HOME"
SECRET = "OUTSIDE_SECRET"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


class TestSymlinkedPolicyFile:
    """models/inference_policy.json as a symlink to a file outside the home is refused."""

    @pytest.fixture
    def linked(self, home: Path, outside: Path, policy_document: dict[str, Any]) -> Path:
        target = write_json(
            outside / "policy.json",
            {**policy_document, "source": f"{SECRET}_SOURCE", "_note": f"{SECRET}_NOTE"},
        )
        (home / "models" / "inference_policy.json").symlink_to(target)
        return target

    @pytest.mark.parametrize("fmt", ["text", "json"])
    def test_validate_refuses(self, home: Path, linked: Path, fmt: str) -> None:
        result = run_taskclf("policy", "validate", "--format", fmt, cwd=home)
        assert_clean(result)
        assert result.code == 1
        assert OUTSIDE in result.stdout + result.stderr
        assert SECRET not in result.stdout + result.stderr

    def test_show_does_not_echo_outside_values(self, home: Path, linked: Path) -> None:
        result = run_taskclf("policy", "show", cwd=home)
        assert_clean(result)
        assert result.code == 1
        assert OUTSIDE in result.stdout + result.stderr
        assert SECRET not in result.stdout + result.stderr

    def test_resolve_skips_it(self, home: Path, linked: Path) -> None:
        result = run_taskclf("policy", "resolve", "--explain", "--format", "json", cwd=home)
        assert_clean(result)
        assert result.code == 0
        assert result.json()["resolved"]["step"] == "best-model"
        assert SECRET not in result.stdout + result.stderr


class TestSymlinkedActivePointer:
    """models/active.json as a symlink to a file outside the home is refused, not echoed."""

    @pytest.fixture
    def linked(self, home: Path, outside: Path) -> Path:
        target = write_json(
            outside / "active.json",
            {
                "model_dir": "models/run_002",
                "selected_at": "2026-01-31T12:00:00+00:00",
                "policy_version": "v1",
                "reason": f"{SECRET}_REASON",
            },
        )
        (home / "models" / "active.json").symlink_to(target)
        return target

    @pytest.mark.parametrize("fmt", ["text", "json"])
    def test_resolve_refuses_it(self, home: Path, linked: Path, fmt: str) -> None:
        result = run_taskclf("policy", "resolve", "--explain", "--format", fmt, cwd=home)
        assert_clean(result)
        assert result.code == 0
        assert OUTSIDE in result.stdout
        assert SECRET not in result.stdout + result.stderr
        if fmt == "json":
            assert result.json()["resolved"]["step"] == "best-model"
        else:
            assert "resolved by       best-model" in result.stdout

    def test_model_list_does_not_echo_it(self, home: Path, linked: Path) -> None:
        result = run_taskclf("model", "list", cwd=home)
        assert_clean(result)
        assert result.code == 0
        assert SECRET not in result.stdout + result.stderr
        assert OUTSIDE in result.stdout + result.stderr


class TestSymlinkedModelsFolder:
    """models/ itself a symlink to a folder outside: nothing is written or deleted there."""

    @pytest.fixture
    def linked_models(self, tmp_path: Path, outside: Path) -> Path:
        home = tmp_path / "lhome"
        home.mkdir()
        (home / "models").symlink_to(outside, target_is_directory=True)
        return home

    def test_init_refuses(self, linked_models: Path, outside: Path) -> None:
        before = tree_bytes(outside)
        result = run_taskclf("policy", "init", cwd=linked_models)
        assert_clean(result)
        assert result.code == 1
        assert OUTSIDE in result.stderr + result.stdout
        assert tree_bytes(outside) == before

    def test_remove_refuses(
        self, linked_models: Path, outside: Path, policy_document: dict[str, Any]
    ) -> None:
        victim = write_json(outside / "inference_policy.json", policy_document)
        before = tree_bytes(outside)
        result = run_taskclf("policy", "remove", "--yes", cwd=linked_models)
        assert_clean(result)
        assert result.code == 1
        assert OUTSIDE in result.stderr + result.stdout
        assert victim.is_file()
        assert tree_bytes(outside) == before

    def test_home_itself_may_be_a_symlink(self, home: Path, tmp_path: Path) -> None:
        """TASKCLF_HOME is resolved once, so a symlinked home works as the real one."""
        link = tmp_path / "home-link"
        link.symlink_to(home, target_is_directory=True)
        result = run_taskclf("policy", "create", "--model-dir", "models/run_001", cwd=link)
        assert_clean(result)
        assert result.code == 0
        written = json.loads((home / "models" / "inference_policy.json").read_text())
        assert written["model_dir"] == "models/run_001"
