"""Tests of taskclf.infer.reloader.InferencePolicyReloader, on real files.

Time is a fake clock passed to the reloader, so interval behaviour is tested
without sleeping and without timed assertions.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taskclf.core.inference_policy import DEFAULT_REJECT_THRESHOLD
from taskclf.infer.reloader import InferencePolicyReloader
from taskclf.infer.resolve import ModelResolutionError, ResolutionStep
from taskclf.model_registry import write_active_atomic

from conftest import write_json

MakeBundle = Callable[..., Path]
WritePolicy = Callable[..., Path]
NEVER = 1e9  # an interval no test reaches


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def reloader(models_dir: Path, clock: FakeClock, **options: Any) -> InferencePolicyReloader:
    options.setdefault("check_interval_s", 1.0)
    # Byte checks on every check by default: edits made within one timestamp
    # tick are then seen whatever the file system's granularity.
    options.setdefault("content_check_interval_s", 0.0)
    return InferencePolicyReloader(models_dir, clock=clock, **options)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


class TestNoChange:
    """Nothing changed: nothing returned, the configuration stays."""

    def test_polls_return_none(
        self, models_dir: Path, write_policy: WritePolicy, clock: FakeClock
    ) -> None:
        write_policy(models_dir)
        watcher = reloader(models_dir, clock)
        first = watcher.config
        assert first.step is ResolutionStep.POLICY
        for _ in range(3):
            assert watcher.check_reload() is None
            clock.advance(1.0)
        assert watcher.config is first
        assert watcher.failure is None
        assert watcher.watched_paths == (
            models_dir / "inference_policy.json",
            models_dir / "active.json",
        )

    def test_touch_without_change_returns_none(
        self, models_dir: Path, write_policy: WritePolicy, clock: FakeClock
    ) -> None:
        path = write_policy(models_dir)
        watcher = reloader(models_dir, clock, content_check_interval_s=NEVER)
        info = path.stat()
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))
        assert watcher.check_reload() is None


class TestEdits:
    """Edits to the policy and to active.json are picked up."""

    def test_policy_edit_seen_by_stat_alone(
        self, models_dir: Path, write_policy: WritePolicy, clock: FakeClock
    ) -> None:
        write_policy(models_dir)
        watcher = reloader(models_dir, clock, content_check_interval_s=NEVER)
        write_policy(models_dir, reject_threshold=0.625)  # one byte longer
        new = watcher.check_reload()
        assert new is not None and new.reject_threshold == 0.625
        assert watcher.config is new
        clock.advance(1.0)
        assert watcher.check_reload() is None

    def test_active_edit(self, models_dir: Path, clock: FakeClock) -> None:
        write_active_atomic(models_dir, "models/run_001")
        watcher = reloader(models_dir, clock)
        assert watcher.config.step is ResolutionStep.ACTIVE
        write_active_atomic(models_dir, "models/run_002")
        new = watcher.check_reload()
        assert new is not None and new.model_dir == "models/run_002"
        assert new.step is ResolutionStep.ACTIVE

    def test_policy_appears_then_disappears(
        self, models_dir: Path, write_policy: WritePolicy, clock: FakeClock
    ) -> None:
        watcher = reloader(models_dir, clock)
        assert watcher.config.step is ResolutionStep.BEST_MODEL
        write_policy(
            models_dir,
            model_dir="models/run_002",
            calibrator_store_dir=None,
            calibration_method=None,
        )
        appeared = watcher.check_reload()
        assert appeared is not None and appeared.step is ResolutionStep.POLICY
        assert appeared.model_dir == "models/run_002"
        (models_dir / "inference_policy.json").unlink()
        clock.advance(1.0)
        gone = watcher.check_reload()
        assert gone is not None and gone.step is ResolutionStep.BEST_MODEL
        assert gone.model_dir == "models/run_001"
        assert gone.reject_threshold == DEFAULT_REJECT_THRESHOLD

    def test_policy_removed_with_broken_active_falls_back(
        self, models_dir: Path, write_policy: WritePolicy, clock: FakeClock
    ) -> None:
        write_policy(models_dir)
        write_json(models_dir / "active.json", {"model_dir": "models/run_002"})
        watcher = reloader(models_dir, clock)
        (models_dir / "inference_policy.json").unlink()
        # The policy was removed on purpose; a broken lower step does not pin it.
        new = watcher.check_reload()
        assert new is not None and new.step is ResolutionStep.BEST_MODEL


class TestSameTimestampRewrite:
    """A same-size rewrite within one timestamp tick is caught by the byte check only."""

    def test_byte_check_catches_what_stat_misses(
        self, models_dir: Path, write_policy: WritePolicy, clock: FakeClock
    ) -> None:
        path = write_policy(models_dir, reject_threshold=0.61)
        watcher = reloader(models_dir, clock, content_check_interval_s=30.0)
        before = path.stat()
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("0.61", "0.62"), encoding="utf-8")  # in place: same inode
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = path.stat()
        assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
            before.st_ino,
            before.st_size,
            before.st_mtime_ns,
        )
        assert watcher.check_reload() is None  # the stat check cannot see it
        clock.advance(29.0)
        assert watcher.check_reload() is None
        clock.advance(1.0)  # the byte check is due
        new = watcher.check_reload()
        assert new is not None and new.reject_threshold == 0.62

    def test_forced_check_reads_bytes(
        self, models_dir: Path, write_policy: WritePolicy, clock: FakeClock
    ) -> None:
        path = write_policy(models_dir, reject_threshold=0.61)
        watcher = reloader(models_dir, clock, content_check_interval_s=NEVER)
        before = path.stat()
        path.write_text(path.read_text(encoding="utf-8").replace("0.61", "0.62"), encoding="utf-8")
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert watcher.check_reload() is None
        new = watcher.check_reload(force=True)
        assert new is not None and new.reject_threshold == 0.62


class TestInvalidEdits:
    """A broken edit keeps the last good configuration, logs once, and recovers."""

    def test_invalid_edit_then_valid_edit(
        self,
        models_dir: Path,
        write_policy: WritePolicy,
        clock: FakeClock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        write_policy(models_dir)
        watcher = reloader(models_dir, clock)
        good = watcher.config
        with caplog.at_level(logging.WARNING):
            write_policy(models_dir, reject_threshold=1.5)
            for _ in range(5):
                assert watcher.check_reload() is None
                clock.advance(1.0)
            (models_dir / "inference_policy.json").write_text("{", encoding="utf-8")
            for _ in range(3):
                assert watcher.check_reload() is None
                clock.advance(1.0)
        assert watcher.config is good
        assert watcher.failure is not None and "is not valid JSON" in watcher.failure
        messages = warnings_of(caplog)
        assert len(messages) == 2  # one per distinct problem, not one per poll
        assert messages[0].startswith(
            "keeping the last good inference configuration (models/run_001 via policy): "
            "models/inference_policy.json is invalid: /reject_threshold: 1.5"
        )
        write_policy(models_dir, reject_threshold=0.7)
        new = watcher.check_reload()
        assert new is not None and new.reject_threshold == 0.7
        assert watcher.failure is None

    def test_active_edit_to_broken_pointer_keeps_last(
        self, models_dir: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        write_active_atomic(models_dir, "models/run_002")
        watcher = reloader(models_dir, clock)
        caplog.clear()  # the deprecation logged on construction
        with caplog.at_level(logging.WARNING):
            write_json(
                models_dir / "active.json",
                {
                    "model_dir": "models/run_404",
                    "selected_at": "2026-01-01T00:00:00Z",
                    "policy_version": "v1",
                },
            )
            assert watcher.check_reload() is None
        assert watcher.config.model_dir == "models/run_002"
        assert len(warnings_of(caplog)) == 1
        assert "models/run_404 does not exist" in warnings_of(caplog)[0]

    def test_policy_with_missing_bundle_recovers_when_bundle_appears(
        self,
        models_dir: Path,
        make_bundle: MakeBundle,
        write_policy: WritePolicy,
        clock: FakeClock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        write_policy(models_dir)
        watcher = reloader(models_dir, clock, content_check_interval_s=10.0)
        no_store = {"calibrator_store_dir": None, "calibration_method": None}
        with caplog.at_level(logging.WARNING):
            write_policy(models_dir, model_dir="models/run_003", **no_store)
            assert watcher.check_reload() is None
            make_bundle(models_dir, "run_003")  # the bundle is copied in afterwards
            clock.advance(1.0)
            assert watcher.check_reload() is None  # only a stat check: files unchanged
            clock.advance(10.0)
            new = watcher.check_reload()  # the retry of a failing reload is due
        assert new is not None and new.model_dir == "models/run_003"
        assert len(warnings_of(caplog)) == 1

    def test_broken_policy_beside_working_active_is_logged_once(
        self,
        models_dir: Path,
        clock: FakeClock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        write_active_atomic(models_dir, "models/run_002")
        watcher = reloader(models_dir, clock)
        caplog.clear()  # the deprecation logged on construction
        with caplog.at_level(logging.WARNING):
            (models_dir / "inference_policy.json").write_text("[]", encoding="utf-8")
            for _ in range(3):
                assert watcher.check_reload() is None  # same result: still active.json
                clock.advance(1.0)
        assert watcher.config.trail[1].reason.startswith("models/inference_policy.json is invalid")
        messages = warnings_of(caplog)
        assert len(messages) == 1
        assert messages[0].startswith("inference policy not used: models/inference_policy.json")

    def test_nothing_resolves_keeps_last(
        self,
        models_dir: Path,
        clock: FakeClock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        watcher = reloader(models_dir, clock)
        good = watcher.config
        with caplog.at_level(logging.WARNING):
            for name in ("run_001", "run_002"):
                shutil.rmtree(models_dir / name)
            write_policy_text = '{"model_dir": "models/run_001"}'
            (models_dir / "inference_policy.json").write_text(write_policy_text, encoding="utf-8")
            assert watcher.check_reload() is None
            clock.advance(1.0)
            assert watcher.check_reload() is None
        assert watcher.config is good
        messages = warnings_of(caplog)
        assert len(messages) == 1 and "no model bundle could be resolved" in messages[0]


class TestIntervals:
    """check_interval_s is honoured, and the first check is not delayed."""

    def test_first_check_is_immediate_then_interval_applies(
        self, models_dir: Path, write_policy: WritePolicy, clock: FakeClock
    ) -> None:
        write_policy(models_dir)
        watcher = reloader(models_dir, clock, check_interval_s=10.0)
        write_policy(models_dir, reject_threshold=0.7)
        first = watcher.check_reload()  # no time has passed since construction
        assert first is not None and first.reject_threshold == 0.7
        write_policy(models_dir, reject_threshold=0.8)
        clock.advance(9.9)
        assert watcher.check_reload() is None  # within the interval: not even a stat
        clock.advance(0.1)
        second = watcher.check_reload()
        assert second is not None and second.reject_threshold == 0.8

    def test_force_ignores_the_interval(
        self, models_dir: Path, write_policy: WritePolicy, clock: FakeClock
    ) -> None:
        write_policy(models_dir)
        watcher = reloader(models_dir, clock, check_interval_s=10.0)
        assert watcher.check_reload() is None
        write_policy(models_dir, reject_threshold=0.7)
        assert watcher.check_reload() is None
        new = watcher.check_reload(force=True)
        assert new is not None and new.reject_threshold == 0.7

    @pytest.mark.parametrize("name", ["check_interval_s", "content_check_interval_s"])
    @pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf")])
    def test_bad_intervals(self, models_dir: Path, name: str, value: float) -> None:
        with pytest.raises(ValueError, match=name):
            options: dict[str, Any] = {name: value}
            InferencePolicyReloader(models_dir, **options)


class TestConstruction:
    """A reloader always has a configuration, or is not created."""

    def test_nothing_to_resolve(self, tmp_path: Path) -> None:
        with pytest.raises(ModelResolutionError, match="no model bundle could be resolved"):
            InferencePolicyReloader(tmp_path / "home" / "models")

    def test_overrides_are_applied_on_every_reload(
        self, models_dir: Path, write_policy: WritePolicy, clock: FakeClock
    ) -> None:
        write_policy(models_dir)
        watcher = reloader(models_dir, clock, reject_threshold_override=0.3)
        assert watcher.config.reject_threshold == 0.3
        write_policy(
            models_dir,
            model_dir="models/run_002",
            calibrator_store_dir=None,
            calibration_method=None,
        )
        new = watcher.check_reload()
        assert new is not None and new.model_dir == "models/run_002"
        assert new.reject_threshold == 0.3
