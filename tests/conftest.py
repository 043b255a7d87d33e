"""Shared fixtures: real TASKCLF_HOME folders in tmp_path, built from examples/home."""

from __future__ import annotations

import json
import shutil
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_HOME = REPO_ROOT / "examples" / "home"
EXAMPLE_SCHEMA_HASH = "f3a9c2d1e8b7"
EXAMPLE_LABELS = ["browse", "code", "meeting", "write"]


def console_script(name: str = "taskclf") -> Path:
    """The console script ``name`` installed beside the interpreter running the tests.

    Tests never look a command up on PATH: CI runs with nothing on PATH but the system's, and a
    ``taskclf`` found there could be another installation. ``sysconfig``'s ``scripts`` path is the
    scripts folder of ``sys.executable``'s own environment (the venv's ``bin/``).
    """
    script = Path(sysconfig.get_path("scripts")) / name
    if not script.is_file():
        pytest.fail(
            f"the {name} console script is not installed beside this interpreter ({script}); "
            'install the package first: python -m pip install -e ".[test]"'
        )
    return script


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A private copy of examples/home (two bundles and a calibrator store bound to run_001)."""
    target = tmp_path / "home"
    shutil.copytree(
        EXAMPLE_HOME,
        target,
        ignore=shutil.ignore_patterns("inference_policy.json*", ".policy_history"),
    )
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


IDENTITY_CALIBRATOR: dict[str, Any] = {"type": "identity"}


def make_store(
    folder: Path,
    store: dict[str, Any] | None = None,
    *,
    global_calibrator: dict[str, Any] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Write a calibrator store in ``folder`` as the original taskclf does; return ``store.json``.

    ``store`` is the content of ``store.json``; ``global_calibrator`` that of
    ``global.json`` (the identity unless given); ``users`` maps each user id to
    the content of ``users/<id>.json``, and fills ``user_count`` and ``user_ids``
    in ``store.json`` unless ``store`` gives them.
    """
    manifest = dict(store or {})
    if users:
        manifest.setdefault("user_count", len(users))
        manifest.setdefault("user_ids", sorted(users))
        for user_id, calibrator in users.items():
            write_json(folder / "users" / f"{user_id}.json", calibrator)
    write_json(folder / "global.json", global_calibrator or IDENTITY_CALIBRATOR)
    return write_json(folder / "store.json", manifest)


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


POLICY_SCHEMA_FILE = REPO_ROOT / "schemas" / "inference_policy.v1.json"
EXAMPLE_STORE_DIR = "artifacts/calibrator_store"


def policy_schema_from_file() -> dict[str, Any]:
    """The policy schema as parsed straight from ``schemas/`` (not through taskclf)."""
    schema: dict[str, Any] = json.loads(POLICY_SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


@pytest.fixture
def policy_document() -> dict[str, Any]:
    """A complete, schema-valid policy for the example home's run_001 and its calibrator store."""
    return {
        "policy_version": "v1",
        "model_dir": "models/run_001",
        "model_schema_hash": EXAMPLE_SCHEMA_HASH,
        "model_label_set": list(EXAMPLE_LABELS),
        "calibrator_store_dir": EXAMPLE_STORE_DIR,
        "calibration_method": "temperature",
        "reject_threshold": 0.55,
        "created_at": "2026-01-31T12:00:00+00:00",
        "source": "manual",
        "git_commit": "unknown",
        "per_user_reject_thresholds": None,
    }


def write_example_policy(models: Path, **fields: Any) -> Path:
    """Write a valid policy for run_001 into the models folder ``models``; return its path.

    The default binds run_001 to the example calibrator store (temperature,
    threshold 0.62); keyword arguments replace or add fields (``None`` values
    are written as JSON null).
    """
    document: dict[str, Any] = {
        "policy_version": "v1",
        "model_dir": "models/run_001",
        "model_schema_hash": EXAMPLE_SCHEMA_HASH,
        "model_label_set": list(EXAMPLE_LABELS),
        "calibrator_store_dir": "artifacts/calibrator_store",
        "calibration_method": "temperature",
        "reject_threshold": 0.62,
        "created_at": "2026-02-01T10:00:00+00:00",
        "source": "manual",
        "git_commit": "unknown",
        **fields,
    }
    return write_json(models / "inference_policy.json", document)


@pytest.fixture
def write_policy() -> Callable[..., Path]:
    """Factory: ``write_policy(models_dir, **fields)``, see :func:`write_example_policy`."""
    return write_example_policy


@pytest.fixture
def write_active() -> Callable[..., Path]:
    """Factory: ``write_active(models_dir, model_dir="models/run_002", **fields)``.

    Writes a valid legacy ``active.json`` pointing at ``model_dir`` (selected
    at a fixed time); keyword arguments replace or add fields. Returns its path.
    """

    def write(models: Path, model_dir: str = "models/run_002", **fields: Any) -> Path:
        document: dict[str, Any] = {
            "model_dir": model_dir,
            "selected_at": "2026-01-31T12:00:00+00:00",
            "policy_version": "v1",
            **fields,
        }
        return write_json(models / "active.json", document)

    return write


@pytest.fixture
def bare_home(tmp_path: Path) -> Path:
    """An empty TASKCLF_HOME holding only an empty ``models/`` folder."""
    target = tmp_path / "bare"
    (target / "models").mkdir(parents=True)
    return target
