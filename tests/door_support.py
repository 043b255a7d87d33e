"""Helpers shared by the issue-8 regression tests (``tests/test_door_*.py``); no tests here.

Every CLI run goes through the console script installed beside ``sys.executable``
(:func:`conftest.console_script`), with stdin from ``/dev/null``-like DEVNULL and a
timeout, exactly as a user or a CI job runs it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from test_cli_support import Result, cli_env

from conftest import console_script, write_json

__all__ = [
    "assert_clean",
    "deep_text",
    "deep_value",
    "listing",
    "policy_text_with",
    "run_taskclf",
    "write_policy_doc",
    "write_raw",
]


def run_taskclf(
    *args: str | Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    input: str | None = None,
    memory_limit: int | None = None,
) -> Result:
    """Run the ``taskclf`` console script with ``args`` in ``cwd``; return what it printed.

    ``memory_limit`` caps the child's address space (bytes), so a run that would read a
    huge file into memory fails in the child instead of exhausting the machine.
    """

    def limit() -> None:
        if memory_limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    completed = subprocess.run(
        [str(console_script()), *(str(arg) for arg in args)],
        cwd=cwd,
        env=cli_env(env),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="surrogateescape",
        check=False,
        timeout=timeout,
        preexec_fn=limit if memory_limit is not None else None,
    )
    return Result(completed.stdout, completed.stderr, completed.returncode)


def assert_clean(result: Result) -> None:
    """No traceback and no "internal error" in what the run printed."""
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream, result
        assert "internal error" not in stream, result


def deep_value(depth: int) -> Any:
    """A JSON value nested ``depth`` levels deep (alternating arrays and objects)."""
    value: Any = "bottom"
    for level in reversed(range(depth)):
        value = [value] if level % 2 else {"k": value}
    return value


def deep_text(depth: int) -> str:
    """JSON text nested ``depth`` levels deep: objects and arrays alternating, outermost object."""
    openers = ['{"k": ' if level % 2 == 0 else "[" for level in range(depth)]
    closers = ["}" if level % 2 == 0 else "]" for level in reversed(range(depth))]
    return "".join(openers) + '"bottom"' + "".join(closers)


def write_policy_doc(models: Path, document: Mapping[str, Any]) -> Path:
    """Write ``document`` as ``models/inference_policy.json``."""
    return write_json(models / "inference_policy.json", dict(document))


def write_raw(path: Path, text: str) -> Path:
    """Write ``text`` at ``path`` as is (UTF-8), creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def policy_text_with(document: Mapping[str, Any], raw_extra: Sequence[tuple[str, str]]) -> str:
    """``document`` as JSON text with extra ``"key": RAW`` members spliced in verbatim."""
    text = json.dumps(dict(document), indent=2)
    members = "".join(f",\n  {json.dumps(key)}: {raw}" for key, raw in raw_extra)
    return text[: text.rindex("}")].rstrip() + members + "\n}\n"


def listing(folder: Path) -> list[str]:
    """The names in ``folder``, sorted (hidden ones included)."""
    return sorted(os.listdir(folder))
