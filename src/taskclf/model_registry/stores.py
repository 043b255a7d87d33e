"""Finding the calibrator store fitted for a model bundle, below ``artifacts/``.

The search reads every candidate ``store.json`` through
:class:`~taskclf.core.home.Home` into a :class:`~taskclf.core.artifacts.CalibratorStore`
and asks the store's own binding rule whether it belongs to the bundle. Only a
store that says which model it was fitted for is attached automatically: a
legacy store that names no model is accepted when a person names it, but
never picked for them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from taskclf.core.artifacts import STORE_FILENAME, ArtifactError, CalibratorStore
from taskclf.core.home import Home, HomePathError
from taskclf.model_registry.bundles import parse_timestamp

__all__ = [
    "ARTIFACTS_DIRNAME",
    "CONVENTIONAL_STORE_DIR",
    "MAX_STORE_SEARCH_DEPTH",
    "MAX_STORE_SEARCH_ENTRIES",
    "STORE_FILENAME",
    "find_bound_calibrator_store",
]

logger = logging.getLogger(__name__)

ARTIFACTS_DIRNAME = "artifacts"
CONVENTIONAL_STORE_DIR = "artifacts/calibrator_store"
"""The calibrator store folder used by convention, relative to TASKCLF_HOME."""

MAX_STORE_SEARCH_DEPTH = 4
"""How deep below ``artifacts/`` :func:`find_bound_calibrator_store` looks."""

MAX_STORE_SEARCH_ENTRIES = 5_000
"""How many folder entries below ``artifacts/`` one store search looks at, at most."""


def _store_folders(home: Home) -> Iterator[str]:
    """Folders below ``artifacts/`` holding a ``store.json``, bounded, links not followed."""
    pending: list[tuple[str, int]] = [(ARTIFACTS_DIRNAME, 0)]
    seen = 0
    while pending:
        folder, depth = pending.pop()
        try:
            with home.open_dir(folder) as fd, os.scandir(fd) as entries:
                children: list[str] = []
                for entry in entries:
                    seen += 1
                    if seen > MAX_STORE_SEARCH_ENTRIES:
                        logger.warning(
                            "stopped looking for calibrator stores after %d entries below %s",
                            MAX_STORE_SEARCH_ENTRIES,
                            ARTIFACTS_DIRNAME,
                        )
                        return
                    if entry.name == STORE_FILENAME:
                        yield folder
                    elif depth < MAX_STORE_SEARCH_DEPTH and entry.is_dir(follow_symlinks=False):
                        children.append(f"{folder}/{entry.name}")
        except (OSError, HomePathError):
            continue
        pending.extend((child, depth + 1) for child in sorted(children, reverse=True))


def find_bound_calibrator_store(home: Path, bundle_id: str, schema_hash: str) -> str | None:
    """Find the calibrator store fitted for bundle ``bundle_id`` (schema ``schema_hash``).

    Candidates are ``artifacts/calibrator_store`` and every folder below
    ``artifacts/`` (at most :data:`MAX_STORE_SEARCH_DEPTH` deep, symlinked
    folders skipped, at most :data:`MAX_STORE_SEARCH_ENTRIES` entries) holding
    a valid ``store.json``. A store is kept when it belongs to the bundle
    (:meth:`CalibratorStore.binds_to <taskclf.core.artifacts.CalibratorStore.binds_to>`)
    and says so explicitly (:meth:`~taskclf.core.artifacts.CalibratorStore.names_model`):
    a store naming no model binds to any bundle when a person names it, but is
    never attached for them. The kept stores are ordered: bundle-id match
    first, then schema-hash match, then the conventional folder, then newest
    ``created_at``, then path.

    Returns:
        The best store folder relative to ``home`` (POSIX form, e.g.
        ``artifacts/calibrator_store``), or ``None`` when no store binds.
    """
    door = Home.at(home)
    folders = [CONVENTIONAL_STORE_DIR]
    folders += [folder for folder in _store_folders(door) if folder != CONVENTIONAL_STORE_DIR]
    candidates: list[tuple[tuple[int, int, int, float, str], str]] = []
    for folder in folders:
        try:
            store = CalibratorStore.read(door, folder)
        except ArtifactError:
            continue
        if not store.names_model() or not store.binds_to(
            bundle_id=bundle_id, schema_hash=schema_hash
        ):
            continue
        created = parse_timestamp(store.created_at)
        key = (
            0 if store.model_bundle_id == bundle_id else 1,
            0 if store.model_schema_hash == schema_hash else 1,
            0 if folder == CONVENTIONAL_STORE_DIR else 1,
            -(created if created is not None else float("-inf")),
            folder,
        )
        candidates.append((key, folder))
    if not candidates:
        return None
    return min(candidates)[1]
