"""Provenance values stamped on policies: the current time and the git commit."""

from __future__ import annotations

__all__ = ["UNKNOWN_COMMIT", "current_git_commit", "utc_now_iso"]

UNKNOWN_COMMIT = "unknown"
"""``git_commit`` value when no commit can be determined."""

_GIT_TIMEOUT_S = 2.0


def utc_now_iso() -> str:
    """Return the current UTC time as ISO-8601 with seconds, e.g. ``2026-01-31T12:00:00+00:00``."""
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


def current_git_commit() -> str:
    """Return ``git rev-parse HEAD`` of the current folder, or :data:`UNKNOWN_COMMIT`.

    Runs git directly (no shell) with a short timeout, so a missing git, a folder
    outside any repository or a hung git all give :data:`UNKNOWN_COMMIT`.
    """
    import subprocess  # imported here: most commands never ask for a commit

    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN_COMMIT
    commit = result.stdout.strip()
    if result.returncode != 0 or not commit:
        return UNKNOWN_COMMIT
    return commit
