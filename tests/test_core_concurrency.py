"""Concurrent saves and loads of one policy file, in separate real processes.

Writers replace the file over and over while a reader loads it in a tight
loop: the reader must only ever see a complete, valid policy written by one of
the writers, and no temporary file may remain afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from taskclf.core.inference_policy import (
    POLICY_FILENAME,
    InferencePolicy,
    save_inference_policy,
)

WRITERS = 3
RUN_SECONDS = 1.5
# Processes start together once every interpreter has had time to import.
START_DELAY_SECONDS = 1.5

WRITER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from taskclf.core.inference_policy import InferencePolicy, save_inference_policy

    models, start, stop = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    policies = [InferencePolicy.from_dict(d) for d in json.loads(sys.argv[4])]
    time.sleep(max(0.0, start - time.time()))
    writes = 0
    while time.time() < stop:
        save_inference_policy(policies[writes % len(policies)], models)
        writes += 1
    print(json.dumps({"writes": writes}))
    """
)

READER = textwrap.dedent(
    """
    import json, logging, sys, time
    from pathlib import Path
    from taskclf.core.inference_policy import load_inference_policy

    class Count(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    counter = Count()
    logging.getLogger("taskclf").addHandler(counter)
    models, start, stop = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    time.sleep(max(0.0, start - time.time()))
    loads = nones = 0
    seen = {}
    while time.time() < stop:
        policy = load_inference_policy(models)
        loads += 1
        if policy is None:
            nones += 1
            continue
        key = json.dumps(policy.to_dict(), sort_keys=True)
        seen[key] = seen.get(key, 0) + 1
    print(json.dumps({
        "loads": loads, "nones": nones, "warnings": counter.messages[:5],
        "warning_count": len(counter.messages), "seen": seen,
    }))
    """
)


def _policies(base: dict[str, Any], writer: int) -> list[dict[str, Any]]:
    # Different sizes and contents per writer, so a torn read could not parse
    # as any of them by accident.
    return [
        {
            **base,
            "reject_threshold": round(0.1 * writer + 0.01 * variant, 2),
            "source": f"writer-{writer}",
            "_note": "x" * (500 * writer + 3000 * variant),
        }
        for variant in range(2)
    ]


class TestConcurrentSaveAndLoad:
    """Readers never see a partial or invalid file while several processes save."""

    def test_no_invalid_reads(self, tmp_path: Path, policy_document: dict[str, Any]) -> None:
        models = tmp_path / "home" / "models"
        expected: list[dict[str, Any]] = []
        per_writer = []
        for writer in range(WRITERS):
            documents = _policies(policy_document, writer)
            per_writer.append(documents)
            expected += [InferencePolicy.from_dict(d).to_dict() for d in documents]
        # A policy exists before anyone starts, so "missing" is never a valid answer.
        save_inference_policy(InferencePolicy.from_dict(per_writer[0][0]), models)

        start = time.time() + START_DELAY_SECONDS
        stop = start + RUN_SECONDS
        timing = [str(start), str(stop)]
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(models), *timing, json.dumps(documents)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for documents in per_writer
        ]
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", READER, str(models), *timing],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        outputs = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            outputs.append(json.loads(out))

        writes = [o["writes"] for o in outputs[:WRITERS]]
        report = outputs[-1]
        assert all(w > 0 for w in writes), writes
        assert report["loads"] > 0
        assert report["nones"] == 0, report
        assert report["warning_count"] == 0, report["warnings"]
        expected_keys = {json.dumps(d, sort_keys=True) for d in expected}
        assert set(report["seen"]) <= expected_keys
        assert len(report["seen"]) >= 2, "the reader saw the file change"
        assert sum(report["seen"].values()) == report["loads"]
        # No temporary file is left; the versions replaced are kept in the history folder.
        assert sorted(p.name for p in models.iterdir()) == [".policy_history", POLICY_FILENAME]
