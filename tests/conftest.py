"""Shared fixtures: real TASKCLF_HOME folders in tmp_path, built from examples/home."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_HOME = REPO_ROOT / "examples" / "home"
EXAMPLE_SCHEMA_HASH = "f3a9c2d1e8b7"
EXAMPLE_LABELS = ["browse", "code", "meeting", "write"]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A private copy of examples/home (two bundles and a calibrator store bound to run_001)."""
    target = tmp_path / "home"
    shutil.copytree(EXAMPLE_HOME, target, ignore=shutil.ignore_patterns("inference_policy.json*"))
    return target


@pytest.fixture
def models_dir(home: Path) -> Path:
    """The models folder of :func:`home`."""
    return home / "models"


def write_json(path: Path, document: Any) -> Path:
    """Write ``document`` as JSON at ``path``, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def make_bundle() -> Callable[..., Path]:
    """Factory: ``make_bundle(models_dir, run_id, schema_hash=..., labels=..., **extra)``."""

    def make(
        models: Path,
        run_id: str,
        *,
        schema_hash: str = EXAMPLE_SCHEMA_HASH,
        labels: list[str] | None = None,
        metrics: dict[str, Any] | None = None,
        **extra: Any,
    ) -> Path:
        bundle = models / run_id
        write_json(
            bundle / "metadata.json",
            {"schema_hash": schema_hash, "label_set": labels or EXAMPLE_LABELS, **extra},
        )
        if metrics is not None:
            write_json(bundle / "metrics.json", metrics)
        return bundle

    return make
