"""The starter policy template, generated from the schema.

The template is the schema made concrete: each optional field takes the
schema's ``default`` and each required field without one takes the first of
its ``examples`` as a placeholder (``models/<run_id>``, ``<schema_hash>``,
``["<label>"]``). An ``_help`` note tells the person who opens the file what to
do next. ``configs/inference_policy.template.json`` in the repository is the
output of :func:`render_default_inference_policy_template_json`; regenerate it
with ``taskclf policy template --output configs/inference_policy.template.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taskclf.core.home import Home
from taskclf.core.jsonio import dumps_json, encode_json_document
from taskclf.core.layout import CANONICAL_TEMPLATE_PATH, home_of, policy_path
from taskclf.core.policy_history import change_policy_file
from taskclf.core.provenance import current_git_commit, utc_now_iso
from taskclf.core.schemas import POLICY_SCHEMA, load_schema, validate_document

__all__ = [
    "TEMPLATE_CREATED_AT",
    "render_default_inference_policy_template_json",
    "write_inference_policy_starter_template",
]

TEMPLATE_CREATED_AT = "2000-01-01T00:00:00+00:00"
"""Fixed ``created_at`` of the checked-in template, so it is byte-stable."""


def _help_block(paths_are_relative_to: str) -> dict[str, Any]:
    schema = load_schema(POLICY_SCHEMA)
    threshold = schema["properties"]["reject_threshold"]["default"]
    store_example = schema["properties"]["calibrator_store_dir"]["examples"][0]
    model_example = schema["properties"]["model_dir"]["examples"][0]
    # The keys are the original taskclf's, so tools reading its _help keep working.
    return {
        "summary": schema["description"],
        "preferred_command": f"taskclf policy create --model-dir {model_example}",
        "with_calibration": (
            f"taskclf policy create --model-dir {model_example} "
            f"--calibrator-store {store_example} --reject-threshold {threshold}"
        ),
        "paths_are_relative_to": paths_are_relative_to,
        "notes": [
            "This file is a placeholder: replace the <...> values, or better, "
            "let `taskclf policy create` fill them from the model bundle.",
            "Check your edits with `taskclf policy validate`; inference ignores "
            "an invalid policy and falls back to models/active.json.",
            "Keys starting with an underscore, like this _help block, are notes "
            "for people and are ignored by taskclf.",
        ],
        "canonical_template": (
            f"{CANONICAL_TEMPLATE_PATH} in the taskclf repository; print it with "
            "`taskclf policy template`"
        ),
    }


def _template_document(
    *, created_at: str, git_commit: str, source: str, paths_are_relative_to: str
) -> dict[str, Any]:
    schema = load_schema(POLICY_SCHEMA)
    required = set(schema["required"])
    provenance = {"created_at": created_at, "git_commit": git_commit, "source": source}
    document: dict[str, Any] = {"_help": _help_block(paths_are_relative_to)}
    for name, spec in schema["properties"].items():
        if name in provenance:
            document[name] = provenance[name]
        elif "default" in spec:
            document[name] = spec["default"]
        elif name in required:
            document[name] = spec["examples"][0]
    return document


def render_default_inference_policy_template_json() -> str:
    """Return the canonical checked-in starter JSON text for ``configs/``.

    Uses a fixed ``created_at``, an empty ``git_commit`` and source
    ``"template"``, so the text is identical on every run and machine.
    """
    document = _template_document(
        created_at=TEMPLATE_CREATED_AT,
        git_commit="",
        source="template",
        paths_are_relative_to="<TASKCLF_HOME>",
    )
    return dumps_json(document)


def write_inference_policy_starter_template(
    models_dir: Path, *, replaced_by: str = "write_inference_policy_starter_template"
) -> Path:
    """Atomically write a placeholder ``inference_policy.json`` for manual editing.

    Same shape as :func:`render_default_inference_policy_template_json`, with
    live ``created_at``/``git_commit``, source ``"starter-template"`` and
    ``_help.paths_are_relative_to`` set to ``str(models_dir.parent)``. The file
    is a schema-valid policy (its placeholders fail the disk checks until they
    are replaced). An existing policy file is overwritten, after it is kept
    in the history (:mod:`taskclf.core.policy_history`) as replaced by
    ``replaced_by``.

    Returns:
        Path to the written policy file.
    """
    document = _template_document(
        created_at=utc_now_iso(),
        git_commit=current_git_commit(),
        source="starter-template",
        paths_are_relative_to=str(home_of(models_dir)),
    )
    issues = validate_document(POLICY_SCHEMA, document)
    if issues:  # the schema and this module disagree: a bug, not a user error
        raise AssertionError(f"starter template breaks the schema: {issues}")
    home = Home.of_models_dir(models_dir)
    shown = home.display(policy_path(models_dir))
    change_policy_file(models_dir, encode_json_document(document, shown), replaced_by=replaced_by)
    return home.path_of(shown)
