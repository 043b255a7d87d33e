"""Defaults of reject-threshold tuning, in a module of their own.

The command line shows them in ``--help`` without importing the tuning
machinery, so they live apart from :mod:`taskclf.tune.sweep`, which uses them.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_DELTA",
    "DEFAULT_MIN_USER_SAMPLES",
    "DEFAULT_REJECT_RATE_MAX",
    "DEFAULT_REJECT_RATE_MIN",
    "DEFAULT_THRESHOLD_SPEC",
]

DEFAULT_THRESHOLD_SPEC = "0.10:0.95:0.05"
"""Candidate thresholds when none are given: 0.10, 0.15, ..., 0.95 (18 values)."""

DEFAULT_REJECT_RATE_MIN = 0.0
"""Lowest acceptable reject rate by default: rejecting nothing is fine."""

DEFAULT_REJECT_RATE_MAX = 0.30
"""Highest acceptable reject rate by default: at most 30 % of predictions
become "unknown", so accuracy is not bought by rejecting most of them."""

DEFAULT_MIN_USER_SAMPLES = 100
"""Fewest rows a user needs for a threshold of their own: below 100 rows one
row moves the user's reject rate by more than a percentage point."""

DEFAULT_DELTA = 0.05
"""Default ``--delta`` of a certified choice: the guarantee holds with probability 95 %."""
