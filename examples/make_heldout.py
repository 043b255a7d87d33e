"""Write examples/heldout.jsonl: calibrated held-out predictions of models/run_001.

The README's tour tunes the reject threshold on this file (``policy tune-reject
--scores heldout.jsonl``). Each line is a score row (schemas/score_row.v1.json):
the true ``label``, the ``predicted`` label, its ``confidence`` (the top
calibrated probability) and, for most rows, a ``user_id``. The scores are
calibrated by construction: a row with confidence c is predicted correctly with
probability c. Run once, from a fixed seed; a test runs it again and compares the
output with the checked-in file. Standard library only, and only
``random.random()``, whose sequence Python keeps the same across versions::

    python examples/make_heldout.py [--output FILE] [--rows N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["LABELS", "SEED", "main", "rows"]

LABELS = ("browse", "code", "meeting", "write")
"""run_001's label set (examples/home/models/run_001/metadata.json), in sorted order."""
SEED = 20261201
USERS = ("alice", "bob", "carol", None)


def rows(count: int, seed: int = SEED) -> list[dict[str, object]]:
    """``count`` simulated held-out rows, the same for the same ``seed``."""
    import random

    rng = random.Random(seed)
    made: list[dict[str, object]] = []
    for _ in range(count):
        truth = LABELS[int(rng.random() * len(LABELS))]
        user = USERS[int(rng.random() * len(USERS))]
        # The top probability of four labels is at least 0.25; most are high.
        confidence = round(0.25 + 0.75 * rng.random() ** 0.6, 4)
        if rng.random() < confidence:
            predicted = truth
        else:
            others = [label for label in LABELS if label != truth]
            predicted = others[int(rng.random() * len(others))]
        row: dict[str, object] = {"label": truth, "predicted": predicted, "confidence": confidence}
        if user is not None:
            row["user_id"] = user
        made.append(row)
    return made


def main(argv: list[str] | None = None) -> int:
    """Write the rows as JSON Lines; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parent
    parser.add_argument("--output", type=Path, default=here / "heldout.jsonl")
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    lines = [json.dumps(row, sort_keys=True) + "\n" for row in rows(args.rows, args.seed)]
    args.output.write_text("".join(lines), encoding="utf-8")
    print(f"Wrote {len(lines)} rows to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
