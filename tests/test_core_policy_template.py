"""Tests for :mod:`taskclf.core.policy_template`: the starter policy users see."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from taskclf.core.inference_policy import (
    load_inference_policy,
    policy_path,
    render_default_inference_policy_template_json,
    save_inference_policy,
    validate_policy_document,
    write_inference_policy_starter_template,
)

from conftest import REPO_ROOT, policy_schema_from_file

CHECKED_IN = REPO_ROOT / "configs" / "inference_policy.template.json"


class JSONTextExtension(SingleFileSnapshotExtension):
    """Stores the snapshot as the very JSON text, one reviewable ``.json`` file per test."""

    _write_mode = WriteMode.TEXT
    file_extension = "json"


@pytest.fixture
def text_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONTextExtension)


class TestRenderedTemplate:
    """The rendered template is stable, schema-valid and identical to the checked-in copy."""

    def test_snapshot(self, text_snapshot: SnapshotAssertion) -> None:
        assert render_default_inference_policy_template_json() == text_snapshot

    def test_checked_in_copy_matches(self) -> None:
        rendered = render_default_inference_policy_template_json().encode("utf-8")
        assert CHECKED_IN.read_bytes() == rendered, (
            "configs/inference_policy.template.json is stale; regenerate it with "
            "`taskclf policy template --output configs/inference_policy.template.json`"
        )

    def test_stable(self) -> None:
        assert (
            render_default_inference_policy_template_json()
            == render_default_inference_policy_template_json()
        )

    def test_valid_against_schema(self) -> None:
        document = json.loads(render_default_inference_policy_template_json())
        assert validate_policy_document(document) == ()

    def test_values_come_from_the_schema(self) -> None:
        schema = policy_schema_from_file()
        document = json.loads(render_default_inference_policy_template_json())
        assert list(document) == ["_help", *schema["properties"]]
        for name, spec in schema["properties"].items():
            if name in {"created_at", "git_commit", "source"}:
                continue
            expected = spec["default"] if "default" in spec else spec["examples"][0]
            assert document[name] == expected, name
        assert document["_help"]["summary"] == schema["description"]
        assert document["_help"]["paths_are_relative_to"] == "<TASKCLF_HOME>"


class TestStarterTemplate:
    """The starter file written into a home is a loadable policy pointing people home."""

    def test_written_file_loads(self, tmp_path: Path) -> None:
        home = tmp_path / "home"
        models = home / "models"
        path = write_inference_policy_starter_template(models)
        assert path == policy_path(models)
        policy = load_inference_policy(models)
        assert policy is not None
        assert policy.source == "starter-template"
        help_block: Any = policy.annotations["_help"]
        assert help_block["paths_are_relative_to"] == str(home)
        rendered = json.loads(render_default_inference_policy_template_json())
        # The file puts _help first for people; to_dict() puts notes after the fields.
        assert set(policy.to_dict()) == set(rendered)
        assert list(json.loads(path.read_text(encoding="utf-8"))) == list(rendered)
        for name in ("model_dir", "model_schema_hash", "model_label_set", "reject_threshold"):
            assert policy.to_dict()[name] == rendered[name]
        assert sorted(p.name for p in models.iterdir()) == [".policy_history", path.name]

    def test_relative_models_dir_gives_absolute_home(self, tmp_path: Path) -> None:
        code = (
            "from pathlib import Path\n"
            "from taskclf.core.inference_policy import write_inference_policy_starter_template\n"
            "write_inference_policy_starter_template(Path('models'))\n"
        )
        subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, timeout=60)
        policy = load_inference_policy(tmp_path / "models")
        assert policy is not None
        help_block: Any = policy.annotations["_help"]
        assert help_block["paths_are_relative_to"] == str(tmp_path)

    def test_overwrites_and_survives_save(self, tmp_path: Path) -> None:
        models = tmp_path / "models"
        models.mkdir()
        policy_path(models).write_text("not json", encoding="utf-8")
        write_inference_policy_starter_template(models)
        policy = load_inference_policy(models)
        assert policy is not None
        save_inference_policy(policy, tmp_path / "copy")
        assert load_inference_policy(tmp_path / "copy") == policy
