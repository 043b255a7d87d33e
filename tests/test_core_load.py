"""Tests for :func:`taskclf.core.inference_policy.load_inference_policy` on real files.

A policy file is edited by hand, so anything can be at its path. Loading never
raises: a good file gives a policy, no file gives ``None`` silently, and
anything else gives ``None`` with exactly one WARNING naming the file and why.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from taskclf.core.inference_policy import (
    InferencePolicy,
    PolicyFileError,
    PolicySchemaError,
    load_inference_policy,
    policy_path,
    read_inference_policy,
)
from taskclf.core.jsonio import MAX_JSON_BYTES

LOGGER = "taskclf.core.inference_policy"


def _valid_text(threshold: str = "0.55") -> str:
    return (
        '{"model_dir": "models/run_001", "model_schema_hash": "f3a9c2d1e8b7",'
        ' "model_label_set": ["browse", "code"], "reject_threshold": ' + threshold + "}"
    )


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]


def _assert_ignored(models_dir: Path, caplog: pytest.LogCaptureFixture, *reason_parts: str) -> str:
    """Load, expect ``None`` and one WARNING that names the file and the reason."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert load_inference_policy(models_dir) is None
    records = _warnings(caplog)
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].levelno == logging.WARNING
    message = records[0].getMessage()
    assert str(policy_path(models_dir)) in message
    for part in reason_parts:
        assert part in message
    return message


BAD_CONTENTS: list[tuple[str, bytes, tuple[str, ...]]] = [
    ("empty", b"", ("is empty",)),
    ("whitespace-only", b" \n\t\n", ("is empty",)),
    ("invalid-json", b'{"model_dir": ', ("is not valid JSON", "line 1 column")),
    ("trailing-garbage", _valid_text().encode() + b" x", ("is not valid JSON", "Extra data")),
    ("top-level-array", b"[" + _valid_text().encode() + b"]", ("(root)", "not of type object")),
    ("top-level-null", b"null", ("(root)", "null is not of type object")),
    ("top-level-string", b'"policy"', ("(root)", "not of type object")),
    ("nan-literal", _valid_text("NaN").encode(), ("NaN is not valid JSON",)),
    ("infinity-literal", _valid_text("Infinity").encode(), ("Infinity is not valid JSON",)),
    ("minus-infinity-literal", _valid_text("-Infinity").encode(), ("-Infinity is not valid",)),
    ("overflowing-float", _valid_text("1e999").encode(), ("1e999 is too large",)),
    ("overflowing-negative", _valid_text("-1e999").encode(), ("-1e999 is too large",)),
    ("huge-integer", _valid_text("1" + "0" * 5000).encode(), ("5001 digits is too long",)),
    ("true-threshold", _valid_text("true").encode(), ("/reject_threshold", "true is not of type")),
    ("string-threshold", _valid_text('"0.5"').encode(), ("/reject_threshold", '"0.5" is not of')),
    ("out-of-range", _valid_text("1.5").encode(), ("/reject_threshold", "maximum of 1")),
    (
        "duplicate-keys",
        _valid_text().replace("{", '{"reject_threshold": 0.1, ', 1).encode(),
        ('"reject_threshold" appears twice',),
    ),
    (
        "nested-duplicate-keys",
        _valid_text().replace("{", '{"_help": {"a": 1, "a": 2}, ', 1).encode(),
        ('"a" appears twice',),
    ),
    ("non-utf8", _valid_text().replace("code", "c\xf6de").encode("latin-1"), ("not UTF-8",)),
    ("utf16", _valid_text().encode("utf-16"), ("not UTF-8",)),
    ("deep-nesting", b"[" * 200_000, ("nested more than 64 levels deep",)),
    ("deep-objects", b'{"_a":' * 100_000, ("nested more than 64 levels deep",)),
    (
        "typo",
        _valid_text().replace("reject_threshold", "reject_treshold").encode(),
        ("/reject_treshold", 'did you mean "reject_threshold"?'),
    ),
    (
        "missing-required",
        b'{"model_dir": "models/run_001", "model_label_set": ["a"], "reject_threshold": 0.5}',
        ("/model_schema_hash", "is required"),
    ),
]


class TestBadContents:
    """Every kind of bad content is ignored with one warning saying what is wrong."""

    @pytest.mark.parametrize(
        ("data", "reason"),
        [pytest.param(data, reason, id=name) for name, data, reason in BAD_CONTENTS],
    )
    def test_ignored_with_one_warning(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture, data: bytes, reason: tuple[str]
    ) -> None:
        models = tmp_path / "models"
        models.mkdir()
        policy_path(models).write_bytes(data)
        _assert_ignored(models, caplog, *reason)

    def test_repeated_load_warns_each_time(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        models = tmp_path / "models"
        models.mkdir()
        policy_path(models).write_bytes(b"null")
        first = _assert_ignored(models, caplog)
        second = _assert_ignored(models, caplog)
        assert first == second

    def test_read_inference_policy_raises_the_reason(self, tmp_path: Path) -> None:
        path = tmp_path / "inference_policy.json"
        path.write_bytes(_valid_text("NaN").encode())
        with pytest.raises(PolicyFileError) as file_error:
            read_inference_policy(path)
        assert file_error.value.path == path
        assert file_error.value.details["file"] == str(path)
        path.write_bytes(_valid_text("2").encode())
        with pytest.raises(PolicySchemaError) as schema_error:
            read_inference_policy(path)
        assert schema_error.value.path == path
        assert schema_error.value.details["file"] == str(path)
        assert [e["pointer"] for e in schema_error.value.details["errors"]] == ["/reject_threshold"]


class TestGoodContents:
    """Valid files load, including the accepted variations of the bytes."""

    def test_missing_file_is_silent(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.DEBUG, logger=LOGGER):
            assert load_inference_policy(tmp_path / "models") is None
            assert load_inference_policy(tmp_path) is None
        assert caplog.records == []

    def test_valid_file_loads(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        models = tmp_path / "models"
        models.mkdir()
        policy_path(models).write_text(_valid_text(), encoding="utf-8")
        with caplog.at_level(logging.DEBUG, logger=LOGGER):
            policy = load_inference_policy(models)
        assert caplog.records == []
        assert isinstance(policy, InferencePolicy)
        expected = {**json.loads(_valid_text()), "created_at": policy.created_at}
        assert policy == InferencePolicy.from_dict(expected)

    def test_bom_is_accepted_and_ignored(self, tmp_path: Path) -> None:
        models = tmp_path / "models"
        models.mkdir()
        policy_path(models).write_bytes(b"\xef\xbb\xbf" + _valid_text().encode())
        policy = load_inference_policy(models)
        assert policy is not None
        assert policy.model_dir == "models/run_001"
        assert policy.reject_threshold == 0.55

    def test_bom_alone_is_empty(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        models = tmp_path / "models"
        models.mkdir()
        policy_path(models).write_bytes(b"\xef\xbb\xbf")
        _assert_ignored(models, caplog, "is empty")

    def test_exactly_the_size_limit_loads(self, tmp_path: Path) -> None:
        models = tmp_path / "models"
        models.mkdir()
        text = _valid_text().encode()
        policy_path(models).write_bytes(text + b" " * (MAX_JSON_BYTES - len(text)))
        assert policy_path(models).stat().st_size == MAX_JSON_BYTES
        assert load_inference_policy(models) is not None

    def test_non_ascii_values(self, tmp_path: Path) -> None:
        models = tmp_path / "models"
        models.mkdir()
        policy_path(models).write_bytes(_valid_text().replace("code", "c\u00f6de \u2603").encode())
        policy = load_inference_policy(models)
        assert policy is not None
        assert "c\u00f6de \u2603" in policy.model_label_set

    def test_symlink_to_valid_file_loads(self, tmp_path: Path) -> None:
        models = tmp_path / "models"
        models.mkdir()
        real = tmp_path / "elsewhere.json"
        real.write_text(_valid_text(), encoding="utf-8")
        policy_path(models).symlink_to(real)
        assert load_inference_policy(models) is not None


class TestOddPaths:
    """Whatever stands at the path (too big, a folder, a FIFO, a loop) is refused safely."""

    def test_file_over_limit(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        models = tmp_path / "models"
        models.mkdir()
        text = _valid_text().encode()
        policy_path(models).write_bytes(text + b" " * (MAX_JSON_BYTES + 1 - len(text)))
        _assert_ignored(
            models, caplog, f"is {MAX_JSON_BYTES + 1} bytes", f"{MAX_JSON_BYTES}-byte limit"
        )

    def test_huge_sparse_file_is_not_read(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        models = tmp_path / "models"
        models.mkdir()
        size = 2 * 1024**3
        with policy_path(models).open("wb") as handle:
            handle.truncate(size)
        io_before = _bytes_read_by_this_process()
        _assert_ignored(models, caplog, f"is {size} bytes", "limit")
        io_after = _bytes_read_by_this_process()
        # /proc/self/io counts every byte read() returned to this process: the
        # refusal came from the file's size alone, not from reading it.
        assert io_after - io_before < 64 * 1024

    def test_directory(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        models = tmp_path / "models"
        policy_path(models).mkdir(parents=True)
        _assert_ignored(models, caplog, "is a directory")

    def test_symlink_loop(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        models = tmp_path / "models"
        models.mkdir()
        policy_path(models).symlink_to(policy_path(models))
        _assert_ignored(models, caplog, "cannot be opened", "symbolic links")

    def test_models_dir_is_a_file(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        # With a file where the models folder should be, no policy file can exist:
        # that is "missing" (None, no warning), not "invalid".
        models = tmp_path / "models"
        models.write_text("not a folder", encoding="utf-8")
        with caplog.at_level(logging.WARNING):
            assert load_inference_policy(models) is None
        assert caplog.records == []

    def test_dangling_symlink_is_missing(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        models = tmp_path / "models"
        models.mkdir()
        policy_path(models).symlink_to(tmp_path / "nowhere.json")
        with caplog.at_level(logging.DEBUG, logger=LOGGER):
            assert load_inference_policy(models) is None
        assert caplog.records == []

    def test_fifo_does_not_block(self, tmp_path: Path) -> None:
        models = tmp_path / "models"
        models.mkdir()
        os.mkfifo(policy_path(models))
        code = textwrap.dedent(
            """
            import logging, sys
            from pathlib import Path
            from taskclf.core.inference_policy import load_inference_policy
            logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(message)s")
            print("result:", load_inference_policy(Path(sys.argv[1])))
            """
        )
        # No writer ever opens the FIFO: a blocking open or read would hang
        # until the timeout kills the child and fails the test.
        result = subprocess.run(
            [sys.executable, "-c", code, str(models)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        lines = result.stdout.splitlines()
        assert lines[-1] == "result: None"
        warnings = [line for line in lines if line.startswith("ignoring invalid")]
        assert len(warnings) == 1
        assert str(policy_path(models)) in warnings[0]
        assert "is not a regular file" in warnings[0]


def _bytes_read_by_this_process() -> int:
    fields = dict(
        line.split(": ") for line in Path("/proc/self/io").read_text().splitlines() if line
    )
    return int(fields["rchar"])


class TestCache:
    """Identical bytes give the very same object; any change of bytes is seen."""

    def test_same_bytes_same_object(self, tmp_path: Path) -> None:
        models = tmp_path / "models"
        models.mkdir()
        policy_path(models).write_text(_valid_text(), encoding="utf-8")
        first = load_inference_policy(models)
        assert first is not None
        assert load_inference_policy(models) is first
        # Rewriting the same bytes (new inode, new mtime) still hits the cache.
        policy_path(models).unlink()
        policy_path(models).write_text(_valid_text(), encoding="utf-8")
        assert load_inference_policy(models) is first

    def test_change_seen_with_same_size_and_mtime(self, tmp_path: Path) -> None:
        models = tmp_path / "models"
        models.mkdir()
        path = policy_path(models)
        path.write_text(_valid_text("0.51"), encoding="utf-8")
        first = load_inference_policy(models)
        assert first is not None
        assert first.reject_threshold == 0.51
        before = os.stat(path)
        with path.open("r+b") as handle:  # same inode, same size
            handle.write(_valid_text("0.52").encode())
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = os.stat(path)
        assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
            before.st_size,
            before.st_mtime_ns,
            before.st_ino,
        )
        second = load_inference_policy(models)
        assert second is not None
        assert second.reject_threshold == 0.52
        assert second is not first

    def test_change_to_invalid_and_back(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        models = tmp_path / "models"
        models.mkdir()
        path = policy_path(models)
        path.write_text(_valid_text("0.51"), encoding="utf-8")
        assert load_inference_policy(models) is not None
        path.write_text(_valid_text("1.51"), encoding="utf-8")
        _assert_ignored(models, caplog, "/reject_threshold")
        path.write_text(_valid_text("0.51"), encoding="utf-8")
        policy = load_inference_policy(models)
        assert policy is not None
        assert policy.reject_threshold == 0.51

    def test_cached_policy_per_path(self, tmp_path: Path) -> None:
        a, b = tmp_path / "a" / "models", tmp_path / "b" / "models"
        for models, threshold in ((a, "0.3"), (b, "0.4")):
            models.mkdir(parents=True)
            policy_path(models).write_text(_valid_text(threshold), encoding="utf-8")
        loaded: dict[Path, Any] = {m: load_inference_policy(m) for m in (a, b)}
        assert loaded[a].reject_threshold == 0.3
        assert loaded[b].reject_threshold == 0.4
        assert load_inference_policy(a) is loaded[a]
        assert load_inference_policy(b) is loaded[b]
