"""Where taskclf's files live inside a TASKCLF_HOME.

::

    <TASKCLF_HOME>/
        models/
            inference_policy.json   the deployment descriptor (this toolkit)
            active.json             legacy pointer to the active bundle
            <run_id>/metadata.json  one folder per model bundle
        artifacts/calibrator_store/
            store.json              which model, which method, which users
            global.json             the calibrator of every user without their own
            users/<user_id>.json    one per id of store.json's user_ids

Paths stored inside policy files are relative to TASKCLF_HOME, the folder
above ``models/``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ACTIVE_FILENAME",
    "CANONICAL_TEMPLATE_PATH",
    "MODELS_DIRNAME",
    "POLICY_FILENAME",
    "home_of",
    "policy_path",
]

MODELS_DIRNAME = "models"
POLICY_FILENAME = "inference_policy.json"
CANONICAL_TEMPLATE_PATH = "configs/inference_policy.template.json"
"""Where the canonical policy template lives in the taskclf repository."""
ACTIVE_FILENAME = "active.json"


def policy_path(models_dir: Path) -> Path:
    """Return the path of the policy file in ``models_dir``."""
    return Path(models_dir) / POLICY_FILENAME


def home_of(models_dir: Path) -> Path:
    """Return TASKCLF_HOME for ``models_dir``: the folder above it, made absolute."""
    return Path(models_dir).absolute().parent
