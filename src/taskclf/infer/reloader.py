"""Hot reload of the inference configuration for long-running inference.

:class:`InferencePolicyReloader` holds the current
:class:`~taskclf.infer.resolve.ResolvedInferenceConfig` and, each time
:meth:`~InferencePolicyReloader.check_reload` is called, tells whether it
changed. It watches ``models/inference_policy.json`` and ``models/active.json``
(including either file appearing or disappearing):

* the fast check, at most once per ``check_interval_s``, is one ``os.stat``
  per watched file, comparing (inode, size, mtime_ns): no read, no parse;
* the slow check, at most once per ``content_check_interval_s``, also
  compares a digest of each file's bytes, because a rewrite of the same size
  within the file system's timestamp granularity (or onto a reused inode)
  leaves the stat triple unchanged.

When something changed, resolution runs again, and the new configuration is
returned only when inference would behave differently with it (see
:class:`~taskclf.infer.resolve.ResolvedInferenceConfig` equality); a new
explanation alone (trail, policy provenance) updates ``config`` silently.

An edit that breaks the file in use (a policy that is invalid, fails its disk
checks or is incompatible; an unusable ``active.json``) keeps the last good
configuration: the reason is logged once, not on every poll, and the next
valid edit is picked up. While a reload is failing, resolution is retried at
the slow cadence, so fixing a file the policy points at (e.g. restoring a
bundle) is noticed too.

The reloader is not thread-safe: call it from one thread (the inference loop).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from taskclf.core.home import Home
from taskclf.core.jsonio import JSONFileError
from taskclf.core.layout import ACTIVE_FILENAME, POLICY_FILENAME
from taskclf.infer.resolve import (
    ModelResolutionError,
    ResolvedInferenceConfig,
    resolve_with_warnings,
)

__all__ = [
    "DEFAULT_CHECK_INTERVAL_S",
    "DEFAULT_CONTENT_CHECK_INTERVAL_S",
    "InferencePolicyReloader",
]

logger = logging.getLogger(__name__)

DEFAULT_CHECK_INTERVAL_S = 2.0
"""Default least time between two stat checks."""

DEFAULT_CONTENT_CHECK_INTERVAL_S = 30.0
"""Default least time between two byte checks."""

_StatKey = tuple[int, int, int] | None
_Digest = bytes | str | None


def _stat_key(path: str) -> _StatKey:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _digest(home: Home, relative: str) -> _Digest:
    # Read through the home's door like every other read: a link out of the
    # home is not followed even to compare bytes.
    try:
        data = home.read_bytes(relative)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except JSONFileError as exc:
        # An unreadable file has no bytes to compare; its reason stands in
        # for them, so a change of reason still counts as a change.
        return exc.reason
    return hashlib.blake2b(data, digest_size=16).digest()


class InferencePolicyReloader:
    """Keeps a resolved inference configuration current while files change.

    The constructor resolves once (with the same arguments as
    :func:`~taskclf.infer.resolve.resolve_inference_config`, logging its
    warnings) and raises :class:`~taskclf.infer.resolve.ModelResolutionError`
    when nothing resolves: a reloader always has a configuration.

    Args:
        models_dir: the ``models/`` folder.
        check_interval_s: least time between two stat checks; calls in between
            return ``None`` at once. The first call checks immediately.
        content_check_interval_s: least time between two byte checks (0 makes
            every check compare bytes).
        clock: monotonic clock in seconds (injectable for tests).
        model_dir_override, reject_threshold_override,
        calibrator_store_override, required_schema_hash, required_label_set:
            passed to resolution on every reload.

    Raises:
        ValueError: an interval is negative or not a number.
        ModelResolutionError: the initial resolution failed.
    """

    __slots__ = (
        "_active",
        "_check_interval",
        "_clock",
        "_config",
        "_content_interval",
        "_digests",
        "_failure",
        "_home",
        "_logged_warnings",
        "_models_dir",
        "_next_check",
        "_next_content_check",
        "_policy",
        "_resolve",
        "_stats",
    )

    def __init__(
        self,
        models_dir: Path,
        *,
        check_interval_s: float = DEFAULT_CHECK_INTERVAL_S,
        content_check_interval_s: float = DEFAULT_CONTENT_CHECK_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        model_dir_override: str | os.PathLike[str] | None = None,
        reject_threshold_override: float | None = None,
        calibrator_store_override: str | os.PathLike[str] | None = None,
        required_schema_hash: str | None = None,
        required_label_set: Iterable[str] | None = None,
    ) -> None:
        for name, value in (
            ("check_interval_s", check_interval_s),
            ("content_check_interval_s", content_check_interval_s),
        ):
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number of seconds >= 0, not {value!r}")
        self._models_dir = Path(os.path.abspath(models_dir))
        self._home = Home.of_models_dir(self._models_dir)
        self._policy = str(self._models_dir / POLICY_FILENAME)
        self._active = str(self._models_dir / ACTIVE_FILENAME)
        self._check_interval = float(check_interval_s)
        self._content_interval = float(content_check_interval_s)
        self._clock = clock
        self._resolve = functools.partial(
            resolve_with_warnings,
            self._models_dir,
            model_dir_override=model_dir_override,
            reject_threshold_override=reject_threshold_override,
            calibrator_store_override=calibrator_store_override,
            required_schema_hash=required_schema_hash,
            required_label_set=None if required_label_set is None else tuple(required_label_set),
        )
        # Snapshot before resolving: a change made during resolution then
        # shows up as a difference at the next check.
        self._stats = self._stat_all()
        self._digests = self._digest_all()
        outcome = self._resolve()
        for message in outcome.warnings:
            logger.warning("%s", message)
        self._logged_warnings = outcome.warnings
        self._config = outcome.config
        self._failure: str | None = None
        self._next_check = -math.inf
        self._next_content_check = clock() + self._content_interval

    @property
    def config(self) -> ResolvedInferenceConfig:
        """The current configuration (the last good one while reloads fail)."""
        return self._config

    @property
    def failure(self) -> str | None:
        """Why the last reload was refused, or ``None`` when it was not."""
        return self._failure

    @property
    def watched_paths(self) -> tuple[Path, Path]:
        """The files watched: the policy and ``active.json``."""
        return (Path(self._policy), Path(self._active))

    def check_reload(self, *, force: bool = False) -> ResolvedInferenceConfig | None:
        """Return the new configuration if it changed since the last call, else ``None``.

        Cheap when nothing changed: within ``check_interval_s`` of the last
        check it only reads the clock; otherwise it stats each watched file
        once, and only every ``content_check_interval_s`` reads their bytes.

        Args:
            force: check now, bytes included, whatever the intervals say
                (e.g. on SIGHUP).
        """
        now = self._clock()
        if now < self._next_check and not force:
            return None
        self._next_check = now + self._check_interval
        stats = (_stat_key(self._policy), _stat_key(self._active))
        if force or now >= self._next_content_check:
            self._next_content_check = now + self._content_interval
            digests = self._digest_all()
            if stats == self._stats and digests == self._digests and self._failure is None:
                return None
        elif stats == self._stats:
            return None
        else:
            digests = self._digest_all()
        self._stats, self._digests = stats, digests
        return self._reload()

    def _stat_all(self) -> tuple[_StatKey, _StatKey]:
        return (_stat_key(self._policy), _stat_key(self._active))

    def _digest_all(self) -> tuple[_Digest, _Digest]:
        models = self._models_dir.name
        return (
            _digest(self._home, f"{models}/{POLICY_FILENAME}"),
            _digest(self._home, f"{models}/{ACTIVE_FILENAME}"),
        )

    def _reload(self) -> ResolvedInferenceConfig | None:
        current = self._config
        try:
            outcome = self._resolve()
        except ModelResolutionError as exc:
            self._fail(exc.message)
            return None
        except (OSError, ValueError) as exc:
            # Resolution reports bad files in its trail; an error escaping it
            # (the disk failing, say) must still not take the service down.
            self._fail(f"resolution failed: {exc}")
            return None
        new = outcome.config
        if new.step.rank > current.step.rank:
            # Resolution fell to a lower step. If that is because the file
            # that gave the current configuration (or a higher one) exists but
            # is broken, it is an edit in progress: keep serving what works.
            broken = [
                entry.reason
                for entry in new.trail
                if entry.broken and entry.step.rank <= current.step.rank
            ]
            if broken:
                self._fail("; ".join(broken))
                return None
        if self._failure is not None:
            logger.info("inference configuration is usable again")
        self._failure = None
        for message in outcome.warnings:
            if message not in self._logged_warnings:
                logger.warning("%s", message)
        self._logged_warnings = outcome.warnings
        self._config = new
        if new == current:
            return None  # same behaviour; only the explanation (trail) may differ
        logger.info(
            "inference configuration reloaded: %s via %s, reject_threshold %s, calibration %s",
            new.model_dir,
            new.step,
            new.reject_threshold,
            new.calibration_method,
        )
        return new

    def _fail(self, reason: str) -> None:
        if reason != self._failure:
            logger.warning(
                "keeping the last good inference configuration (%s via %s): %s",
                self._config.model_dir,
                self._config.step,
                reason,
            )
        self._failure = reason
