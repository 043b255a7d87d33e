"""Tests for :func:`save_inference_policy` and :func:`remove_inference_policy` on real files.

A save either replaces the policy file completely or leaves the previous one
byte for byte, and never leaves a temporary file behind.
"""

from __future__ import annotations

import errno
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from taskclf.core.inference_policy import (
    POLICY_FILENAME,
    InferencePolicy,
    PolicySchemaError,
    load_inference_policy,
    policy_path,
    remove_inference_policy,
    save_inference_policy,
)
from taskclf.core.jsonio import dumps_json
from taskclf.core.policy_history import HISTORY_DIRNAME


def _entries(folder: Path) -> list[str]:
    """The names in ``folder`` but the policy history folder (tests/test_core_policy_history.py)."""
    return sorted(p.name for p in folder.iterdir() if p.name != HISTORY_DIRNAME)


class TestBytes:
    """The file is canonical JSON: UTF-8, indent 2, one final newline, no NaN."""

    def test_format(self, tmp_path: Path, policy_document: dict[str, Any]) -> None:
        policy_document["model_label_set"] = ["caf\u00e9", "code"]
        policy_document["_help"] = {"notes": ["\u2603"]}
        policy = InferencePolicy.from_dict(policy_document)
        models = tmp_path / "models"
        path = save_inference_policy(policy, models)
        assert path == models / POLICY_FILENAME
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        text = data.decode("utf-8")
        assert "caf\u00e9".encode() in data  # stored as UTF-8, not \\u escapes
        assert text.endswith("}\n")
        assert not text.endswith("\n\n")
        assert json.loads(text) == policy.to_dict()
        assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
        assert list(json.loads(text)) == list(policy.to_dict())
        assert text == policy.to_json()

    def test_same_policy_same_bytes(self, tmp_path: Path, policy_document: dict[str, Any]) -> None:
        policy = InferencePolicy.from_dict(policy_document)
        first = save_inference_policy(policy, tmp_path / "a").read_bytes()
        second = save_inference_policy(policy, tmp_path / "b").read_bytes()
        assert first == second

    def test_nan_never_written(self, tmp_path: Path, policy_document: dict[str, Any]) -> None:
        # The schema lets a note hold any value, so NaN could only sneak in
        # through one: the facade refuses it at construction, naming the note.
        with pytest.raises(PolicySchemaError) as caught:
            InferencePolicy.from_dict({**policy_document, "_note": float("nan")})
        assert [(i.pointer, i.keyword) for i in caught.value.issues] == [("/_note", "json")]
        with pytest.raises(PolicySchemaError):
            InferencePolicy.from_dict({**policy_document, "_note": {1, 2}})
        with pytest.raises(ValueError):
            dumps_json({"x": float("inf")})


class TestFolders:
    """The models folder is created on demand and holds only the policy afterwards."""

    def test_creates_models_dir(self, tmp_path: Path, policy_document: dict[str, Any]) -> None:
        models = tmp_path / "deep" / "home" / "models"
        policy = InferencePolicy.from_dict(policy_document)
        save_inference_policy(policy, models)
        assert _entries(models) == [POLICY_FILENAME]
        assert load_inference_policy(models) == policy

    def test_overwrite_leaves_no_temp_files(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        before = _entries(models_dir)
        for threshold in (0.1, 0.2, 0.3):
            save_inference_policy(
                InferencePolicy.from_dict({**policy_document, "reject_threshold": threshold}),
                models_dir,
            )
        assert _entries(models_dir) == sorted([*before, POLICY_FILENAME])
        loaded = load_inference_policy(models_dir)
        assert loaded is not None
        assert loaded.reject_threshold == 0.3

    def test_remove(self, tmp_path: Path, policy_document: dict[str, Any]) -> None:
        models = tmp_path / "models"
        save_inference_policy(InferencePolicy.from_dict(policy_document), models)
        assert remove_inference_policy(models) is True
        assert _entries(models) == []
        assert remove_inference_policy(models) is False
        assert remove_inference_policy(tmp_path / "never") is False

    def test_remove_refuses_a_folder(self, tmp_path: Path) -> None:
        models = tmp_path / "models"
        policy_path(models).mkdir(parents=True)
        with pytest.raises(OSError):
            remove_inference_policy(models)
        assert policy_path(models).is_dir()


class TestFailedWrites:
    """A write that fails leaves the previous file intact and no temporary file."""

    def test_file_size_limit(self, tmp_path: Path, policy_document: dict[str, Any]) -> None:
        models = tmp_path / "models"
        old = save_inference_policy(InferencePolicy.from_dict(policy_document), models)
        old_bytes = old.read_bytes()
        limit = len(old_bytes) // 2
        code = textwrap.dedent(
            """
            import json, resource, signal, sys
            from pathlib import Path
            from taskclf.core.inference_policy import InferencePolicy, save_inference_policy

            models, limit, document = Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
            policy = InferencePolicy.from_dict(document)
            # Past the limit, write() fails with EFBIG instead of killing us.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
            try:
                save_inference_policy(policy, models)
            except OSError as exc:
                print("OSError", exc.errno)
                sys.exit(0)
            print("saved")
            sys.exit(1)
            """
        )
        new_document = {**policy_document, "reject_threshold": 0.9, "_note": "x" * 4096}
        result = subprocess.run(
            [sys.executable, "-c", code, str(models), str(limit), json.dumps(new_document)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.split() == ["OSError", str(errno.EFBIG)]
        assert old.read_bytes() == old_bytes
        assert _entries(models) == [POLICY_FILENAME]

    def test_directory_at_policy_path(
        self, tmp_path: Path, policy_document: dict[str, Any]
    ) -> None:
        models = tmp_path / "models"
        policy_path(models).mkdir(parents=True)
        (policy_path(models) / "keep.txt").write_text("k", encoding="utf-8")
        with pytest.raises(OSError):
            save_inference_policy(InferencePolicy.from_dict(policy_document), models)
        assert _entries(models) == [POLICY_FILENAME]
        assert _entries(policy_path(models)) == ["keep.txt"]

    def test_file_at_models_dir(self, tmp_path: Path, policy_document: dict[str, Any]) -> None:
        models = tmp_path / "models"
        models.write_bytes(b"a file, not a folder")
        with pytest.raises(OSError):
            save_inference_policy(InferencePolicy.from_dict(policy_document), models)
        assert models.read_bytes() == b"a file, not a folder"
        assert _entries(tmp_path) == ["models"]

    def test_file_above_models_dir(self, tmp_path: Path, policy_document: dict[str, Any]) -> None:
        (tmp_path / "home").write_bytes(b"x")
        with pytest.raises(OSError):
            save_inference_policy(
                InferencePolicy.from_dict(policy_document), tmp_path / "home" / "models"
            )
        assert _entries(tmp_path) == ["home"]
        assert (tmp_path / "home").read_bytes() == b"x"
