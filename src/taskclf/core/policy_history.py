"""Every version of the policy file taskclf replaced, and the one place the policy file changes.

Layout (inside the ``models/`` folder)::

    models/
        inference_policy.json
        .policy_history/
            .lock                       serialises the writers (fcntl.flock)
            000001-<sha256[:12]>.json   one record per replaced version
            000002-none.json            ... or per "there was no policy"

The folder is hidden (its name starts with ``.``), so bundle scans
(:func:`~taskclf.model_registry.bundles.scan_bundles`) never take it for a
model bundle. Each record is a small JSON document valid against
``policy_history_record.v1.json``: when the version was replaced, by which
command or function, its SHA-256 and its exact bytes (base64), or ``null`` for
"no policy". A record is one file written atomically (temporary file, fsync,
rename), so a writer killed at any moment leaves either the whole record or
none of it; at most :data:`MAX_VERSIONS` records are kept, the oldest pruned.

:func:`change_policy_file` is the only function that writes or removes the
policy file: under the lock it reads the current bytes, records them (unless
the new bytes are the same: a write that changes nothing records nothing),
then writes or removes the policy; when that fails, its record is taken back.
A writer killed between the two steps leaves a record of the version that is
still in place, which is harmless: rolling back to it changes nothing.

Records are checked when read (size, strict JSON, schema, digest, file name);
a damaged one is reported in :attr:`PolicyHistory.damaged` and skipped, never
fatal. Files whose names are not record names are ignored.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskclf.core.errors import PolicyFileError
from taskclf.core.home import Home, HomePathError
from taskclf.core.jsonio import MAX_JSON_BYTES, JSONFileError, dumps_json, parse_json_bytes
from taskclf.core.layout import POLICY_FILENAME
from taskclf.core.provenance import utc_now_iso
from taskclf.core.schemas import validate_document, validate_value

__all__ = [
    "ANY_CURRENT",
    "HISTORY_DIRNAME",
    "MAX_RECORD_BYTES",
    "MAX_VERSIONS",
    "POLICY_HISTORY_SCHEMA",
    "DamagedRecord",
    "PolicyChange",
    "PolicyChangedError",
    "PolicyHistory",
    "PolicyHistoryError",
    "PolicyVersion",
    "change_policy_file",
    "policy_history",
]

HISTORY_DIRNAME = ".policy_history"
"""The folder in ``models/`` that holds the history (hidden: never a bundle candidate)."""

POLICY_HISTORY_SCHEMA = "policy_history_record.v1.json"
"""The schema every history record is valid against."""

MAX_VERSIONS = 100
"""Most versions kept; writing one more removes the oldest."""

MAX_RECORD_BYTES = 4 * ((MAX_JSON_BYTES + 2) // 3) + 4096
"""Largest record read or written: a 1 MiB policy in base64 plus the envelope."""

_LOCK_NAME = ".lock"
_RECORD_NAME = re.compile(r"(?P<sequence>[0-9]{6,})-(?P<digest>[0-9a-f]{12}|none)\.json\Z")
_MAX_ENTRIES = 10_000


class PolicyHistoryError(Exception):
    """A version asked for is not in the history, or cannot be used.

    Attributes:
        message: what is wrong and what to do instead.
        version: the version number asked for.
    """

    def __init__(self, message: str, *, version: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.version = version


class PolicyChangedError(Exception):
    """The policy file is not the one the caller read: something else changed it meanwhile."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"{path} was changed by something else meanwhile; nothing was written "
            "(look at it again, then run the command again)"
        )
        self.path = path


@dataclass(frozen=True, kw_only=True, slots=True)
class PolicyVersion:
    """One replaced version of the policy file, as recorded.

    Attributes:
        version: its number, 1 for the newest (the version the current policy replaced).
        sequence: its sequence number in the history (1 for the first ever recorded).
        file: the record's path, relative to TASKCLF_HOME.
        replaced_at: when it was replaced (RFC 3339).
        replaced_by: the command or function that replaced it.
        sha256: the SHA-256 of its bytes, ``None`` for "no policy".
        data: its exact bytes, ``None`` for "no policy".
    """

    version: int
    sequence: int
    file: str
    replaced_at: str
    replaced_by: str
    sha256: str | None
    data: bytes | None

    @property
    def is_policy(self) -> bool:
        """Whether there was a policy file (``False`` for "no policy")."""
        return self.data is not None

    def document(self) -> Any:
        """The version parsed as strict JSON; ``None`` for no policy or bytes that are not JSON."""
        if self.data is None:
            return None
        try:
            return parse_json_bytes(self.data, source=self.file)
        except JSONFileError:
            return None

    def problem(self) -> str | None:
        """Why the version's bytes are not a JSON document; ``None`` when they are, or no policy."""
        if self.data is None:
            return None
        try:
            parse_json_bytes(self.data, source="it")
        except JSONFileError as exc:
            return exc.reason
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form: ``version``, ``replaced_at``, ``replaced_by``, ``sha256``, ``policy``.

        ``policy`` is the parsed document, ``None`` for "no policy"; a version
        whose bytes are not JSON has ``policy`` ``None`` and its ``problem``.
        """
        entry: dict[str, Any] = {
            "version": self.version,
            "replaced_at": self.replaced_at,
            "replaced_by": self.replaced_by,
            "sha256": self.sha256,
            "policy": self.document(),
        }
        problem = self.problem()
        if problem is not None:
            entry["problem"] = problem
        return entry


@dataclass(frozen=True, slots=True)
class DamagedRecord:
    """A record that cannot be used (reported, then skipped).

    Attributes:
        version: the number it would have had.
        file: its path, relative to TASKCLF_HOME.
        reason: what is wrong with it.
    """

    version: int
    file: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for ``--format json``."""
        return {"version": self.version, "file": self.file, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class PolicyHistory:
    """The recorded versions, newest first, and the records that could not be read.

    Version numbers count every record file, damaged ones included, so a
    number always names the same record until a newer one is written.
    """

    versions: tuple[PolicyVersion, ...]
    damaged: tuple[DamagedRecord, ...]

    def get(self, version: int) -> PolicyVersion:
        """Version ``version`` (1 is the newest).

        Raises:
            PolicyHistoryError: there is no such version, or its record is damaged.
        """
        for found in self.versions:
            if found.version == version:
                return found
        for bad in self.damaged:
            if bad.version == version:
                raise PolicyHistoryError(
                    f"version {version} cannot be used: its record {bad.file} {bad.reason}",
                    version=version,
                )
        count = len(self.versions) + len(self.damaged)
        if count == 0:
            raise PolicyHistoryError(
                "there is no policy history yet: taskclf records a version each time it "
                "changes the policy",
                version=version,
            )
        raise PolicyHistoryError(
            f"there is no version {version}: the history holds versions 1 to {count} "
            "(see `taskclf policy history`)",
            version=version,
        )


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """What :func:`change_policy_file` did.

    Attributes:
        previous: the bytes of the policy replaced, ``None`` when there was none.
        recorded: the record written for it, relative to TASKCLF_HOME, or
            ``None`` when nothing changed (the same bytes, or removing nothing).
        changed: whether the policy file was written or removed.
    """

    previous: bytes | None
    recorded: str | None
    changed: bool


class _Any:
    def __repr__(self) -> str:
        return "<any>"


ANY_CURRENT: Any = _Any()
"""Default of ``expected`` in :func:`change_policy_file`: whatever the file holds now."""


def _folders(models_dir: Path) -> tuple[Home, str, str]:
    models_dir = Path(os.path.abspath(models_dir))
    models = models_dir.name
    home = Home.of_models_dir(models_dir)
    return home, f"{models}/{POLICY_FILENAME}", f"{models}/{HISTORY_DIRNAME}"


def change_policy_file(
    models_dir: Path,
    data: bytes | None,
    *,
    replaced_by: str,
    expected: bytes | None = ANY_CURRENT,
) -> PolicyChange:
    """Write ``data`` as ``models_dir/inference_policy.json`` (``None``: remove it), record first.

    Under the history lock: the current bytes (or "no policy") are read and,
    unless they equal ``data``, recorded as a new version; then the policy is
    replaced atomically (or removed), and the oldest records beyond
    :data:`MAX_VERSIONS` are pruned. If the write fails, the record is taken
    back and the previous file is intact. ``data`` must already be what the
    reader accepts; callers validate it.

    Args:
        models_dir: the ``models/`` folder.
        data: the new bytes, or ``None`` to remove the policy.
        replaced_by: the command or function making the change (recorded).
        expected: when given, the bytes the caller read (``None``: no policy);
            if the file holds anything else now, nothing is done.

    Raises:
        PolicyChangedError: the file is not ``expected`` any more.
        PolicyFileError: the current file cannot be kept in the history (it
            is larger than the 1 MiB a policy may be); nothing was changed.
        ValueError: ``replaced_by`` is not a name the record schema accepts.
        OSError: a file cannot be written or removed (a
            :class:`~taskclf.core.home.HomePathError` for a path that cannot
            be used); nothing was changed.
    """
    issues = validate_value(POLICY_HISTORY_SCHEMA, "/properties/replaced_by", replaced_by)
    if issues:
        raise ValueError(f"replaced_by {replaced_by!r}: {issues[0].message_with_hint}")
    home, policy_file, history = _folders(models_dir)
    kind = home.entry_kind(policy_file)
    if data is None and expected is ANY_CURRENT and kind == "nothing":
        return PolicyChange(previous=None, recorded=None, changed=False)
    if kind in ("folder", "other") or (kind == "link" and _unreadable(home, policy_file)):
        # Not a version of the policy (a folder, a FIFO, a link that loops or
        # leads outside): the writer refuses it in its own words, or removes
        # the link; there is nothing to keep and nothing is created.
        _write_or_remove(home, policy_file, data)
        return PolicyChange(previous=None, recorded=None, changed=True)
    lock = home.open_append(f"{history}/{_LOCK_NAME}")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = _current_bytes(home, policy_file)
        if expected is not ANY_CURRENT and current != expected:
            raise PolicyChangedError(home.display(policy_file))
        if data is None and current is None:
            return PolicyChange(previous=None, recorded=None, changed=False)
        recorded = None if current == data else _write_record(home, history, current, replaced_by)
        try:
            _write_or_remove(home, policy_file, data)
        except BaseException:
            if recorded is not None:
                with contextlib.suppress(OSError):
                    home.remove(recorded)
            raise
        _prune(home, history)
    finally:
        os.close(lock)
    return PolicyChange(previous=current, recorded=recorded, changed=True)


def _write_or_remove(home: Home, policy_file: str, data: bytes | None) -> None:
    if data is None:
        home.remove(policy_file)
    else:
        home.write_bytes(policy_file, data)


def _unreadable(home: Home, policy_file: str) -> bool:
    try:
        home.read_bytes(policy_file)
    except HomePathError:
        return True
    except (OSError, JSONFileError):
        return False
    return False


def _current_bytes(home: Home, policy_file: str) -> bytes | None:
    try:
        return home.read_bytes(policy_file)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except JSONFileError as exc:
        if isinstance(exc, OSError):  # a folder, FIFO, link out of the home, ...
            raise
        raise PolicyFileError(
            home.path_of(policy_file),
            f"{exc.reason}; taskclf keeps a copy of every version it replaces and cannot keep "
            "this one, so nothing was changed (move the file away first if it is not needed)",
        ) from exc


def _record_names(home: Home, history: str) -> list[tuple[int, str]]:
    """The record files in ``history`` as (sequence, name), oldest first."""
    try:
        names, _cut = home.list_dir(history, limit=_MAX_ENTRIES)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for name in names:
        match = _RECORD_NAME.match(name)
        if match:
            found.append((int(match.group("sequence")), name))
    return sorted(found)


def _write_record(home: Home, history: str, data: bytes | None, replaced_by: str) -> str:
    existing = _record_names(home, history)
    sequence = existing[-1][0] + 1 if existing else 1
    digest = None if data is None else hashlib.sha256(data).hexdigest()
    record = {
        "record_version": "v1",
        "sequence": sequence,
        "replaced_at": utc_now_iso(),
        "replaced_by": replaced_by,
        "sha256": digest,
        "policy_bytes_b64": None if data is None else base64.b64encode(data).decode("ascii"),
    }
    issues = validate_document(POLICY_HISTORY_SCHEMA, record)
    if issues:  # this module and the schema disagree: a bug, not a user error
        raise AssertionError(f"history record breaks its schema: {issues}")
    text = dumps_json(record).encode("ascii")
    if len(text) > MAX_RECORD_BYTES:  # pragma: no cover - data is at most MAX_JSON_BYTES
        raise AssertionError("history record over its size limit")
    name = f"{history}/{sequence:06d}-{'none' if digest is None else digest[:12]}.json"
    home.write_bytes(name, text)
    return name


def _prune(home: Home, history: str) -> None:
    # After the policy was written: a record that cannot be removed now is
    # removed by a later write, and must not turn a done change into an error.
    with contextlib.suppress(OSError):
        records = _record_names(home, history)
        for _sequence, name in records[: max(0, len(records) - MAX_VERSIONS)]:
            with contextlib.suppress(OSError):
                home.remove(f"{history}/{name}")


def policy_history(models_dir: Path) -> PolicyHistory:
    """The recorded versions of ``models_dir/inference_policy.json``, newest first.

    Each record is read bounded (:data:`MAX_RECORD_BYTES`) through the home's
    door and checked: strict JSON, ``policy_history_record.v1.json``, its
    base64, its SHA-256 and its file name. A record that fails is listed in
    ``damaged`` with the reason and skipped. No history yet: both are empty.
    """
    home, _policy_file, history = _folders(models_dir)
    versions: list[PolicyVersion] = []
    damaged: list[DamagedRecord] = []
    for number, (sequence, name) in enumerate(reversed(_record_names(home, history)), start=1):
        relative = f"{history}/{name}"
        try:
            versions.append(_read_record(home, relative, name, sequence, number))
        except FileNotFoundError:
            continue  # pruned meanwhile by a writer
        except _Damaged as exc:
            damaged.append(DamagedRecord(number, relative, exc.reason))
    return PolicyHistory(tuple(versions), tuple(damaged))


class _Damaged(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _read_record(home: Home, relative: str, name: str, sequence: int, number: int) -> PolicyVersion:
    try:
        raw = home.read_bytes(relative, max_bytes=MAX_RECORD_BYTES)
        record = parse_json_bytes(raw, source=relative)
    except NotADirectoryError:
        raise FileNotFoundError(relative) from None
    except JSONFileError as exc:
        raise _Damaged(exc.reason) from exc
    issues = validate_document(POLICY_HISTORY_SCHEMA, record)
    if issues:
        raise _Damaged(
            f"breaks {POLICY_HISTORY_SCHEMA}: " + "; ".join(str(issue) for issue in issues)
        )
    if record["sequence"] != sequence:
        raise _Damaged(f"holds sequence {record['sequence']}, but its file name says {sequence}")
    data: bytes | None = None
    digest = record["sha256"]
    if record["policy_bytes_b64"] is not None:
        try:
            data = base64.b64decode(record["policy_bytes_b64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _Damaged(f"/policy_bytes_b64 is not valid base64 ({exc})") from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise _Damaged("/sha256 does not match the bytes it records (the record was altered)")
    expected_name = "none" if digest is None else digest[:12]
    if not name.endswith(f"-{expected_name}.json"):
        raise _Damaged(f"its file name does not match its /sha256 ({expected_name})")
    return PolicyVersion(
        version=number,
        sequence=sequence,
        file=relative,
        replaced_at=record["replaced_at"],
        replaced_by=record["replaced_by"],
        sha256=digest,
        data=data,
    )
