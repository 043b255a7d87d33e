"""Cost of a no-change ``InferencePolicyReloader.check_reload()``, as ratios to one ``os.stat``.

Times, interleaved round by round so that machine noise hits every case alike,
in a throw-away TASKCLF_HOME copied from ``examples/home``:

* the unit: one ``os.stat`` of the policy file;
* ``check_reload()`` with ``check_interval_s=0`` (every call does the stat
  check), the byte check never due, for a home with both a policy and
  ``active.json`` (two stats per call) and for a home with a policy only (one
  stat of a file, one of a missing file);
* ``check_reload()`` with the default ``check_interval_s`` (calls within the
  interval only read the clock);
* for scale: the slow check (stat plus reading and hashing both files) and a
  full ``resolve_inference_config``.

Target: the no-change stat check costs at most 3x one ``os.stat``. Prints the
best per-call time of each case in microseconds and its ratio to the unit.

Run: ``python benchmarks/bench_reload.py [--rounds N] [--calls N]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from taskclf.core.jsonio import dumps_json
from taskclf.infer.reloader import InferencePolicyReloader
from taskclf.infer.resolve import resolve_inference_config
from taskclf.model_registry import write_active_atomic

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 3.0

POLICY = {
    "policy_version": "v1",
    "model_dir": "models/run_001",
    "model_schema_hash": "f3a9c2d1e8b7",
    "model_label_set": ["browse", "code", "meeting", "write"],
    "calibrator_store_dir": "artifacts/calibrator_store",
    "calibration_method": "temperature",
    "reject_threshold": 0.62,
    "created_at": "2026-02-01T10:00:00+00:00",
    "source": "manual",
    "git_commit": "unknown",
}


def _make_home(root: Path, name: str, *, with_active: bool) -> Path:
    home = root / name
    shutil.copytree(REPO_ROOT / "examples" / "home", home)
    models = home / "models"
    (models / "inference_policy.json").write_text(dumps_json(POLICY), encoding="utf-8")
    if with_active:
        write_active_atomic(models, "models/run_002", reason="benchmark")
    return models


def _per_call(function: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (best kept)")
    parser.add_argument("--calls", type=int, default=20_000, help="calls per case and round")
    options = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="taskclf-bench-") as scratch:
        both = _make_home(Path(scratch), "both", with_active=True)
        policy_only = _make_home(Path(scratch), "policy_only", with_active=False)
        policy_file = str(both / "inference_policy.json")

        stat_both = InferencePolicyReloader(both, check_interval_s=0, content_check_interval_s=1e9)
        stat_policy_only = InferencePolicyReloader(
            policy_only, check_interval_s=0, content_check_interval_s=1e9
        )
        gated = InferencePolicyReloader(both)
        slow = InferencePolicyReloader(both, check_interval_s=0, content_check_interval_s=0)
        for reloader in (stat_both, stat_policy_only, gated, slow):
            assert reloader.check_reload() is None, "benchmark files changed under the reloader"

        few = max(options.calls // 100, 10)
        cases: list[tuple[str, Callable[[], object], int]] = [
            ("os.stat(policy file)  [unit]", lambda: os.stat(policy_file), options.calls),
            (
                "check_reload, stat check, policy + active.json",
                stat_both.check_reload,
                options.calls,
            ),
            ("check_reload, stat check, policy only", stat_policy_only.check_reload, options.calls),
            ("check_reload, within check_interval_s", gated.check_reload, options.calls),
            ("check_reload, byte check (slow cadence)", slow.check_reload, few),
            ("resolve_inference_config (for scale)", lambda: resolve_inference_config(both), few),
        ]
        best = [float("inf")] * len(cases)
        for _ in range(options.rounds):
            for index, (_name, function, calls) in enumerate(cases):
                best[index] = min(best[index], _per_call(function, calls))

    unit = best[0]
    print(f"python {sys.version.split()[0]}, {options.rounds} rounds, best per call")
    print(f"{'case':<50} {'us/call':>10} {'x os.stat':>10}")
    for (name, _function, _calls), seconds in zip(cases, best, strict=True):
        print(f"{name:<50} {seconds * 1e6:>10.3f} {seconds / unit:>10.2f}")
    worst = max(best[1] / unit, best[2] / unit)
    verdict = "OK" if worst <= TARGET_RATIO else "OVER TARGET"
    print(
        f"no-change stat check: {worst:.2f}x one os.stat (target <= {TARGET_RATIO:g}x): {verdict}"
    )
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
