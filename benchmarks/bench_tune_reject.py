"""Benchmark of the tune-reject engine: read, validate and sweep a large scores file.

Not a test: run it by hand and read the figures.

    python benchmarks/bench_tune_reject.py                 # 1,000,000 JSON Lines rows
    python benchmarks/bench_tune_reject.py --csv           # the same rows as CSV too
    python benchmarks/bench_tune_reject.py --probabilities # rows with probabilities
    python benchmarks/bench_tune_reject.py --rows 20000 --full-validation

It writes a generated file to a temporary folder (deleted afterwards), then
runs :class:`~taskclf.tune.scores.ScoreReader` and
:func:`~taskclf.tune.sweep.tune_reject` (per user, 200 users) over it twice,
each time in a fresh process: once timed, for rows per second and the peak
resident memory of the process, and once under :mod:`tracemalloc`, for the
peak of memory Python allocated during the run (tracing slows the run down,
so that run is not timed).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from taskclf.core.schemas import validate_document
from taskclf.tune.schema_check import schema_check
from taskclf.tune.scores import SCORE_ROW_SCHEMA, ScoreReader
from taskclf.tune.sweep import TuneResult, default_thresholds, tune_reject

LABELS = ("browse", "code", "meeting", "write")
USERS = 200


def generate_rows(count: int, *, probabilities: bool, seed: int = 7) -> Iterator[dict[str, object]]:
    """Rows whose predictions are right more often when the confidence is high."""
    rng = random.Random(seed)
    for index in range(count):
        label = rng.choice(LABELS)
        confidence = round(rng.uniform(0.25, 1.0), 4)
        predicted = label if rng.random() < confidence else rng.choice(LABELS)
        row: dict[str, object] = {"label": label}
        if probabilities:
            rest = round((1.0 - confidence) / (len(LABELS) - 1), 4)
            row["probabilities"] = {
                name: confidence if name == predicted else rest for name in LABELS
            }
        else:
            row["predicted"] = predicted
            row["confidence"] = confidence
        if index % 10:
            row["user_id"] = f"user{rng.randrange(USERS):03d}"
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


def run(path: Path, *, fast_check: bool) -> tuple[TuneResult, ScoreReader]:
    reader = ScoreReader(path, label_set=LABELS, fast_check=fast_check)
    result = tune_reject(reader, per_user=True, min_user_samples=100)
    return result, reader


def measure_once(path: Path, fast_check: bool, trace: bool) -> dict[str, float]:
    """One run in this process: its time, memory figures and what it chose."""
    # Load the schemas, jsonschema and the compiled check first: one-off
    # start-up costs, not part of reading the rows.
    schema_check(SCORE_ROW_SCHEMA)
    validate_document(SCORE_ROW_SCHEMA, {})
    default_thresholds()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    result, reader = run(path, fast_check=fast_check)
    elapsed = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    return {
        "rows": reader.rows_read,
        "seconds": elapsed,
        "rss_before_kib": rss_before,
        "rss_peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "traced_peak_bytes": traced_peak,
        "threshold": result.threshold,
        "users": len(result.per_user),
    }


def in_fresh_process(path: Path, *, fast_check: bool, trace: bool) -> dict[str, float]:
    # A new process per run, so its peak RSS belongs to that run alone.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(measure_once, path, fast_check, trace).result()


def measure(path: Path, *, fast_check: bool, trace: bool) -> None:
    timed = in_fresh_process(path, fast_check=fast_check, trace=False)
    print(f"{path.name}: {timed['rows']:,} rows, {path.stat().st_size / 1e6:.1f} MB")
    print(f"  validation:   {'compiled schema check' if fast_check else 'validate_document'}")
    print(f"  time:         {timed['seconds']:.2f} s")
    print(f"  throughput:   {timed['rows'] / timed['seconds']:,.0f} rows/s")
    print(
        f"  peak RSS:     {timed['rss_peak_kib'] / 1024:.1f} MiB "
        f"(before reading: {timed['rss_before_kib'] / 1024:.1f} MiB)"
    )
    if trace:
        traced = in_fresh_process(path, fast_check=fast_check, trace=True)
        print(f"  tracemalloc:  {traced['traced_peak_bytes'] / 1024:.0f} KiB peak during the run")
    print(f"  chosen:       {timed['threshold']} ({timed['users']} users tuned)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to generate")
    parser.add_argument("--csv", action="store_true", help="also benchmark the rows as CSV")
    parser.add_argument(
        "--probabilities", action="store_true", help="rows with probabilities, not confidence"
    )
    parser.add_argument(
        "--full-validation",
        action="store_true",
        help="validate every row with validate_document (slow) instead of the compiled check",
    )
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run")
    options = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {options.rows:,} generated rows")
    with tempfile.TemporaryDirectory(prefix="bench_tune_reject_") as folder:
        paths = [Path(folder) / "scores.jsonl"]
        write_jsonl(paths[0], generate_rows(options.rows, probabilities=options.probabilities))
        if options.csv:
            paths.append(Path(folder) / "scores.csv")
            write_csv(
                paths[1],
                generate_rows(options.rows, probabilities=options.probabilities),
                probabilities=options.probabilities,
            )
        for path in paths:
            measure(path, fast_check=not options.full_validation, trace=not options.no_trace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
