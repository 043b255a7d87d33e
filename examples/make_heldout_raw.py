"""Write examples/heldout_raw.jsonl: raw (uncalibrated) held-out probabilities for models/run_001.

Run once, from a fixed seed; a test runs it again and compares the output with
the checked-in file. Each line is a score row (schemas/score_row.v1.json):
the true ``label``, the model's raw ``probabilities`` over run_001's labels and,
for most rows, a ``user_id``: alice and bob have their own calibrators in
examples/home/artifacts/calibrator_store/users/, carol and rows without a
user fall back to its global.json.

The simulated model is overconfident (its logits are scaled up), as an
uncalibrated classifier often is, so that calibration visibly changes the
confidences. Standard library only::

    python examples/make_heldout_raw.py [--output FILE] [--rows N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

__all__ = ["LABELS", "SEED", "main", "rows"]

LABELS = ("browse", "code", "meeting", "write")
"""run_001's label set (examples/home/models/run_001/metadata.json), in sorted order."""
SEED = 20261201
USERS = ("alice", "bob", "carol", None)
_SIGNAL = 1.6  # how far the true label's logit stands out, before overconfidence
_OVERCONFIDENCE = 2.4  # logits are multiplied by this


def _softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = math.fsum(exps)
    return [e / total for e in exps]


def rows(count: int, seed: int = SEED) -> list[dict[str, object]]:
    """``count`` simulated held-out rows, the same for the same ``seed``."""
    rng = random.Random(seed)
    made: list[dict[str, object]] = []
    for _ in range(count):
        truth = rng.randrange(len(LABELS))
        user = USERS[rng.randrange(len(USERS))]
        # Each user's examples are a little easier or harder to tell apart.
        signal = _SIGNAL * {"alice": 1.2, "bob": 0.8}.get(user or "", 1.0)
        logits = [rng.gauss(0.0, 1.0) + (signal if j == truth else 0.0) for j in range(4)]
        probabilities = _softmax([_OVERCONFIDENCE * z for z in logits])
        row: dict[str, object] = {
            "label": LABELS[truth],
            "probabilities": {
                label: round(p, 6) for label, p in zip(LABELS, probabilities, strict=True)
            },
        }
        if user is not None:
            row["user_id"] = user
        made.append(row)
    return made


def main(argv: list[str] | None = None) -> int:
    """Write the rows as JSON Lines; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parent
    parser.add_argument("--output", type=Path, default=here / "heldout_raw.jsonl")
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    lines = [json.dumps(row, sort_keys=True) + "\n" for row in rows(args.rows, args.seed)]
    args.output.write_text("".join(lines), encoding="utf-8")
    print(f"Wrote {len(lines)} rows to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
