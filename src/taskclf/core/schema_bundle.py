"""Self-contained ("bundled") forms of the shipped JSON Schemas.

A tool that is handed one schema file resolves a ``$ref`` to another file
against the schema's ``$id``, which is a URL, and so tries to download it. The
bundled form of a schema inlines every such external target into its own
``definitions`` and points the ``$ref`` there, so the one document is all a
tool needs. It is still draft-07 and accepts exactly the documents the
original accepts.

Only JSON is handled here (no validation library is imported): ``$ref`` values
are resolved against the ``$id`` of the document they appear in, among the
documents given (by default every schema shipped with taskclf).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from taskclf.core.schemas import SchemaResourceError, load_schema, schema_names

__all__ = ["bundle_schema", "external_refs"]


def bundle_schema(
    name: str, documents: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The self-contained form of schema ``name``: no ``$ref`` leaves the document.

    Arguments:
        name: the schema's file name, e.g. ``"model_metadata.v1.json"``.
        documents: schemas by file name, each with an ``$id``; default: every
            shipped schema.

    Each external target is copied once into ``definitions`` (under its own
    last pointer segment, made unique when two differ), with any ``$ref``
    inside it rewritten the same way; a schema with no external reference
    comes back equal to the original.

    Raises:
        SchemaResourceError: ``name``, or a document a ``$ref`` points at, is
            not among ``documents``, or a pointer names nothing.
    """
    docs = documents if documents is not None else {n: load_schema(n) for n in schema_names()}
    if name not in docs:
        raise SchemaResourceError(f"no schema named {name!r}; known: {', '.join(sorted(docs))}")
    by_id = {str(doc["$id"]): doc for doc in docs.values()}
    root = docs[name]
    root_id = str(root["$id"])
    taken = set(root.get("definitions", {}))  # names already used in definitions
    added: dict[str, Any] = {}  # the inlined targets, by their new name
    inlined: dict[str, str] = {}  # absolute target URI -> its name in definitions

    def local_name(fragment: str) -> str:
        wanted = unquote(fragment.rstrip("/").rsplit("/", 1)[-1]) or "document"
        candidate, number = wanted, 2
        while candidate in taken:
            candidate, number = f"{wanted}_{number}", number + 1
        taken.add(candidate)
        return candidate

    def rewrite(node: Any, base: str) -> Any:
        """``node`` (a schema) with every ``$ref`` rewritten."""
        if not isinstance(node, Mapping):
            return copy.deepcopy(node)  # a boolean schema
        result: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                result[key] = ref_to(urljoin(base, value))
            elif key in _SCHEMA_MAPS and isinstance(value, Mapping):
                result[key] = {k: rewrite(v, base) for k, v in value.items()}
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                result[key] = [rewrite(item, base) for item in value]
            elif key in _SCHEMA_VALUES:
                result[key] = rewrite(value, base)
            else:
                result[key] = copy.deepcopy(value)  # annotations and data (enum, default, ...)
        return result

    def ref_to(target: str) -> str:
        document_uri, fragment = urldefrag(target)
        if document_uri == root_id:
            return "#" + fragment
        if target not in inlined:
            if document_uri not in by_id:
                raise SchemaResourceError(f"$ref {target} names no schema shipped with taskclf")
            found = _resolve_pointer(by_id[document_uri], fragment, target)
            # Named before it is rewritten, so a $ref that loops back finds it.
            inlined[target] = local_name(fragment)
            part = {k: v for k, v in found.items() if k not in {"$id", "$schema"}}
            added[inlined[target]] = rewrite(part, document_uri)
        return "#/definitions/" + inlined[target]

    bundled: dict[str, Any] = rewrite(root, root_id)
    if added:
        bundled["definitions"] = {**bundled.get("definitions", {}), **added}
    return bundled


# Draft-07 keywords whose values hold schemas: a map of them, a list of them, or one.
# ("items" may be either; "dependencies" values may also be lists of names.)
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions", "dependencies"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "items"})
_SCHEMA_VALUES = frozenset(
    {
        "items",
        "additionalItems",
        "contains",
        "additionalProperties",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
    }
)


def _resolve_pointer(document: Mapping[str, Any], fragment: str, target: str) -> Mapping[str, Any]:
    node: Any = document
    for raw in fragment.split("/")[1:] if fragment else []:
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SchemaResourceError(f"$ref {target}: no {part!r} in the schema at that point")
    if not isinstance(node, Mapping):
        raise SchemaResourceError(f"$ref {target} does not point at a schema object")
    return node


def external_refs(schema: Mapping[str, Any]) -> list[str]:
    """Every ``$ref`` in ``schema`` that leaves the document (does not start with ``#``)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if not isinstance(node, Mapping):
            return
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and not value.startswith("#"):
                found.append(value)
            elif key in _SCHEMA_MAPS and isinstance(value, Mapping):
                for item in value.values():
                    walk(item)
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                for item in value:
                    walk(item)
            elif key in _SCHEMA_VALUES:
                walk(value)

    walk(schema)
    return found
