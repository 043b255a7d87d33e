"""examples/heldout_raw.jsonl: regenerated from its seed, valid, scored by the example store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from taskclf.core.calibration import StoreCalibrators, top_label
from taskclf.core.home import Home
from taskclf.core.inference_policy import InferencePolicy
from taskclf.core.policy_checks import inspect_policy_artifacts
from taskclf.core.schemas import validate_document

from conftest import EXAMPLE_HOME, EXAMPLE_LABELS, REPO_ROOT

HELDOUT = REPO_ROOT / "examples" / "heldout_raw.jsonl"
SCRIPT = REPO_ROOT / "examples" / "make_heldout_raw.py"


def _rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines()]


class TestHeldoutRaw:
    """The checked-in file is what the script writes, and every row is a score row of run_001."""

    def test_regenerated_byte_for_byte(self, tmp_path: Path) -> None:
        output = tmp_path / "heldout_raw.jsonl"
        subprocess.run(
            [sys.executable, str(SCRIPT), "--output", str(output)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert output.read_bytes() == HELDOUT.read_bytes(), (
            "examples/heldout_raw.jsonl is out of date: run `python examples/make_heldout_raw.py`"
        )

    def test_rows_are_score_rows_over_the_bundle_labels(self) -> None:
        rows = _rows()
        assert len(rows) == 600
        for row in rows:
            assert validate_document("score_row.v1.json", row) == ()
            assert sorted(row["probabilities"]) == EXAMPLE_LABELS
            assert row["label"] in EXAMPLE_LABELS
        users = {row.get("user_id") for row in rows}
        assert users == {"alice", "bob", "carol", None}


class TestScoredThroughTheExampleStore:
    """Each row calibrated by its user's calibrator (alice, bob) or the global one (the rest)."""

    def test_calibration_lowers_the_overconfidence(self, policy_document: dict[str, Any]) -> None:
        policy = InferencePolicy.from_dict(policy_document)
        found = inspect_policy_artifacts(policy, Home.at(EXAMPLE_HOME))
        assert found.ok and found.global_calibrator is not None
        calibrators = StoreCalibrators(
            global_calibrator=found.global_calibrator, users=found.user_calibrators
        )
        rows = _rows()
        raw_confidence = calibrated_confidence = 0.0
        correct = 0
        for row in rows:
            _raw_label, confidence = top_label(row["probabilities"])
            scored = calibrators.score(row["probabilities"], row.get("user_id"))
            assert abs(sum(scored.probabilities.values()) - 1.0) < 1e-12
            raw_confidence += confidence
            calibrated_confidence += scored.confidence
            correct += scored.predicted == row["label"]
        accuracy, count = correct / len(rows), len(rows)
        # The simulated model is overconfident; its calibrators bring the mean
        # confidence nearer the accuracy.
        assert raw_confidence / count > accuracy
        assert abs(calibrated_confidence / count - accuracy) < abs(
            raw_confidence / count - accuracy
        )
