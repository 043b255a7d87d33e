"""The model registry: the bundles in ``models/``, best-model selection and ``active.json``.

- :mod:`taskclf.model_registry.bundles`: bundle folders, their records and
  best-model selection;
- :mod:`taskclf.model_registry.active`: the deprecated ``active.json`` pointer
  and its history;
- :mod:`taskclf.model_registry.stores`: finding the calibrator store fitted for
  a bundle;
- :mod:`taskclf.model_registry.errors`: the registry's errors.

Every name is importable from this package, as before it was split. Nothing
here reads or writes outside TASKCLF_HOME: every file goes through
:class:`taskclf.core.home.Home`.
"""

from taskclf.core.artifacts import STORE_FILENAME
from taskclf.model_registry.active import (
    ACTIVE_FILENAME,
    ACTIVE_HISTORY_FILENAME,
    SELECTION_POLICY_VERSION,
    ActiveChange,
    ActivePointer,
    active_history_path,
    active_path,
    read_active,
    read_active_pointer,
    write_active_atomic,
)
from taskclf.model_registry.bundles import (
    MAX_SCAN_ENTRIES,
    METADATA_FILENAME,
    METRICS_FILENAME,
    BundleRecord,
    ExcludedBundle,
    SelectionReport,
    compatibility_reason,
    rank_bundles,
    read_bundle,
    scan_bundles,
    select_best_model,
)
from taskclf.model_registry.errors import ActivePointerError, InvalidBundleError, RegistryError
from taskclf.model_registry.stores import (
    ARTIFACTS_DIRNAME,
    CONVENTIONAL_STORE_DIR,
    MAX_STORE_SEARCH_DEPTH,
    MAX_STORE_SEARCH_ENTRIES,
    find_bound_calibrator_store,
)

__all__ = [
    "ACTIVE_FILENAME",
    "ACTIVE_HISTORY_FILENAME",
    "ARTIFACTS_DIRNAME",
    "CONVENTIONAL_STORE_DIR",
    "MAX_SCAN_ENTRIES",
    "MAX_STORE_SEARCH_DEPTH",
    "MAX_STORE_SEARCH_ENTRIES",
    "METADATA_FILENAME",
    "METRICS_FILENAME",
    "SELECTION_POLICY_VERSION",
    "STORE_FILENAME",
    "ActiveChange",
    "ActivePointer",
    "ActivePointerError",
    "BundleRecord",
    "ExcludedBundle",
    "InvalidBundleError",
    "RegistryError",
    "SelectionReport",
    "active_history_path",
    "active_path",
    "compatibility_reason",
    "find_bound_calibrator_store",
    "rank_bundles",
    "read_active",
    "read_active_pointer",
    "read_bundle",
    "scan_bundles",
    "select_best_model",
    "write_active_atomic",
]
