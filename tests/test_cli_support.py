"""Helpers shared by the CLI tests (``tests/test_cli_*.py``); this module holds no tests.

Every CLI test runs ``taskclf`` the way a user does: as a separate process, on
real files, reading back exactly what it printed and the exit code. Outputs
that carry the test's temporary folder, the current time or a git commit are
passed through :func:`normalise` before they are compared with a snapshot.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "EXAMPLE_FALLBACK",
    "POLICY_NAME",
    "REPO_ROOT",
    "Result",
    "cli_env",
    "normalise",
    "run_cli",
    "tree_bytes",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
POLICY_NAME = "inference_policy.json"

# What `policy show` says inference uses in a copy of examples/home without a
# usable policy: run_001 has the best metrics, with identity calibration and
# the schema's default threshold.
EXAMPLE_FALLBACK = (
    "inference uses models/run_001 via best-model selection, no calibrator, reject threshold 0.55"
)

# Timestamps written into fixture files by the tests themselves; they are kept in
# snapshots so that a change line shows which side is the fixed, old value.
_FIXED_TIMESTAMPS = frozenset(
    {
        "2000-01-01T00:00:00+00:00",  # the template's fixed created_at
        "2026-01-31T12:00:00+00:00",  # conftest.policy_document
    }
)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
_GIT_COMMIT = re.compile(r"(git_commit\W+)(?:unknown|[0-9a-f]{7,40})\b")


class Result(NamedTuple):
    """What a user sees from one ``taskclf`` run."""

    stdout: str
    stderr: str
    code: int

    def seen(self, home: Path) -> dict[str, Any]:
        """The run as a snapshot: exit code, stdout and stderr, normalised for ``home``."""
        return {
            "exit_code": self.code,
            "stdout": normalise(self.stdout, home),
            "stderr": normalise(self.stderr, home),
        }

    def json(self) -> Any:
        """stdout parsed as the one JSON document of a ``--format json`` run."""
        import json

        return json.loads(self.stdout)


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI run: this process's, without TASKCLF_HOME, plus ``extra``.

    TASKCLF_HOME is dropped so that a developer's own setting cannot leak into a
    test, and COLUMNS is pinned because argparse wraps help text to it.
    """
    env = {key: value for key, value in os.environ.items() if key != "TASKCLF_HOME"}
    env["COLUMNS"] = "80"
    env.update(extra or {})
    return env


def run_cli(
    *args: str | Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
) -> Result:
    """Run ``python -m taskclf ARGS`` in ``cwd`` and return what it printed and its exit code.

    ``env`` adds variables to :func:`cli_env`. Without ``input``, stdin is
    ``/dev/null``: not a terminal, as in a script or CI job.
    """
    stdin = None if input is not None else subprocess.DEVNULL
    completed = subprocess.run(
        [sys.executable, "-m", "taskclf", *(str(arg) for arg in args)],
        cwd=cwd,
        env=cli_env(env),
        input=input,
        stdin=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,  # a safety net against a hung child, not a speed requirement
    )
    return Result(completed.stdout, completed.stderr, completed.returncode)


def normalise(text: str, home: Path) -> str:
    """Make CLI output stable across runs, for snapshots.

    ``home`` becomes ``<HOME>`` and its parent (the test's tmp_path) ``<TMP>``;
    timestamps taken from the clock become ``<TIMESTAMP>``; the ``git_commit``
    value (``unknown`` outside a checkout, else a hash) becomes ``<GIT_COMMIT>``.
    """
    for path, label in ((home, "<HOME>"), (home.parent, "<TMP>")):
        for spelling in dict.fromkeys((str(path.resolve()), str(path))):
            text = text.replace(spelling, label)
    text = _TIMESTAMP.sub(
        lambda m: m.group(0) if m.group(0) in _FIXED_TIMESTAMPS else "<TIMESTAMP>", text
    )
    return _GIT_COMMIT.sub(r"\1<GIT_COMMIT>", text)


def tree_bytes(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder`` with its bytes (files) or kind (folders, links).

    Comparing this before and after a command shows that the command changed
    nothing there: no file rewritten, no temporary file left behind.
    """
    entries: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            entries[name] = f"symlink -> {os.readlink(path)}"
        elif stat.S_ISDIR(mode):
            entries[name] = "folder"
        elif stat.S_ISREG(mode):
            entries[name] = path.read_bytes()
        else:  # a FIFO or socket: reading it could block
            entries[name] = f"special file, mode {stat.filemode(mode)}"
    return entries
