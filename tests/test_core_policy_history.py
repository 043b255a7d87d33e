"""Tests of taskclf.core.policy_history and taskclf.core.policy_deploy on real files.

Every change of the policy file keeps the version it replaced; the history is
bounded, checked when read, survives concurrent writers and kill -9.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from taskclf.core.errors import PolicyDiskCheckError, PolicyFileError, PolicySchemaError
from taskclf.core.inference_policy import (
    InferencePolicy,
    read_policy_of,
    remove_inference_policy,
    save_inference_policy,
    write_inference_policy_starter_template,
)
from taskclf.core.policy_deploy import (
    UnknownPolicyKeyError,
    apply_inference_policy,
    rollback_inference_policy,
    updated_policy_document,
)
from taskclf.core.policy_history import (
    HISTORY_DIRNAME,
    MAX_VERSIONS,
    POLICY_HISTORY_SCHEMA,
    PolicyChangedError,
    PolicyHistoryError,
    change_policy_file,
    policy_history,
)
from taskclf.core.schemas import validate_document
from taskclf.model_registry.bundles import scan_bundles


def _policy(document: dict[str, Any], **fields: Any) -> InferencePolicy:
    return InferencePolicy.from_dict({**document, **fields})


def _records(models: Path) -> list[Path]:
    return sorted(p for p in (models / HISTORY_DIRNAME).iterdir() if not p.name.startswith("."))


class TestRecording:
    """Each library writer records the version it replaces, first."""

    def test_save_records_no_policy_then_each_replaced_version(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        save_inference_policy(_policy(policy_document), models_dir)
        first = (models_dir / "inference_policy.json").read_bytes()
        save_inference_policy(_policy(policy_document, reject_threshold=0.7), models_dir)
        history = policy_history(models_dir)
        assert history.damaged == ()
        assert [v.version for v in history.versions] == [1, 2]
        newest, oldest = history.versions
        assert newest.data == first
        assert newest.sha256 == hashlib.sha256(first).hexdigest()
        assert newest.replaced_by == "save_inference_policy"
        assert oldest.data is None and oldest.sha256 is None
        for record in _records(models_dir):
            assert validate_document(POLICY_HISTORY_SCHEMA, json.loads(record.read_bytes())) == ()

    def test_same_bytes_record_nothing(self, models_dir: Path) -> None:
        data = b'{"not": "checked here"}\n'
        change_policy_file(models_dir, data, replaced_by="test")
        change = change_policy_file(models_dir, data, replaced_by="test")
        assert change.recorded is None and change.changed
        assert len(policy_history(models_dir).versions) == 1

    def test_remove_and_template_are_recorded(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        save_inference_policy(_policy(policy_document), models_dir)
        saved = (models_dir / "inference_policy.json").read_bytes()
        write_inference_policy_starter_template(models_dir)
        starter = (models_dir / "inference_policy.json").read_bytes()
        assert remove_inference_policy(models_dir, replaced_by="my tool") is True
        versions = policy_history(models_dir).versions
        assert [(v.replaced_by, v.data) for v in versions] == [
            ("my tool", starter),
            ("write_inference_policy_starter_template", saved),
            ("save_inference_policy", None),
        ]

    def test_removing_nothing_creates_nothing(self, models_dir: Path) -> None:
        assert remove_inference_policy(models_dir) is False
        assert not (models_dir / HISTORY_DIRNAME).exists()

    def test_a_failed_write_takes_its_record_back(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        save_inference_policy(_policy(policy_document), models_dir)
        before = _records(models_dir)
        # A link at the policy path: readable, but taskclf never writes through links.
        target = models_dir / "elsewhere.json"
        (models_dir / "inference_policy.json").rename(target)
        (models_dir / "inference_policy.json").symlink_to(target.name)
        with pytest.raises(OSError, match="symbolic link"):
            save_inference_policy(_policy(policy_document, reject_threshold=0.1), models_dir)
        assert _records(models_dir) == before

    def test_bad_replaced_by_is_refused_before_anything(self, models_dir: Path) -> None:
        with pytest.raises(ValueError, match="replaced_by"):
            change_policy_file(models_dir, b"{}", replaced_by="bad\nname")
        assert not (models_dir / "inference_policy.json").exists()

    def test_expected_bytes_guard_the_change(self, models_dir: Path) -> None:
        change_policy_file(models_dir, b"{}\n", replaced_by="test")
        with pytest.raises(PolicyChangedError):
            change_policy_file(models_dir, b"[]\n", replaced_by="test", expected=b"other")
        assert (models_dir / "inference_policy.json").read_bytes() == b"{}\n"

    def test_the_folder_is_not_a_bundle(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        save_inference_policy(_policy(policy_document), models_dir)
        assert {r.model_dir for r in scan_bundles(models_dir)} == {
            "models/run_001",
            "models/run_002",
        }


class TestPruning:
    """At most MAX_VERSIONS records are kept; the oldest go first."""

    def test_prunes_at_100(self, tmp_path: Path) -> None:
        models = tmp_path / "home" / "models"
        for index in range(MAX_VERSIONS + 5):
            change_policy_file(models, f'{{"n": {index}}}\n'.encode(), replaced_by="test")
        history = policy_history(models)
        assert len(history.versions) == MAX_VERSIONS
        assert [v.sequence for v in history.versions] == list(range(MAX_VERSIONS + 5, 5, -1))
        assert history.versions[0].data == f'{{"n": {MAX_VERSIONS + 3}}}\n'.encode()
        assert len(_records(models)) == MAX_VERSIONS


class TestDamagedRecords:
    """A damaged record is reported with its reason and skipped; the others still read."""

    @pytest.mark.parametrize(
        ("damage", "reason"),
        [
            (lambda r: r.write_bytes(b'{"torn": '), "not valid JSON"),
            (lambda r: r.write_bytes(b""), "empty"),
            (lambda r: _rewrite(r, replaced_by=""), "replaced_by"),
            (lambda r: _rewrite(r, policy_bytes_b64=base64.b64encode(b"x").decode()), "sha256"),
            (lambda r: _rewrite(r, sequence=99), "sequence"),
            (lambda r: r.write_bytes(b" " * (2 * 1024 * 1024)), "larger than"),
        ],
        ids=["torn", "empty", "schema", "digest", "sequence", "huge"],
    )
    def test_reported_and_skipped(self, tmp_path: Path, damage: Any, reason: str) -> None:
        models = tmp_path / "home" / "models"
        for index in range(3):
            change_policy_file(models, f"[{index}]\n".encode(), replaced_by="test")
        middle = _records(models)[1]
        damage(middle)
        (models / HISTORY_DIRNAME / "notes.txt").write_text("ignored")
        (models / HISTORY_DIRNAME / ".hidden.json").write_text("ignored")
        history = policy_history(models)
        assert [v.version for v in history.versions] == [1, 3]
        assert [(d.version, d.file) for d in history.damaged] == [
            (2, f"models/{HISTORY_DIRNAME}/{middle.name}")
        ]
        assert reason in history.damaged[0].reason
        with pytest.raises(PolicyHistoryError, match="version 2 cannot be used"):
            history.get(2)


def _rewrite(record: Path, **fields: Any) -> None:
    document = json.loads(record.read_bytes())
    document.update(fields)
    record.write_text(json.dumps(document))


class TestDeploy:
    """set/apply/rollback as library functions: validated first, nothing changed on refusal."""

    def test_updated_document(self, policy_document: dict[str, Any]) -> None:
        document = updated_policy_document(
            {**policy_document, "per_user_reject_thresholds": {"bob": 0.5}},
            [
                ("calibrator_store_dir", "artifacts/other"),
                ("per_user_reject_thresholds.bob", None),
            ],
            source="script",
        )
        assert document["calibration_method"] is None
        assert document["per_user_reject_thresholds"] is None
        assert document["source"] == "script"
        assert document["created_at"] != policy_document["created_at"]

    def test_unknown_key_suggests(self) -> None:
        with pytest.raises(UnknownPolicyKeyError, match="did you mean reject_threshold"):
            updated_policy_document({}, [("reject_treshold", 0.5)])

    def test_apply_refuses_a_schema_error(self, models_dir: Path) -> None:
        with pytest.raises(PolicySchemaError):
            apply_inference_policy(models_dir, b'{"reject_threshold": 2}')
        assert not (models_dir / "inference_policy.json").exists()

    def test_rollback_restores_and_can_be_rolled_back(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        save_inference_policy(_policy(policy_document), models_dir)
        first = (models_dir / "inference_policy.json").read_bytes()
        save_inference_policy(_policy(policy_document, reject_threshold=0.3), models_dir)
        second = (models_dir / "inference_policy.json").read_bytes()
        rollback_inference_policy(models_dir)
        assert (models_dir / "inference_policy.json").read_bytes() == first
        rollback_inference_policy(models_dir)
        assert (models_dir / "inference_policy.json").read_bytes() == second
        assert policy_history(models_dir).versions[0].replaced_by == "rollback_inference_policy"

    def test_rollback_to_no_policy_removes_it(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        save_inference_policy(_policy(policy_document), models_dir)
        result = rollback_inference_policy(models_dir, 1)
        assert result.policy is None
        assert not (models_dir / "inference_policy.json").exists()

    def test_rollback_refuses_a_version_whose_bundle_is_gone(
        self, models_dir: Path, policy_document: dict[str, Any]
    ) -> None:
        save_inference_policy(_policy(policy_document), models_dir)
        save_inference_policy(
            _policy(
                policy_document,
                model_dir="models/run_002",
                calibrator_store_dir=None,
                calibration_method=None,
            ),
            models_dir,
        )
        current = (models_dir / "inference_policy.json").read_bytes()
        shutil.rmtree(models_dir / "run_001")
        with pytest.raises(PolicyDiskCheckError, match="Model directory does not exist"):
            rollback_inference_policy(models_dir, 1)
        assert (models_dir / "inference_policy.json").read_bytes() == current
        assert read_policy_of(models_dir).model_dir == "models/run_002"


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from taskclf.core.policy_history import change_policy_file

    models, name = Path(sys.argv[1]), sys.argv[2]
    count, start = int(sys.argv[3]), float(sys.argv[4])
    time.sleep(max(0.0, start - time.time()))
    for index in range(count):
        change_policy_file(models, f'{{"writer": "{name}", "n": {index}}}\\n'.encode(),
                           replaced_by=f"writer {name}")
    """
)


class TestConcurrentWriters:
    """Real processes writing at once: every replaced version is recorded, none torn or lost."""

    def test_nothing_lost(self, tmp_path: Path) -> None:
        models = tmp_path / "home" / "models"
        change_policy_file(models, b'{"initial": true}\n', replaced_by="test")
        writers, count = 4, 20
        start = str(time.time() + 1.5)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(models), str(name), str(count), start],
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in range(writers)
        ]
        for proc in procs:
            _out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        history = policy_history(models)
        assert history.damaged == ()
        # 1 "no policy" + the initial policy + every write but the last one still in place.
        assert len(history.versions) == 1 + writers * count
        sequences = sorted(v.sequence for v in history.versions)
        assert sequences == list(range(1, 2 + writers * count))
        written = {
            f'{{"writer": "{name}", "n": {index}}}\n'.encode()
            for name in range(writers)
            for index in range(count)
        }
        recorded = [v.data for v in history.versions if v.data is not None]
        current = (models / "inference_policy.json").read_bytes()
        assert sorted([*recorded, current]) == sorted([b'{"initial": true}\n', *written])
        # Each record holds what the previous change wrote: the chain has no gap.
        ordered = sorted(history.versions, key=lambda v: v.sequence)
        assert ordered[0].data is None and ordered[1].data == b'{"initial": true}\n'


KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from taskclf.core.policy_history import change_policy_file

    models, index = Path(sys.argv[1]), 0
    print("ready", flush=True)
    while True:
        change_policy_file(models, (f'{{"n": {index}, "pad": "' + "x" * 50000 + '"}\\n').encode(),
                           replaced_by="killed writer")
        index += 1
    """
)


class TestKillNine:
    """kill -9 at any moment leaves the history readable and the policy whole."""

    def test_history_stays_readable(self, tmp_path: Path) -> None:
        models = tmp_path / "home" / "models"
        change_policy_file(models, b'{"n": -1}\n', replaced_by="test")
        for attempt in range(12):
            proc = subprocess.Popen(
                [sys.executable, "-c", KILLED_WRITER, str(models)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
            time.sleep(0.02 + 0.013 * attempt)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stdout.close()
            history = policy_history(models)
            assert history.damaged == (), history.damaged
            json.loads((models / "inference_policy.json").read_bytes())
            for version in history.versions:
                assert version.data is None or json.loads(version.data)
        assert len(policy_history(models).versions) > 12


class TestUnkeepableVersion:
    """A file at the policy path that cannot be kept (over 1 MiB) is not replaced."""

    def test_refused_and_unchanged(self, models_dir: Path, policy_document: dict[str, Any]) -> None:
        huge = models_dir / "inference_policy.json"
        huge.write_bytes(b" " * (1024 * 1024 + 1))
        with pytest.raises(PolicyFileError, match="cannot keep this one"):
            save_inference_policy(_policy(policy_document), models_dir)
        assert huge.stat().st_size == 1024 * 1024 + 1
        assert policy_history(models_dir).versions == ()
