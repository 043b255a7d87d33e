"""Issue 8, finding 11: every read is bounded in time and memory.

A FIFO where a file is expected is refused at once (never waited on); a huge file is
refused by its size without being read; one enormous CSV row is refused by its length
while memory stays small.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from door_support import assert_clean, run_taskclf
from test_cli_support import Result, cli_env

from conftest import console_script

HUGE = 2 * 1024**3  # a sparse 2 GiB file: no disk used, but far over any read limit
SIZE_WORDS = ("1048576", "1 MiB", "byte limit", "too large", "larger than")
GIB = 1024**3
TOO_LONG = ("too long", "longer than")


def _run_or_fail(*args: str | Path, cwd: Path, **kwargs: Any) -> Result:
    try:
        return run_taskclf(*args, cwd=cwd, timeout=20, **kwargs)
    except subprocess.TimeoutExpired:
        pytest.fail(f"taskclf {' '.join(map(str, args))} hung (no answer within 20 s)")


class TestTemplateCheckReadsBounded:
    """`policy template --check --output P` refuses a FIFO at once and a huge file by size."""

    def test_fifo(self, tmp_path: Path) -> None:
        fifo = tmp_path / "template.json"
        os.mkfifo(fifo)
        result = _run_or_fail("policy", "template", "--check", "--output", fifo, cwd=tmp_path)
        assert_clean(result)
        assert result.code == 1
        assert "not a regular file" in result.stderr + result.stdout

    def test_huge_sparse_file(self, tmp_path: Path) -> None:
        huge = tmp_path / "template.json"
        huge.touch()
        os.truncate(huge, HUGE)
        result = _run_or_fail(
            "policy", "template", "--check", "--output", huge, cwd=tmp_path, memory_limit=GIB
        )
        assert_clean(result)
        assert result.code == 1
        text = result.stderr + result.stdout
        assert any(word in text for word in SIZE_WORDS), text[-400:]


_REPLACING_EDITOR = """\
#!/bin/sh
# A scripted editor that replaces the copy it was given with something hostile.
rm -f "$1"
{action}
"""


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ('mkfifo "$1"', ("not a regular file",)),
        (f'truncate -s {HUGE} "$1"', SIZE_WORDS),
    ],
    ids=["fifo", "huge"],
)
class TestEditReadsTheCopyBounded:
    """`policy edit` refuses a copy the editor replaced with a FIFO or a huge file."""

    def test_refused(
        self, home: Path, tmp_path: Path, action: str, expected: tuple[str, ...]
    ) -> None:
        assert run_taskclf("policy", "create", "--model-dir", "models/run_001", cwd=home).code == 0
        live = home / "models" / "inference_policy.json"
        before = live.read_bytes()
        editor = tmp_path / "hostile-editor"
        editor.write_text(_REPLACING_EDITOR.format(action=action))
        editor.chmod(0o755)
        edit_tmp = tmp_path / "edit-tmp"
        edit_tmp.mkdir()
        env = {"EDITOR": str(editor), "VISUAL": "", "TMPDIR": str(edit_tmp)}
        result = _run_or_fail("policy", "edit", cwd=home, env=env, memory_limit=GIB)
        assert_clean(result)
        assert result.code == 1
        text = result.stderr + result.stdout
        assert any(word in text for word in expected), text[-400:]
        assert live.read_bytes() == before


_MEASURE = textwrap.dedent(
    """\
    import resource, subprocess, sys
    done = subprocess.run(sys.argv[2:], cwd=sys.argv[1], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(done.returncode)
    print(peak_kib)
    sys.stdout.write(done.stderr)
    """
)


class TestOneEnormousCsvRow:
    """A 50 MB CSV row is refused as too long, naming its line, with a small peak RSS."""

    def test_refused_with_bounded_memory(self, home: Path) -> None:
        scores = home / "scores.csv"
        with scores.open("w", encoding="utf-8") as stream:
            stream.write("label,predicted,confidence,user_id\n")
            stream.write("code,code,0.9,alice\n")
            # One 50 MB row of tiny fields: no single field is over the csv field limit.
            stream.write("code,code,0.9,carol" + ",x" * (25 * 1024 * 1024) + "\n")
            stream.write("code,code,0.8,bob\n")
        command = [
            str(console_script()), "policy", "tune-reject", "--scores", str(scores),
            "--model-dir", "models/run_001", "--no-calibrator",
        ]  # fmt: skip
        measured = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(home), *command],
            capture_output=True,
            text=True,
            env=cli_env(),
            stdin=subprocess.DEVNULL,
            timeout=90,
            check=True,
        )
        code, peak_kib, stderr = measured.stdout.split("\n", 2)
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr[-400:]
        assert int(code) == 1
        assert int(peak_kib) < 200 * 1024, f"peak RSS {int(peak_kib) // 1024} MiB"
        assert "line 3" in stderr or "scores.csv:3:" in stderr, stderr[-400:]
        assert any(words in stderr for words in TOO_LONG), stderr[-400:]


def test_json_lines_row_is_bounded_too(home: Path) -> None:
    """The same for a 50 MB JSON Lines row: refused as too long, naming its line."""
    scores = home / "scores.jsonl"
    row = {"label": "code", "predicted": "code", "confidence": 0.9}
    with scores.open("w", encoding="utf-8") as stream:
        stream.write(json.dumps(row) + "\n")
        stream.write(json.dumps({**row, "user_id": "u" * (50 * 1024 * 1024)}) + "\n")
    result = _run_or_fail(
        "policy", "tune-reject", "--scores", scores, "--model-dir", "models/run_001",
        "--no-calibrator", cwd=home, memory_limit=GIB,
    )  # fmt: skip
    assert_clean(result)
    assert result.code == 1
    assert "line 2" in result.stderr or "scores.jsonl:2:" in result.stderr
    assert any(words in result.stderr for words in TOO_LONG)
