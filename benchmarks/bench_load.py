"""Per-call cost of loading the inference policy, as ratios to reading the JSON by hand.

Three measurements on a typical policy file in a temporary TASKCLF_HOME:

* floor: ``open()`` + ``read()`` + ``json.loads`` of the same, unchanged file;
* (a) ``load_inference_policy`` when the file's bytes changed since the last load
  (two valid policies of the same shape are written in turns; the write is not
  timed, only the load after it);
* (b) ``load_inference_policy`` of the same, unchanged file again (cache hit).

The machine is shared and noisy, so the three are interleaved round by round,
in a rotating order, each round timing one batch of calls per measurement; the
figures are medians of the batch means. Target: (b) at most 0.7 x floor.

Run: ``python benchmarks/bench_load.py [--rounds N] [--batch N]`` (stdlib + taskclf only).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from taskclf.core.inference_policy import (
    InferencePolicy,
    load_inference_policy,
    policy_path,
    save_inference_policy,
)

TARGET_B_OVER_FLOOR = 0.7


def _typical_policy(threshold: float) -> InferencePolicy:
    """What ``taskclf policy create`` writes for a calibrated bundle."""
    return InferencePolicy(
        model_dir="models/run_001",
        model_schema_hash="f3a9c2d1e8b7",
        model_label_set=("browse", "code", "meeting", "write"),
        calibrator_store_dir="artifacts/calibrator_store",
        calibration_method="temperature",
        reject_threshold=threshold,
        created_at="2026-01-31T12:00:00+00:00",
        source="tune-reject",
        git_commit="4a610b7c1f0e9d8c7b6a5f4e3d2c1b0a99887766",
        per_user_reject_thresholds={"alice": 0.6},
    )


def _floor_batch(path: Path, calls: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(calls):
        with open(path, "rb") as handle:
            data = handle.read()
        json.loads(data)
    return (time.perf_counter_ns() - start) / calls


def _unchanged_batch(models: Path, calls: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(calls):
        load_inference_policy(models)
    return (time.perf_counter_ns() - start) / calls


def _changed_batch(models: Path, texts: tuple[bytes, bytes], calls: int) -> float:
    path = policy_path(models)
    total = 0
    for i in range(calls):
        # Rewrite in place, untimed; the next load must see new bytes.
        with open(path, "wb") as handle:
            handle.write(texts[i % 2])
        start = time.perf_counter_ns()
        policy = load_inference_policy(models)
        total += time.perf_counter_ns() - start
        if policy is None:
            raise SystemExit("benchmark bug: the changed policy did not load")
    return total / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="rounds (default 300)")
    parser.add_argument("--batch", type=int, default=40, help="calls per batch (default 40)")
    options = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        unchanged = home / "unchanged" / "models"
        changing = home / "changing" / "models"
        save_inference_policy(_typical_policy(0.55), unchanged)
        save_inference_policy(_typical_policy(0.55), changing)
        texts = (
            _typical_policy(0.55).to_json().encode("utf-8"),
            _typical_policy(0.65).to_json().encode("utf-8"),
        )
        assert len(texts[0]) == len(texts[1])
        floor_file = policy_path(unchanged)
        if load_inference_policy(unchanged) is None:
            raise SystemExit("benchmark bug: the policy did not load")

        runs: dict[str, Callable[[], float]] = {
            "floor": lambda: _floor_batch(floor_file, options.batch),
            "a": lambda: _changed_batch(changing, texts, options.batch),
            "b": lambda: _unchanged_batch(unchanged, options.batch),
        }
        order = list(runs)
        for name in order:  # warm-up round, not recorded
            runs[name]()
        results: dict[str, list[float]] = {name: [] for name in order}
        gc.disable()
        try:
            for round_no in range(options.rounds):
                shift = round_no % len(order)
                for name in order[shift:] + order[:shift]:
                    results[name].append(runs[name]())
        finally:
            gc.enable()
        size = floor_file.stat().st_size

    median_us = {name: statistics.median(values) / 1000 for name, values in results.items()}
    floor = median_us["floor"]
    print(
        f"policy file: {size} bytes; {options.rounds} rounds x {options.batch} calls per batch, "
        "interleaved; medians of batch means"
    )
    print(f"  floor  open()+read()+json.loads          {floor:9.2f} us")
    print(
        f"  (a)    load_inference_policy, bytes changed {median_us['a']:9.2f} us"
        f"   a/floor = {median_us['a'] / floor:6.2f}"
    )
    print(
        f"  (b)    load_inference_policy, unchanged     {median_us['b']:9.2f} us"
        f"   b/floor = {median_us['b'] / floor:6.2f}"
    )
    ratio_b = median_us["b"] / floor
    verdict = "MET" if ratio_b <= TARGET_B_OVER_FLOOR else "NOT MET"
    print(f"target (b) <= {TARGET_B_OVER_FLOOR} x floor: {verdict} ({ratio_b:.2f} x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
