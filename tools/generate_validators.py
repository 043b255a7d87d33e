"""Generate the fast "valid?" validators of taskclf's schemas (a development tool, not shipped).

Run from the repository root after changing a file in ``schemas/``:

    .venv/bin/python tools/generate_validators.py

It writes one module per schema into ``src/taskclf/core/validators/`` (for
``score_row.v1.json``: ``score_row_v1.py``), each with a function
``is_valid(data) -> bool`` for the whole schema and, in ``PARTS``, one for each
``/properties/<name>`` and ``/definitions/<name>``, by JSON pointer (for
``validate_value``). The modules are checked in; a test regenerates them
and fails when they differ from the checked-in copies. ``--check`` does the
same from the command line (exit code 1 on drift, nothing written).

The generated code answers only "valid or not", exactly as
:mod:`jsonschema`'s draft-07 validator with taskclf's type checker would
(a non-finite float is not a number), and imports nothing but :mod:`re` and
:mod:`math`. ``$ref`` is resolved here, at generation time, from the files in
``schemas/`` (never the network), and the referenced schema is inlined.

The generator knows the draft-07 keywords our schemas use. A schema using any
other validation keyword (or a form of one it does not implement) stops the
generator with :class:`UnsupportedSchema`: extend the generator, never guess.
``format`` is not a validation keyword here, because taskclf's validators have
no format checker (jsonschema then treats ``format`` as an annotation).
Keys that are not draft-07 validation keywords (``title``, ``errorMessage``,
``default``, ...) are ignored, as jsonschema ignores them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "src"))  # run from a checkout, installed or not

from taskclf.core.validators import module_name  # noqa: E402

SCHEMA_DIR = REPO_ROOT / "schemas"
OUTPUT_DIR = REPO_ROOT / "src" / "taskclf" / "core" / "validators"
COMMAND = ".venv/bin/python tools/generate_validators.py"

# Every keyword jsonschema's Draft7Validator acts on. Any other key of a schema
# is an annotation.
DRAFT7_KEYWORDS = frozenset(
    {
        "$ref",
        "additionalItems",
        "additionalProperties",
        "allOf",
        "anyOf",
        "const",
        "contains",
        "dependencies",
        "enum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "format",
        "if",
        "items",
        "maxItems",
        "maxLength",
        "maxProperties",
        "maximum",
        "minItems",
        "minLength",
        "minProperties",
        "minimum",
        "multipleOf",
        "not",
        "oneOf",
        "pattern",
        "patternProperties",
        "properties",
        "propertyNames",
        "required",
        "type",
        "uniqueItems",
    }
)

# How each JSON type is tested, as jsonschema's draft-07 type checker tests it,
# except "number", which is taskclf's (taskclf.core.schemas._is_json_number):
# booleans are not numbers, and neither are NaN and the infinities.
TYPE_TESTS = {
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "string": "isinstance({v}, str)",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
    # Draft 7's integer: an int that is not a bool, or a float with no fraction.
    "integer": (
        "(isinstance({v}, int) and not isinstance({v}, bool)"
        " or isinstance({v}, float) and {v}.is_integer())"
    ),
    "number": (
        "(isinstance({v}, float) and _isfinite({v})"
        " or isinstance({v}, int) and not isinstance({v}, bool))"
    ),
}


class UnsupportedSchema(Exception):
    """A schema uses a keyword (or a form of one) the generator does not implement."""


def load_schemas(folder: Path = SCHEMA_DIR) -> dict[str, Mapping[str, Any]]:
    """Every schema in ``folder``, by file name, sorted."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.json"))
    }


def _names_in_extra_loop(schema: Mapping[str, Any]) -> bool:
    """Whether propertyNames is checked inside the loop over the extra keys.

    That loop visits every key when no property is named and no pattern given;
    one loop then does for both keywords.
    """
    return (
        "propertyNames" in schema
        and isinstance(schema.get("additionalProperties"), Mapping)
        and not schema.get("properties")
        and not schema.get("patternProperties")
    )


def _pointer_get(document: Any, fragment: str) -> Any:
    node = document
    if not fragment:
        return node
    if not fragment.startswith("/"):
        raise UnsupportedSchema(f"$ref fragment {fragment!r} is not a JSON pointer")
    for raw in fragment[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


class _Generator:
    """Turns one schema into the text of one module."""

    def __init__(self, by_id: Mapping[str, Mapping[str, Any]]) -> None:
        self.by_id = by_id
        self.constants: list[str] = []
        self.constant_names: dict[str, str] = {}
        self.helpers: list[list[str]] = []
        self.counter = 0
        self.uses_isfinite = False
        self.uses_re = False
        self.refs_in_progress: list[str] = []

    # -- names -----------------------------------------------------------------

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def constant(self, prefix: str, text: str) -> str:
        """A module-level constant holding ``text`` (deduplicated)."""
        if text not in self.constant_names:
            name = f"_{prefix}{len(self.constant_names) + 1}"
            self.constant_names[text] = name
            self.constants.append(f"{name} = {text}")
        return self.constant_names[text]

    def regex(self, pattern: str) -> str:
        self.uses_re = True
        re.compile(pattern)  # fails here, not at import time of the generated code
        return self.constant("RE", f"re.compile({pattern!r}).search")

    def type_test(self, name: str, var: str) -> str:
        if name not in TYPE_TESTS:
            raise UnsupportedSchema(f"type {name!r}")
        if name == "number":
            self.uses_isfinite = True
        return TYPE_TESTS[name].format(v=var)

    # -- schemas -----------------------------------------------------------------

    def node(
        self, schema: Any, base: str, var: str, known: frozenset[str] | None, depth: int
    ) -> list[str]:
        """Statements (indented ``depth`` levels) that ``return False`` unless ``var`` is valid.

        ``known``: the JSON types ``var`` is already known to have (a ``type``
        keyword checked it), or ``None``; a keyword about one of them needs no
        type test of its own.
        """
        pad = "    " * depth
        if schema is True:
            return []
        if schema is False:
            return [f"{pad}return False"]
        if not isinstance(schema, Mapping):
            raise UnsupportedSchema(f"{schema!r} is not a schema")
        if "$ref" in schema:
            # Draft 7: the keywords beside a $ref are ignored.
            return self.ref(schema["$ref"], base, var, known, depth)
        if "$id" in schema and schema is not self.by_id.get(base):
            raise UnsupportedSchema("$id inside a subschema")
        lines: list[str] = []
        declared = schema.get("type")
        if declared is not None:
            names = [declared] if isinstance(declared, str) else list(declared)
            if known is None or not known <= set(names):
                # Not implied by a type test already made on this value (a
                # property's type is often stated again in a definition it uses).
                tests = " or ".join(self.type_test(name, var) for name in names)
                lines.append(f"{pad}if not ({tests}):")
                lines.append(f"{pad}    return False")
                known = frozenset(names) if known is None else known & frozenset(names)
        handled = {"type", "then", "else"}
        # Keyword order is the schema's, except that "items" goes before
        # "uniqueItems" (which relies on it; see uniqueItems below).
        keywords = sorted(
            (key for key in schema if key in DRAFT7_KEYWORDS and key not in handled),
            key=lambda key: key == "uniqueItems",
        )
        for keyword in keywords:
            method = getattr(self, "kw_" + keyword, None)
            if method is None:
                raise UnsupportedSchema(f"keyword {keyword!r}")
            block = method(schema[keyword], schema, base, var, known, depth)
            if block and lines and block[0] == self.last_guard(lines, pad):
                block = block[1:]  # the same type test as the block before: one test
            lines += block
        return lines

    @staticmethod
    def last_guard(lines: list[str], pad: str) -> str | None:
        """The type test that opens the last block of ``lines`` at this depth, if any."""
        for line in reversed(lines):
            if line.startswith(pad) and not line.startswith(pad + " "):
                opened = line.startswith(f"{pad}if isinstance(") and line.endswith(":")
                return line if opened else None
        return None

    def ref(
        self, ref: str, base: str, var: str, known: frozenset[str] | None, depth: int
    ) -> list[str]:
        url, fragment = urldefrag(urljoin(base, ref))
        if url not in self.by_id:
            raise UnsupportedSchema(f"$ref {ref!r} is not one of our schemas")
        key = f"{url}#{fragment}"
        if key in self.refs_in_progress:
            raise UnsupportedSchema(f"$ref {ref!r} is recursive")
        self.refs_in_progress.append(key)
        try:
            target = _pointer_get(self.by_id[url], fragment)
            return self.node(target, url, var, known, depth)
        finally:
            self.refs_in_progress.pop()

    def guard(self, about: str, var: str, known: frozenset[str] | None, depth: int) -> list[str]:
        """Open a block that runs only when ``var`` has type ``about`` (as jsonschema does)."""
        if known is not None and known == {about}:
            return []
        pad = "    " * depth
        return [f"{pad}if {self.type_test(about, var)}:"]

    def guarded(
        self,
        about: str,
        var: str,
        known: frozenset[str] | None,
        depth: int,
        body: Callable[[int], list[str]],
    ) -> list[str]:
        """``body``'s statements, run only when ``var`` has type ``about``."""
        head = self.guard(about, var, known, depth)
        lines = body(depth + 1 if head else depth)
        return head + lines if lines else []

    def predicate(self, schema: Any, base: str, known: frozenset[str] | None) -> str:
        """A module-level function ``name(v) -> bool`` for ``schema``; returns its name."""
        name = self.fresh("_s")
        body = self.node(schema, base, "v", known, 1)
        self.helpers.append([f"def {name}(v: Any) -> bool:", *body, "    return True"])
        return name

    # -- keywords (each as jsonschema's draft-07 implementation of it) ------------

    def kw_properties(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        def body(inner: int) -> list[str]:
            pad = "    " * inner
            lines: list[str] = []
            for name, sub in value.items():
                item = self.fresh("x")
                sub_lines = self.node(sub, base, item, None, inner + 1)
                if not sub_lines:
                    continue
                lines.append(f"{pad}if {name!r} in {var}:")
                lines.append(f"{pad}    {item} = {var}[{name!r}]")
                lines += sub_lines
            return lines

        return self.guarded("object", var, known, depth, body)

    def kw_patternProperties(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        # Handled together with additionalProperties, which depends on it.
        if "additionalProperties" in schema:
            return []
        return self.extra_keys(schema, base, var, known, depth)

    def kw_additionalProperties(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        return self.extra_keys(schema, base, var, known, depth)

    def extra_keys(self, schema: Any, base: str, var: str, known: Any, depth: int) -> list[str]:
        names = list(schema.get("properties", {}))
        patterns = dict(schema.get("patternProperties", {}))
        additional = schema.get("additionalProperties", True)

        def body(inner: int) -> list[str]:
            pad = "    " * inner
            key, item = self.fresh("k"), self.fresh("x")
            tests = [f"{self.regex(pattern)}({key})" for pattern in patterns]
            checks: list[str] = []
            for test, sub in zip(tests, patterns.values(), strict=True):
                sub_lines = self.node(sub, base, item, None, inner + 2)
                if sub_lines:
                    checks += [f"{pad}    if {test}:", *sub_lines]
            extra_lines = self.node(additional, base, item, None, inner + 2)
            if _names_in_extra_loop(schema):
                # One loop over the keys for propertyNames and the extras both.
                checks = self.node(schema["propertyNames"], base, key, None, inner + 1) + checks
            if not checks and not extra_lines:
                return []
            known_names = self.constant("KEYS", f"frozenset({sorted(names)!r})") if names else ""
            # When no property name matches a pattern (decided here, at
            # generation time), a named key is neither a pattern match nor an
            # extra, and a document with named keys only needs no loop at all.
            disjoint = not any(re.search(p, name) for p in patterns for name in names)
            lines = [f"{pad}for {key}, {item} in {var}.items():"]
            if not names:
                disjoint = False  # nothing to skip, and no shortcut
            if disjoint:
                lines += [f"{pad}    if {key} in {known_names}:", f"{pad}        continue"]
            lines += checks
            if extra_lines:
                matched = " or ".join(
                    ([] if disjoint or not names else [f"{key} in {known_names}"]) + tests
                )
                lines += (
                    [f"{pad}    if not ({matched}):", *extra_lines]
                    if matched
                    else [line[4:] for line in extra_lines]
                )
            if disjoint:
                return [f"{pad}if not {var}.keys() <= {known_names}:"] + [
                    "    " + line for line in lines
                ]
            return lines

        return self.guarded("object", var, known, depth, body)

    def kw_propertyNames(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        if _names_in_extra_loop(schema):
            return []  # checked in the loop over the extra keys, which is every key

        def body(inner: int) -> list[str]:
            pad = "    " * inner
            key = self.fresh("k")
            # Not assumed to be strings: a Python caller can pass other keys.
            sub_lines = self.node(value, base, key, None, inner + 1)
            if not sub_lines:
                return []
            return [f"{pad}for {key} in {var}:", *sub_lines]

        return self.guarded("object", var, known, depth, body)

    def kw_required(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        if not value:
            return []

        def body(inner: int) -> list[str]:
            pad = "    " * inner
            test = " or ".join(f"{name!r} not in {var}" for name in value)
            return [f"{pad}if {test}:", f"{pad}    return False"]

        return self.guarded("object", var, known, depth, body)

    def kw_minProperties(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        def body(inner: int) -> list[str]:
            pad = "    " * inner
            return [f"{pad}if len({var}) < {value!r}:", f"{pad}    return False"]

        return self.guarded("object", var, known, depth, body)

    def kw_dependencies(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        def body(inner: int) -> list[str]:
            pad = "    " * inner
            lines: list[str] = []
            for name, dependency in value.items():
                if isinstance(dependency, list):
                    if not dependency:
                        continue
                    test = " or ".join(f"{other!r} not in {var}" for other in dependency)
                    lines += [f"{pad}if {name!r} in {var} and ({test}):", f"{pad}    return False"]
                else:
                    sub_lines = self.node(dependency, base, var, frozenset({"object"}), inner + 1)
                    if sub_lines:
                        lines += [f"{pad}if {name!r} in {var}:", *sub_lines]
            return lines

        return self.guarded("object", var, known, depth, body)

    def kw_minLength(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        def body(inner: int) -> list[str]:
            pad = "    " * inner
            return [f"{pad}if len({var}) < {value!r}:", f"{pad}    return False"]

        return self.guarded("string", var, known, depth, body)

    def kw_maxLength(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        def body(inner: int) -> list[str]:
            pad = "    " * inner
            return [f"{pad}if len({var}) > {value!r}:", f"{pad}    return False"]

        return self.guarded("string", var, known, depth, body)

    def kw_pattern(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        def body(inner: int) -> list[str]:
            pad = "    " * inner
            return [f"{pad}if not {self.regex(value)}({var}):", f"{pad}    return False"]

        return self.guarded("string", var, known, depth, body)

    def kw_format(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        return []  # an annotation: taskclf's validators have no format checker

    def kw_minimum(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        return self.bound(var, f"{var} < {value!r}", known, depth)

    def kw_maximum(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        return self.bound(var, f"{var} > {value!r}", known, depth)

    def kw_exclusiveMinimum(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        return self.bound(var, f"{var} <= {value!r}", known, depth)

    def kw_exclusiveMaximum(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        return self.bound(var, f"{var} >= {value!r}", known, depth)

    def bound(self, var: str, failing: str, known: Any, depth: int) -> list[str]:
        def body(inner: int) -> list[str]:
            pad = "    " * inner
            return [f"{pad}if {failing}:", f"{pad}    return False"]

        return self.guarded("number", var, known, depth, body)

    def kw_const(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        pad = "    " * depth
        return [f"{pad}if not ({self.equals(var, value, known)}):", f"{pad}    return False"]

    def kw_enum(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        pad = "    " * depth
        tests = " or ".join(self.equals(var, each, known) for each in value) or "False"
        return [f"{pad}if not ({tests}):", f"{pad}    return False"]

    def equals(self, var: str, value: Any, known: frozenset[str] | None) -> str:
        # jsonschema's equality: strings compare as strings, null only to null.
        if value is None:
            return f"{var} is None"
        if isinstance(value, str):
            if known is not None and known <= {"string", "null"}:
                return f"{var} == {value!r}"  # None == "..." is False anyway
            return f"(isinstance({var}, str) and {var} == {value!r})"
        raise UnsupportedSchema(f"const/enum value {value!r} (only strings and null)")

    def kw_minItems(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        def body(inner: int) -> list[str]:
            pad = "    " * inner
            return [f"{pad}if len({var}) < {value!r}:", f"{pad}    return False"]

        return self.guarded("array", var, known, depth, body)

    def kw_items(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        if not isinstance(value, Mapping | bool):
            raise UnsupportedSchema("items as an array of schemas")

        def body(inner: int) -> list[str]:
            pad = "    " * inner
            item = self.fresh("x")
            sub_lines = self.node(value, base, item, None, inner + 1)
            if not sub_lines:
                return []
            return [f"{pad}for {item} in {var}:", *sub_lines]

        return self.guarded("array", var, known, depth, body)

    def kw_uniqueItems(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        if value is not True:
            return []
        items = schema.get("items")
        if not (isinstance(items, Mapping) and items.get("type") == "string"):
            # jsonschema's equality of arbitrary JSON values (1 == 1.0, True != 1,
            # ...) is not implemented; with string items a set decides it, and
            # the items check runs first, so every item is a string here.
            raise UnsupportedSchema("uniqueItems without items of type string")

        def body(inner: int) -> list[str]:
            pad = "    " * inner
            return [f"{pad}if len(set({var})) != len({var}):", f"{pad}    return False"]

        return self.guarded("array", var, known, depth, body)

    def kw_allOf(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        lines: list[str] = []
        for sub in value:
            lines += self.node(sub, base, var, known, depth)
        return lines

    def kw_oneOf(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        pad = "    " * depth
        calls = [self.inline_or_call(sub, base, var, known) for sub in value]
        count = " + ".join(f"({call})" for call in calls)
        return [f"{pad}if {count} != 1:", f"{pad}    return False"]

    def kw_anyOf(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        pad = "    " * depth
        calls = [self.inline_or_call(sub, base, var, known) for sub in value]
        return [f"{pad}if not ({' or '.join(calls)}):", f"{pad}    return False"]

    def kw_not(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        pad = "    " * depth
        return [
            f"{pad}if {self.inline_or_call(value, base, var, known)}:",
            f"{pad}    return False",
        ]

    def kw_if(
        self, value: Any, schema: Any, base: str, var: str, known: Any, depth: int
    ) -> list[str]:
        pad = "    " * depth
        lines: list[str] = []
        then_lines = self.node(schema.get("then", True), base, var, known, depth + 1)
        else_lines = self.node(schema.get("else", True), base, var, known, depth + 1)
        if not then_lines and not else_lines:
            return []
        test = self.inline_or_call(value, base, var, known)
        if then_lines:
            lines += [f"{pad}if {test}:", *then_lines]
            if else_lines:
                lines += [f"{pad}else:", *else_lines]
        else:
            lines += [f"{pad}if not ({test}):", *else_lines]
        return lines

    def inline_or_call(self, schema: Any, base: str, var: str, known: Any) -> str:
        """A boolean expression: ``var`` is valid against ``schema``."""
        expression = self.expression(schema, base, var, known)
        if expression is not None:
            return expression
        return f"{self.predicate(schema, base, known)}({var})"

    def expression(self, schema: Any, base: str, var: str, known: Any) -> str | None:
        # Subschemas made only of "required" (as in oneOf branches) become an
        # expression, which saves a function call per document.
        if schema is True:
            return "True"
        if not isinstance(schema, Mapping):
            return None
        keys = {key for key in schema if key in DRAFT7_KEYWORDS}
        if keys != {"required"} or not schema["required"] or known != {"object"}:
            return None
        return " and ".join(f"{name!r} in {var}" for name in schema["required"])


def generate(schema_name: str, schemas: Mapping[str, Mapping[str, Any]]) -> str:
    """The text of the generated module for ``schema_name``."""
    by_id = {schema["$id"]: schema for schema in schemas.values()}
    schema = schemas[schema_name]
    generator = _Generator(by_id)
    body = generator.node(schema, schema["$id"], "data", None, 1)
    # One test per named part (for taskclf.core.schemas.validate_value): every
    # property and every definition, reached by its JSON pointer.
    parts: dict[str, str] = {}
    for section in ("properties", "definitions"):
        for name, sub in schema.get(section, {}).items():
            pointer = "/" + "/".join(
                p.replace("~", "~0").replace("/", "~1") for p in (section, name)
            )
            parts[pointer] = generator.predicate(sub, schema["$id"], None)
    imports = []
    if generator.uses_re:
        imports.append("import re")
    lines = [
        f'"""Fast "valid?" test of {schema_name}: generated, do not edit.',
        "",
        f"Generated from schemas/{schema_name} by tools/generate_validators.py; regenerate",
        f"with ``{COMMAND}``.",
        "",
        "It answers as jsonschema's draft-07 validator with taskclf's type checker",
        "does, but only whether the document is valid; the reasons for a document",
        "that is not come from taskclf.core.schemas.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *imports,
        *(["from math import isfinite as _isfinite"] if generator.uses_isfinite else []),
        "from typing import Any",
        "",
        '__all__ = ["PARTS", "SCHEMA", "is_valid"]',
        "",
        f"SCHEMA = {schema_name!r}",
        '"""The schema this module was generated from."""',
        "",
        *generator.constants,
        "",
    ]
    for helper in generator.helpers:
        lines += ["", *helper, ""]
    lines += [
        "",
        "def is_valid(data: Any) -> bool:",
        f'    """Whether ``data`` is valid against {schema_name}."""',
        *body,
        "    return True",
        "",
        "",
        "PARTS = {",
        *(f"    {pointer!r}: {function}," for pointer, function in parts.items()),
        "}",
        '"""The test of each named part of the schema, by JSON pointer."""',
        "",
    ]
    text = "\n".join(lines)
    return re.sub(r"\n{4,}", "\n\n\n", text)


def outputs(folder: Path = SCHEMA_DIR) -> dict[str, str]:
    """Generated module file name -> its text, for every schema in ``folder``."""
    schemas = load_schemas(folder)
    return {f"{module_name(name)}.py": generate(name, schemas) for name in schemas}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only compare; exit 1 when a module is stale"
    )
    options = parser.parse_args(argv)
    stale = []
    for file_name, text in outputs().items():
        path = OUTPUT_DIR / file_name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(file_name)
        if not options.check:
            path.write_text(text, encoding="utf-8")
    verb = "stale" if options.check else "written"
    for file_name in stale:
        print(f"{OUTPUT_DIR.relative_to(REPO_ROOT) / file_name}: {verb}")
    return 1 if options.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
