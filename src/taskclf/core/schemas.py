"""The JSON Schemas shipped with taskclf, loaded once per process.

The schema files are package data of :mod:`taskclf.schemas` (the repository's
top-level ``schemas/`` folder) and are the single source of truth for what a
valid document is. This module reads them with :mod:`importlib.resources`,
puts all of them in one :class:`referencing.Registry` (so ``$ref`` between our
schemas resolves locally; a reference to anything else is an error, never a
network fetch) and hands out one cached validator per schema.

:mod:`jsonschema` is imported only when a document fails the fast test
generated from its schema (:mod:`taskclf.core.validators`), so code paths that
read schema text or defaults, or validate valid documents, stay fast to start.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from taskclf.core.validators import fast_validator

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator
    from referencing import Registry

__all__ = [
    "ACTIVE_POINTER_SCHEMA",
    "CALIBRATOR_SCHEMA",
    "CALIBRATOR_STORE_SCHEMA",
    "MODEL_METADATA_SCHEMA",
    "MODEL_METRICS_SCHEMA",
    "POLICY_SCHEMA",
    "SchemaIssue",
    "SchemaResourceError",
    "json_pointer",
    "load_schema",
    "schema_names",
    "schema_registry",
    "schema_text",
    "validate_document",
    "validate_value",
    "validator_for",
]

POLICY_SCHEMA = "inference_policy.v1.json"
MODEL_METADATA_SCHEMA = "model_metadata.v1.json"
MODEL_METRICS_SCHEMA = "model_metrics.v1.json"
CALIBRATOR_STORE_SCHEMA = "calibrator_store.v1.json"
CALIBRATOR_SCHEMA = "calibrator.v1.json"
ACTIVE_POINTER_SCHEMA = "active_pointer.v1.json"

_PACKAGE = "taskclf.schemas"


class SchemaResourceError(Exception):
    """A schema that taskclf needs is missing from its installation."""


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    """One way in which a document breaks its schema.

    Attributes:
        pointer: JSON pointer (RFC 6901) of the offending value; ``""`` is the
            whole document.
        message: what is wrong, e.g. ``1.5 is greater than the maximum of 1``.
        value: the offending value itself.
        keyword: the schema keyword that failed (``maximum``, ``required``, ...).
        hint: how to fix it, taken from the schema's own text, or ``None``.
    """

    pointer: str
    message: str
    value: Any = field(compare=False)
    keyword: str
    hint: str | None = None

    @property
    def location(self) -> str:
        """The pointer for display: ``(root)`` stands for the whole document."""
        return self.pointer or "(root)"

    @property
    def message_with_hint(self) -> str:
        """The message followed by the hint in parentheses, when there is one."""
        return f"{self.message} ({self.hint.rstrip('.')})" if self.hint else self.message

    def __str__(self) -> str:
        return f"{self.location}: {self.message_with_hint}"

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as used by ``--format json`` output."""
        return {
            "pointer": self.pointer,
            "message": self.message,
            "keyword": self.keyword,
            "hint": self.hint,
            "value": _jsonable(self.value),
        }


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)
    return value


@functools.cache
def schema_names() -> tuple[str, ...]:
    """Names of every schema file shipped with taskclf, sorted."""
    return tuple(
        sorted(entry.name for entry in files(_PACKAGE).iterdir() if entry.name.endswith(".json"))
    )


@functools.cache
def schema_text(name: str) -> str:
    """The exact text of the schema file ``name`` (e.g. for ``taskclf policy schema``).

    Raises:
        SchemaResourceError: no such schema ships with this installation.
    """
    try:
        return (files(_PACKAGE) / name).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise SchemaResourceError(
            f"schema {name!r} is missing from the taskclf installation "
            f"(package {_PACKAGE}); reinstall taskclf"
        ) from exc


@functools.cache
def load_schema(name: str) -> Mapping[str, Any]:
    """The parsed schema ``name``. Shared by all callers: do not modify it."""
    schema: Mapping[str, Any] = json.loads(schema_text(name))
    return schema


@functools.cache
def _registry() -> Registry:
    from referencing import Registry, Resource

    resources = []
    for name in schema_names():
        contents = load_schema(name)
        resources.append((contents["$id"], Resource.from_contents(contents)))
    # No ``retrieve`` callable: a $ref outside our own files is unresolvable.
    registry: Registry = Registry().with_resources(resources)
    return registry


def _is_json_number(checker: Any, instance: Any) -> bool:
    # JSON has no NaN or infinities, and a schema's minimum/maximum cannot
    # catch NaN (every comparison with it is false), so a non-finite float is
    # simply not a JSON number.
    if isinstance(instance, bool) or not isinstance(instance, int | float):
        return False
    return isinstance(instance, int) or math.isfinite(instance)


@functools.cache
def _validator_class() -> Any:
    from jsonschema import Draft7Validator, validators

    type_checker = Draft7Validator.TYPE_CHECKER.redefine("number", _is_json_number)
    return validators.extend(  # type: ignore[no-untyped-call]
        Draft7Validator, type_checker=type_checker
    )


@functools.cache
def _validator(name: str, pointer: str = "") -> Validator:
    validator_class = _validator_class()
    if pointer:
        # A part of a schema, reached through the registry like any $ref.
        schema: Mapping[str, Any] = {"$ref": f"{load_schema(name)['$id']}#{pointer}"}
    else:
        # Not re-checked against the meta-schema here: that costs more than the
        # validation itself, and the test suite checks every shipped schema.
        schema = load_schema(name)
    validator: Validator = validator_class(schema, registry=_registry())
    return validator


def validator_for(name: str) -> Validator:
    """The cached validator of schema ``name``: draft-07, our registry, JSON numbers only.

    For callers that need the validator itself (e.g. to compile a fast check
    from the same schema); most callers want :func:`validate_document`.
    """
    return _validator(name)


def schema_registry() -> Registry:
    """The :class:`referencing.Registry` holding every shipped schema (built once)."""
    return _registry()


def validate_document(name: str, document: Any) -> tuple[SchemaIssue, ...]:
    """Validate ``document`` against schema ``name``; return every issue, best first.

    An empty tuple means the document is valid. The validator generated from
    the schema (:mod:`taskclf.core.validators`) answers first; only a document
    it rejects goes to :mod:`jsonschema`, the validator of record, whose errors
    become the issues (its validator and registry are built once per process).
    """
    if _fast_is_valid(name, document):
        return ()
    validator = _validator(name)
    raw_errors = list(validator.iter_errors(document))
    if not raw_errors:
        return ()
    from jsonschema.exceptions import best_match, relevance

    # For anyOf/oneOf, show the branch that came closest, as best_match does.
    errors = [best_match([error]) or error for error in raw_errors]
    ranked = sorted(errors, key=_ranking(relevance))
    root = load_schema(name)
    issues: dict[tuple[str, str, str], SchemaIssue] = {}
    for error in ranked:
        for issue in _issues_from(error, root):
            # A rule stated at a property and again in a definition it uses
            # (such as type: number) fails twice; say it once.
            issues.setdefault((issue.pointer, issue.keyword, issue.message), issue)
    return tuple(issues.values())


def _fast_is_valid(name: str, document: Any, pointer: str = "") -> bool:
    check = fast_validator(name, pointer)
    if check is None:
        return False
    try:
        return check(document)
    except Exception:
        # Something odd a Python caller passed (a key that is not a string,
        # say): jsonschema decides, as it did before there was a fast path.
        return False


def _ranking(relevance: Any) -> Any:
    def key(error: ValidationError) -> tuple[Any, ...]:
        depth, _path, not_weak, strong, mismatched_type = relevance(error)
        # Shallow errors first (they say the most); at the same depth an unknown
        # key first (it is usually a typo, and its "did you mean" explains the
        # "missing" error that comes with it), then strong keywords, then
        # keywords that are not weak, and type mismatches last. (jsonschema's
        # ``mismatched_type`` is also true when the failing schema states no
        # type at all.)
        typo = error.validator == "additionalProperties"
        return (-depth, not typo, not not_weak, not strong, mismatched_type)

    return key


def validate_value(name: str, pointer: str, value: Any) -> tuple[SchemaIssue, ...]:
    """Validate ``value`` against the part of schema ``name`` at JSON pointer ``pointer``.

    For checking one value, e.g. ``validate_value(POLICY_SCHEMA,
    "/properties/reject_threshold", 1.5)``, with the schema's own rule and hint.
    """
    if _fast_is_valid(name, value, pointer):
        return ()
    validator = _validator(name, pointer)
    issues = []
    for error in validator.iter_errors(value):
        hint = error.schema.get("errorMessage") if isinstance(error.schema, Mapping) else None
        issues.append(
            SchemaIssue(
                pointer="",
                message=_message_for(error),
                value=value,
                keyword=str(error.validator),
                hint=hint if isinstance(hint, str) else None,
            )
        )
    return tuple(issues)


def json_pointer(parts: Iterable[str | int]) -> str:
    """Build an RFC 6901 JSON pointer from path parts (escaping ``~`` and ``/``)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _issues_from(error: ValidationError, root: Mapping[str, Any]) -> Iterator[SchemaIssue]:
    path = list(error.absolute_path)
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    instance: Any = error.instance
    expected: Any = error.validator_value
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        yield from _unknown_key_issues(schema, instance, path)
        return
    if error.validator == "required" and isinstance(instance, dict):
        for missing in expected:
            if missing not in instance and error.message.startswith(repr(missing)):
                described = _property_schema(schema, missing)
                yield SchemaIssue(
                    pointer=json_pointer([*path, missing]),
                    message=f"{_shown(missing)} is required but missing",
                    value=None,
                    keyword="required",
                    hint=described.get("description") or described.get("errorMessage"),
                )
                return
    message = _message_for(error)
    yield SchemaIssue(
        pointer=json_pointer(path),
        message=message,
        value=error.instance,
        keyword=str(error.validator),
        hint=_hint_for(schema, root, path),
    )


_SHOWN_VALUE_LIMIT = 60


def _shown(value: Any) -> str:
    """``value`` as JSON (``null``, ``true``), cut short when long."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > _SHOWN_VALUE_LIMIT:
        text = text[: _SHOWN_VALUE_LIMIT - 3] + "..."
    return text


def _message_for(error: ValidationError) -> str:
    # jsonschema words its messages with Python reprs (None, True); a person
    # editing a JSON file should see JSON. Other messages are kept as they are.
    keyword, expected = error.validator, error.validator_value
    value = _shown(error.instance)
    if keyword == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"{value} is not of type {' or '.join(map(str, kinds))}"
    if keyword == "enum":
        return f"{value} is not one of {_shown(expected)}"
    if keyword == "const":
        return f"{value} is not {_shown(expected)}"
    if keyword == "pattern":
        # The raw regular expression helps nobody; the hint explains the format.
        return f"{value} does not have the expected format"
    if keyword == "dependencies":
        found = re.fullmatch(r"'(.+)' is a dependency of '(.+)'", error.message)
        if found:
            needed, given = found.groups()
            return f"{_shown(needed)} is required when {_shown(given)} is given"
    if keyword in {"oneOf", "anyOf"}:
        # jsonschema prints the whole value and every alternative schema here;
        # the schema's hint says what the alternatives are.
        many = keyword == "oneOf" and not error.context
        return "matches more than one allowed form" if many else "matches none of the allowed forms"
    message = error.message
    if message.startswith(repr(error.instance)):  # "'' should be non-empty" and the like
        message = value + message[len(repr(error.instance)) :]
    if len(message) > 2 * _SHOWN_VALUE_LIMIT:
        return message[: 2 * _SHOWN_VALUE_LIMIT - 3] + "..."
    return message


def _unknown_key_issues(
    schema: Mapping[str, Any], instance: dict[str, Any], path: list[str | int]
) -> Iterator[SchemaIssue]:
    known = list(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    for key, value in instance.items():
        if key in known or any(p.search(key) for p in patterns):
            continue
        import difflib  # only needed when a document has an unknown key

        close = difflib.get_close_matches(key, known, n=1)
        hint = (
            f"did you mean {_shown(close[0])}?"
            if close
            else "remove it, or fix its spelling; known keys: " + ", ".join(known)
        )
        yield SchemaIssue(
            pointer=json_pointer([*path, key]),
            message=f"unknown key {_shown(key)}",
            value=value,
            keyword="additionalProperties",
            hint=hint,
        )


def _property_schema(schema: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    prop = schema.get("properties", {}).get(name, {})
    return prop if isinstance(prop, Mapping) else {}


def _hint_for(
    schema: Mapping[str, Any], root: Mapping[str, Any], path: list[str | int]
) -> str | None:
    # The schema's own ``errorMessage`` (also shown by VS Code) at the failing
    # node, else at the top-level property that holds the offending value.
    hint = schema.get("errorMessage")
    if hint is None and path and isinstance(path[0], str):
        hint = _property_schema(root, path[0]).get("errorMessage")
    return hint if isinstance(hint, str) else None
