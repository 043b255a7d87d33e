"""Validating many policy files in one run, as ratios measured side by side.

Writes N policy files (default 10,000) into a copy of ``examples/home``, then
times, interleaved round by round:

* the floor: reading and ``json.loads``-ing every file in one Python process
  (started fresh, as the commands are);
* ``taskclf policy validate --no-disk-checks --files-from LIST``;
* ``taskclf policy validate --files-from LIST`` (disk checks: each bundle and
  store is read once per run, not once per file);
* ``check-jsonschema --schemafile schemas/inference_policy.v1.json FILE...`` on the
  same files (when installed: ``pip install -e ".[bench]"``).

Targets (issue 9): without disk checks at most 5x the floor and at least 10x
faster than check-jsonschema; with disk checks at most 1.5x the time without.

Run: ``python benchmarks/bench_bulk.py [--files N] [--rounds N]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(sys.executable).parent


def _policy(index: int) -> dict[str, object]:
    return {
        "policy_version": "v1",
        "model_dir": "models/run_001",
        "model_schema_hash": "f3a9c2d1e8b7",
        "model_label_set": ["browse", "code", "meeting", "write"],
        "calibrator_store_dir": "artifacts/calibrator_store",
        "calibration_method": "temperature",
        "reject_threshold": round(0.4 + (index % 500) / 1000, 3),
        "created_at": "2026-12-01T10:00:00+00:00",
        "source": "manual",
        "git_commit": "unknown",
        "per_user_reject_thresholds": None,
    }


def _time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(
            REPO_ROOT / "examples" / "home", home, ignore=shutil.ignore_patterns(".policy_history")
        )
        names = []
        for index in range(args.files):
            path = home / "models" / f"p{index:05d}.json"
            path.write_text(json.dumps(_policy(index), indent=2) + "\n", encoding="utf-8")
            names.append(str(path))
        listing = Path(tmp) / "list.txt"
        listing.write_text("\n".join(names) + "\n", encoding="utf-8")
        floor = [
            sys.executable,
            "-c",
            "import json,sys\nfor line in open(sys.argv[1]):\n"
            "    json.loads(open(line.rstrip('\\n'),'rb').read())",
            str(listing),
        ]
        taskclf = str(SCRIPTS / "taskclf")
        runs: dict[str, list[str]] = {
            "floor: read + json.loads": floor,
            "taskclf validate --no-disk-checks": [
                taskclf, "policy", "validate", "--no-disk-checks", "--files-from", str(listing)
            ],
            "taskclf validate (disk checks)": [
                taskclf, "policy", "validate", "--files-from", str(listing)
            ],
        }  # fmt: skip
        checker = SCRIPTS / "check-jsonschema"
        if checker.exists():
            schema = REPO_ROOT / "schemas" / "inference_policy.v1.json"
            runs["check-jsonschema"] = [str(checker), "--schemafile", str(schema), *names]
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, command in runs.items():
                times[name].append(_time(command))
    median = {name: statistics.median(values) for name, values in times.items()}
    base = median["floor: read + json.loads"]
    print(f"{args.files} policy files, {args.rounds} rounds, medians")
    for name, value in median.items():
        print(f"  {name:<36} {value:8.3f} s   {value / base:6.2f} x floor")
    plain = median["taskclf validate --no-disk-checks"]
    disk = median["taskclf validate (disk checks)"]
    verdict = "MET" if plain <= 5 * base else "NOT MET"
    print(f"target --no-disk-checks <= 5x floor: {verdict} ({plain / base:.2f} x)")
    verdict = "MET" if disk <= 1.5 * plain else "NOT MET"
    print(f"target disk checks <= 1.5x without: {verdict} ({disk / plain:.2f} x)")
    if "check-jsonschema" in median:
        speedup = median["check-jsonschema"] / plain
        verdict = "MET" if speedup >= 10 else "NOT MET"
        print(f"target >= 10x faster than check-jsonschema: {verdict} ({speedup:.1f} x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
