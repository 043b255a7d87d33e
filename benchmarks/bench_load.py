"""Per-call cost of loading the inference policy, as ratios to reading the JSON by hand.

Two policy files, in a temporary TASKCLF_HOME:

* small: what ``taskclf policy create`` writes for a calibrated bundle (about 436 bytes);
* large: a tuned policy with 20 per-user thresholds (about 1 KB).

For each, these measurements:

* floor: ``open()`` + ``read()`` + ``json.loads`` of the same, unchanged file;
* (a) ``load_inference_policy`` when the file's bytes changed since the last load
  (two valid policies of the same shape are written in turns; the write is not
  timed, only the load after it);
* (b) ``load_inference_policy`` of the same, unchanged file again (cache hit);
* for reference, the floor measured as (a) is: after the same untimed rewrite.

The machine is shared and noisy, so all eight are interleaved round by round,
in a rotating order, each round timing one batch of calls per measurement; the
figures are medians of the batch means. Targets: (a) at most 3 x floor for the
small file and 5 x for the large one; (b) at most 0.7 x floor for both.

Run: ``python benchmarks/bench_load.py [--rounds N] [--batch N]`` (stdlib + taskclf only).
"""

from __future__ import annotations

import argparse
import functools
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
TARGET_A_OVER_FLOOR = {"small": 3.0, "large": 5.0}


def _small_policy(threshold: float) -> InferencePolicy:
    """What ``taskclf policy create`` writes for a calibrated bundle."""
    return InferencePolicy(
        model_dir="models/run_001",
        model_schema_hash="f3a9c2d1e8b7",
        model_label_set=("browse", "code", "meeting", "write"),
        calibrator_store_dir="artifacts/calibrator_store",
        calibration_method="temperature",
        reject_threshold=threshold,
        created_at="2026-01-31T12:00:00+00:00",
        source="manual",
        git_commit="unknown",
    )


def _large_policy(threshold: float) -> InferencePolicy:
    """What ``taskclf policy tune-reject --per-user --write-policy`` writes for 20 users."""
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
        per_user_reject_thresholds={f"user-{i:04d}": 0.3 + i / 40 for i in range(20)},
    )


POLICIES = {"small": _small_policy, "large": _large_policy}


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


def _changed_floor_batch(models: Path, texts: tuple[bytes, bytes], calls: int) -> float:
    # The floor under (a)'s conditions: the same untimed rewrite, then only
    # open()+read()+json.loads. It shows what the rewrite itself costs the next read.
    path = policy_path(models)
    total = 0
    for i in range(calls):
        with open(path, "wb") as handle:
            handle.write(texts[i % 2])
        start = time.perf_counter_ns()
        with open(path, "rb") as handle:
            data = handle.read()
        json.loads(data)
        total += time.perf_counter_ns() - start
    return total / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="rounds (default 300)")
    parser.add_argument("--batch", type=int, default=40, help="calls per batch (default 40)")
    options = parser.parse_args(argv)

    runs: dict[str, Callable[[], float]] = {}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        for kind, make in POLICIES.items():
            unchanged = home / kind / "unchanged" / "models"
            changing = home / kind / "changing" / "models"
            save_inference_policy(make(0.55), unchanged)
            save_inference_policy(make(0.55), changing)
            texts = (make(0.55).to_json().encode("utf-8"), make(0.65).to_json().encode("utf-8"))
            assert len(texts[0]) == len(texts[1])
            floor_file = policy_path(unchanged)
            sizes[kind] = floor_file.stat().st_size
            if load_inference_policy(unchanged) is None:
                raise SystemExit("benchmark bug: the policy did not load")
            runs[f"{kind} floor"] = functools.partial(_floor_batch, floor_file, options.batch)
            runs[f"{kind} a"] = functools.partial(_changed_batch, changing, texts, options.batch)
            runs[f"{kind} b"] = functools.partial(_unchanged_batch, unchanged, options.batch)
            runs[f"{kind} floor after rewrite"] = functools.partial(
                _changed_floor_batch, changing, texts, options.batch
            )
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

    median_us = {name: statistics.median(values) / 1000 for name, values in results.items()}
    print(
        f"{options.rounds} rounds x {options.batch} calls per batch, all eight interleaved; "
        "medians of batch means"
    )
    verdicts = []
    for kind in POLICIES:
        floor = median_us[f"{kind} floor"]
        ratio_a = median_us[f"{kind} a"] / floor
        ratio_b = median_us[f"{kind} b"] / floor
        print(f"{kind} policy file: {sizes[kind]} bytes")
        print(f"  floor  open()+read()+json.loads              {floor:9.2f} us")
        print(
            f"  (a)    load_inference_policy, bytes changed {median_us[f'{kind} a']:9.2f} us"
            f"   a/floor = {ratio_a:6.2f}"
        )
        print(
            f"  (b)    load_inference_policy, unchanged     {median_us[f'{kind} b']:9.2f} us"
            f"   b/floor = {ratio_b:6.2f}"
        )
        rewritten = median_us[f"{kind} floor after rewrite"]
        print(
            f"  floor after the rewrite (a) does first     {rewritten:9.2f} us"
            f"   a/this  = {median_us[f'{kind} a'] / rewritten:6.2f}"
        )
        verdicts.append((f"{kind} (a)", ratio_a, TARGET_A_OVER_FLOOR[kind]))
        verdicts.append((f"{kind} (b)", ratio_b, TARGET_B_OVER_FLOOR))
    for label, ratio, target in verdicts:
        verdict = "MET" if ratio <= target else "NOT MET"
        print(f"target {label} <= {target} x floor: {verdict} ({ratio:.2f} x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
