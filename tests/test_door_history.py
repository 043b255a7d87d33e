"""Issue 8, finding 8: `model set-active` on a nearly full disk.

A history record (``models/active_history.jsonl``) is written completely or not at
all, and fsynced, before ``active.json`` is switched: a run that exits 0 switched the
pointer and has a complete record; a run that exits 1 left the pointer as it was; the
history never holds a torn line.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from door_support import assert_clean, run_taskclf

from conftest import EXAMPLE_HOME

POINTER = {
    "model_dir": "models/run_001",
    "selected_at": "2026-01-31T12:00:00+00:00",
    "policy_version": "v1",
}
RECORD = {"at": "2026-01-31T12:00:00+00:00", "old": None, "new": POINTER}


@pytest.fixture
def tiny_home(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, inside tmp_path, holding a copy of examples/home; unmounted after."""
    home = tmp_path / "tiny"
    home.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(home)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        for name in ("run_001", "run_002"):
            shutil.copytree(EXAMPLE_HOME / "models" / name, home / "models" / name)
        yield home
    finally:
        result = subprocess.run(["umount", str(home)], capture_output=True, check=False)
        if result.returncode != 0:
            subprocess.run(["umount", "-l", str(home)], capture_output=True, check=False)


def _fill(path: Path) -> int:
    """Fill the file system of ``path`` until it is full; return the bytes written."""
    written = 0
    with path.open("wb", buffering=0) as stream:
        for size in (4096, 1):
            while True:
                try:
                    count = stream.write(b"x" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
                written += count or 0
                if not count:
                    break
    return written


def _history(models: Path) -> list[dict[str, object]]:
    path = models / "active_history.jsonl"
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    torn = bool(text) and not text.endswith("\n")
    assert not torn, f"torn last line: {text[-120:]!r}"
    return [json.loads(line) for line in text.splitlines()]  # a torn line fails here


class TestSetActiveOnAFullDisk:
    """Each set-active run either completes (pointer + full record) or changes nothing."""

    def test_all_or_nothing(self, tiny_home: Path) -> None:
        models = tiny_home / "models"
        # A history whose last page is nearly full, so the next record straddles a page.
        seed = json.dumps(RECORD) + "\n"
        lines = (4096 - 40) // len(seed)
        text = seed * lines
        text += json.dumps({**RECORD, "_pad": "x" * (4096 - 52 - len(text) - len(seed))}) + "\n"
        (models / "active_history.jsonl").write_text(text, encoding="utf-8")
        filler = tiny_home / "filler"
        _fill(filler)
        outcomes: list[int] = []
        unnamed: list[str] = []  # failure messages that do not name the file
        targets = ["models/run_002", "models/run_001"]
        for attempt in range(12):
            active = models / "active.json"
            before = active.read_bytes() if active.exists() else None
            history_before = len(_history(models))
            target = targets[attempt % 2]
            result = run_taskclf("model", "set-active", "--model-dir", target, cwd=tiny_home)
            assert_clean(result)
            assert result.code in (0, 1), result
            outcomes.append(result.code)
            history = _history(models)
            if result.code == 0:
                assert json.loads(active.read_bytes())["model_dir"] == target
                assert len(history) == history_before + 1
                assert history[-1]["new"]["model_dir"] == target
            else:
                assert (active.read_bytes() if active.exists() else None) == before
                assert len(history) in (history_before, history_before + 1)
                if not any(
                    name in result.stderr for name in ("active_history.jsonl", "active.json")
                ):
                    unnamed.append(result.stderr)
            # Free one page for the next attempt, so every amount of free space is tried.
            size = filler.stat().st_size
            with contextlib.suppress(OSError):
                os.truncate(filler, max(0, size - 2048))
        assert 1 in outcomes, "the disk never filled up; the test proved nothing"
        assert unnamed == [], "a failure message must name the file that could not be written"
