"""Benchmark of the tune-reject engine: read, validate and sweep a large scores file.

Not a test: run it by hand and read the ratios.

    python benchmarks/bench_tune_reject.py                  # 1,000,000 rows, 3 rounds
    python benchmarks/bench_tune_reject.py --probabilities  # rows with probabilities
    python benchmarks/bench_tune_reject.py --rows 20000 --full-validation

It writes the same generated rows as JSON Lines and as CSV to a temporary
folder (deleted afterwards), then times, each in a fresh process and in a
rotating order round after round (the machine is shared and noisy; figures
are medians over the rounds):

* the JSON Lines floor: ``json.loads`` of every line, nothing else;
* the CSV floor: every record of ``csv.reader``, nothing else;
* :class:`~taskclf.tune.scores.ScoreReader` and
  :func:`~taskclf.tune.sweep.tune_reject` over each file, globally and
  ``--per-user`` (200 users unless ``--users``), with the peak resident memory of each process.

Targets: JSON Lines at most 1.5 x its floor, CSV at most 3 x its floor,
per-user at most 1.2 x the global run, peak RSS at most 64 MiB. With
``--trace`` one more run per file, under :mod:`tracemalloc`, reports the peak
of memory Python allocated while reading (tracing slows it down, so it is not
timed).
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from taskclf.core.schemas import validate_document
from taskclf.tune.scores import SCORE_ROW_SCHEMA, ScoreReader
from taskclf.tune.sweep import default_thresholds, tune_reject

LABELS = ("browse", "code", "meeting", "write")
USERS = 200


def generate_rows(
    count: int, *, probabilities: bool, users: int = USERS, seed: int = 7
) -> Iterator[dict[str, object]]:
    """Rows whose predictions are right more often when the confidence is high."""
    rng = random.Random(seed)
    for index in range(count):
        label = rng.choice(LABELS)
        confidence = round(rng.uniform(0.25, 1.0), 4)
        predicted = label if rng.random() < confidence else rng.choice(LABELS)
        row: dict[str, object] = {"label": label}
        if probabilities:
            # A distribution: the last other label takes what rounding left, so the
            # probabilities sum to 1 (well within the reader's tolerance).
            others = [name for name in LABELS if name != predicted]
            rest = round((1.0 - confidence) / len(others), 4)
            values = {name: rest for name in others}
            values[others[-1]] = round(1.0 - confidence - rest * (len(others) - 1), 6)
            values[predicted] = confidence
            row["probabilities"] = {name: values[name] for name in LABELS}
        else:
            row["predicted"] = predicted
            row["confidence"] = confidence
        if index % 10:
            row["user_id"] = f"user{rng.randrange(users):03d}"
        yield row


def write_jsonl(path: Path, rows: Iterator[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as stream:
        for row in rows:
            stream.write(json.dumps(row) + "\n")


def write_csv(path: Path, rows: Iterator[dict[str, object]], *, probabilities: bool) -> None:
    if probabilities:
        columns = ["label", *(f"p_{name}" for name in LABELS)]
    else:
        columns = ["label", "predicted", "confidence"]
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write(",".join([*columns, "user_id"]) + "\n")
        for row in rows:
            cells = [str(row["label"])]
            if probabilities:
                values = row["probabilities"]
                assert isinstance(values, dict)
                cells += [str(values[name]) for name in LABELS]
            else:
                cells += [str(row["predicted"]), str(row["confidence"])]
            cells.append(str(row.get("user_id", "")))
            stream.write(",".join(cells) + "\n")


TARGETS = {"jsonl": 1.5, "csv": 3.0, "per-user": 1.2, "rss_mib": 64.0}


def floor(path: Path) -> int:
    """Parse the file and do nothing else: the cost of the format itself."""
    count = 0
    if path.suffix == ".jsonl":
        loads = json.loads
        with path.open("rb") as stream:
            for line in stream:
                loads(line)
                count += 1
    else:
        with path.open(encoding="utf-8", newline="") as stream:
            for _record in csv.reader(stream):
                count += 1
    return count


def measure_once(path: Path, task: str, fast_check: bool, trace: bool) -> dict[str, float]:
    """One run in this process: its time, memory figures and what it chose."""
    # Load the schemas, the generated validator and jsonschema first: one-off
    # start-up costs, not part of reading the rows.
    validate_document(SCORE_ROW_SCHEMA, {})
    default_thresholds()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    threshold, users = 0.0, 0
    if task == "floor":
        rows = floor(path)
    else:
        reader = ScoreReader(path, label_set=LABELS, fast_check=fast_check)
        result = tune_reject(reader, per_user=task == "per-user", min_user_samples=100)
        rows, threshold, users = reader.rows_read, result.threshold, len(result.per_user)
    elapsed = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    return {
        "rows": rows,
        "seconds": elapsed,
        "rss_before_kib": rss_before,
        "rss_peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "traced_peak_bytes": traced_peak,
        "threshold": threshold,
        "users": users,
    }


def in_fresh_process(path: Path, task: str, *, fast_check: bool, trace: bool) -> dict[str, float]:
    # A new process per run, so its peak RSS belongs to that run alone.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(measure_once, path, task, fast_check, trace).result()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to generate")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument(
        "--probabilities", action="store_true", help="rows with probabilities, not confidence"
    )
    parser.add_argument(
        "--full-validation",
        action="store_true",
        help="send every row through the strict reader and validate_document (slow)",
    )
    parser.add_argument(
        "--users", type=int, default=USERS, help=f"distinct user ids (default {USERS})"
    )
    parser.add_argument("--trace", action="store_true", help="add a tracemalloc run per file")
    options = parser.parse_args(argv)
    fast = not options.full_validation
    print(
        f"python {sys.version.split()[0]}, {options.rows:,} generated rows, {options.rounds} rounds"
    )
    with tempfile.TemporaryDirectory(prefix="bench_tune_reject_") as folder:
        paths = {"jsonl": Path(folder) / "scores.jsonl", "csv": Path(folder) / "scores.csv"}
        write_jsonl(
            paths["jsonl"],
            generate_rows(options.rows, probabilities=options.probabilities, users=options.users),
        )
        write_csv(
            paths["csv"],
            generate_rows(options.rows, probabilities=options.probabilities, users=options.users),
            probabilities=options.probabilities,
        )
        runs = [(kind, task) for kind in paths for task in ("floor", "global", "per-user")]
        results: dict[tuple[str, str], list[dict[str, float]]] = {run: [] for run in runs}
        for round_no in range(options.rounds):
            shift = round_no % len(runs)
            for kind, task in runs[shift:] + runs[:shift]:
                measured = in_fresh_process(paths[kind], task, fast_check=fast, trace=False)
                results[kind, task].append(measured)
        traced = {}
        if options.trace:
            for kind, path in paths.items():
                traced[kind] = in_fresh_process(path, "per-user", fast_check=fast, trace=True)
        sizes = {kind: path.stat().st_size for kind, path in paths.items()}

    seconds = {
        run: statistics.median(r["seconds"] for r in values) for run, values in results.items()
    }
    peak_rss = (
        max(
            r["rss_peak_kib"]
            for (_, task), values in results.items()
            if task != "floor"
            for r in values
        )
        / 1024
    )
    verdicts = []
    for kind in paths:
        base, glob, per_user = (seconds[kind, task] for task in ("floor", "global", "per-user"))
        last = results[kind, "per-user"][-1]
        floor_name = "json.loads per line" if kind == "jsonl" else "csv.reader"
        traced_kib = traced[kind]["traced_peak_bytes"] / 1024 if kind in traced else None
        print(f"{kind}: {options.rows:,} rows, {sizes[kind] / 1e6:.1f} MB")
        print(f"  floor ({floor_name}): {base:6.2f} s")
        print(
            f"  tune-reject:          {glob:6.2f} s  {glob / base:5.2f} x floor"
            f"  ({options.rows / glob:,.0f} rows/s)"
        )
        print(f"  tune-reject per-user: {per_user:6.2f} s  {per_user / glob:5.2f} x global")
        print(f"  chosen: {last['threshold']} ({last['users']} users tuned)")
        if traced_kib is not None:
            print(f"  tracemalloc: {traced_kib:.0f} KiB peak during a per-user run")
        verdicts.append((f"{kind} <= {TARGETS[kind]} x floor", glob / base, TARGETS[kind]))
        verdicts.append(
            (
                f"{kind} per-user <= {TARGETS['per-user']} x global",
                per_user / glob,
                TARGETS["per-user"],
            )
        )
    verdicts.append((f"peak RSS <= {TARGETS['rss_mib']:.0f} MiB", peak_rss, TARGETS["rss_mib"]))
    print(f"peak RSS of the tune-reject runs: {peak_rss:.1f} MiB")
    for label, value, target in verdicts:
        print(f"target {label}: {'MET' if value <= target else 'NOT MET'} ({value:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
