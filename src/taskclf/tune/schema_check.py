"""A fast yes/no test of a document against a schema, compiled from the schema itself.

:func:`taskclf.core.schemas.validate_document` checks a score row in 0.1 to
0.3 milliseconds: fine for a policy file, too slow for a million held-out
predictions. This module turns a schema into a tree of small Python closures,
one per keyword, that answers only "valid or not" and is many times faster.

It restates no rule of its own: every bound, type and required key comes from
the schema, and every type test goes through the type checker of the very
validator :func:`~taskclf.core.schemas.validate_document` uses (so a NaN is
not a number here either). The compiler knows a small set of draft-07
keywords, each implemented as :mod:`jsonschema` implements it; a schema using
any other validation keyword is not compiled at all (:class:`UnsupportedSchema`)
and callers fall back to the full validator. Keywords that validate nothing
(``title``, ``description``, ``errorMessage``, ...) are skipped, as
:mod:`jsonschema` skips them.

The compiled check is a filter, not the authority: a document it rejects is
passed to :func:`~taskclf.core.schemas.validate_document` for the issues to
show, and the tests compare the two on generated documents.

The type checker and the registry are those of :mod:`taskclf.core.schemas`
(:func:`~taskclf.core.schemas.validator_for`,
:func:`~taskclf.core.schemas.schema_registry`), so both validate alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from referencing._core import Resolver

__all__ = ["Check", "UnsupportedSchema", "compile_check", "schema_check"]

Check = Callable[[Any], bool]
"""A compiled schema: returns ``True`` when the document is valid."""

IsType = Callable[[Any, str], bool]


class UnsupportedSchema(Exception):
    """The schema uses something the compiler does not implement.

    Attributes:
        keyword: the keyword (or construct) that stopped the compilation.
    """

    def __init__(self, keyword: str, reason: str = "is not supported by the compiler") -> None:
        super().__init__(f"{keyword!r} {reason}")
        self.keyword = keyword


@functools.cache
def schema_check(name: str) -> Check | None:
    """The compiled check of the shipped schema ``name``, or ``None``.

    ``None`` means the schema uses a keyword the compiler does not implement;
    validate with :func:`~taskclf.core.schemas.validate_document` instead.
    The check is built once per process.
    """
    # The validator and registry that validate_document uses: same types,
    # same $ref resolution.
    from taskclf.core.schemas import load_schema, schema_registry, validator_for

    validator = validator_for(name)
    schema = load_schema(name)
    resolver = schema_registry().resolver(base_uri=schema["$id"])
    try:
        return compile_check(
            schema,
            resolver=resolver,
            is_type=validator.TYPE_CHECKER.is_type,
            keywords=frozenset(type(validator).VALIDATORS),
        )
    except UnsupportedSchema:
        return None


def compile_check(
    schema: Mapping[str, Any] | bool,
    *,
    resolver: Resolver[Any],
    is_type: IsType,
    keywords: frozenset[str],
) -> Check:
    """Compile ``schema`` (draft-07) into a yes/no check.

    Args:
        schema: the root schema; a ``$id`` in it is ignored, ``resolver``
            already has the base URI.
        resolver: resolves ``$ref`` (a :class:`referencing.Registry` resolver).
        is_type: the type checker of the validator the check must agree with,
            e.g. ``validator.TYPE_CHECKER.is_type``.
        keywords: every keyword that validator acts on; any other key of a
            schema is an annotation and is ignored.

    Raises:
        UnsupportedSchema: the schema uses a validation keyword (or a nested
            ``$id``, or a recursive ``$ref``) the compiler does not implement.
    """
    return _Compiler(is_type, keywords).compile(schema, resolver, root=True)


def _always(_value: Any) -> bool:
    return True


def _never(_value: Any) -> bool:
    return False


# A keyword compiler returns the JSON type it is about (``None``: every value)
# and the test for values of that type; values of other types pass it, as in
# jsonschema. ``known`` is a type the value is already known to have, because
# a ``type`` keyword checked it first: the type test of a keyword about that
# type is then skipped, which is most of the speed-up.
_Compiled = tuple[str | None, Check]


class _Compiler:
    def __init__(self, is_type: IsType, keywords: frozenset[str]) -> None:
        self.is_type = is_type
        self.keywords = keywords
        self.refs_in_progress: set[tuple[int, str | None]] = set()
        self.compiled_refs: dict[tuple[int, str | None], Check] = {}

    def compile(
        self,
        schema: Mapping[str, Any] | bool,
        resolver: Resolver[Any],
        known: str | None = None,
        *,
        root: bool = False,
    ) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, Mapping):
            raise UnsupportedSchema(repr(schema), "is not a schema")
        if "$ref" in schema:
            # Draft 7: the keywords beside a $ref are ignored.
            return self.ref(schema["$ref"], resolver, known)
        if "$id" in schema and not root:
            raise UnsupportedSchema("$id", "inside a subschema is not supported")
        checks: list[Check] = []
        declared = schema.get("type") if "type" in self.keywords else None
        if declared is not None:
            # The type test runs first, so every later test may rely on it.
            checks.append(self.type_(declared))
            if isinstance(declared, str):
                known = declared
        for keyword, value in schema.items():
            if keyword not in self.keywords or keyword == "type":
                continue
            method = _KEYWORDS.get(keyword)
            if method is None:
                raise UnsupportedSchema(keyword)
            about, test = method(self, value, schema, resolver, known)
            checks.append(self.guarded(about, known, test))
        return _all(checks)

    def guarded(self, about: str | None, known: str | None, test: Check) -> Check:
        if about is None or about == known:
            return test
        is_type = self.is_type
        return lambda v: not is_type(v, about) or test(v)

    def ref(self, ref: str, resolver: Resolver[Any], known: str | None) -> Check:
        resolved = resolver.lookup(ref)
        key = (id(resolved.contents), known)
        if key in self.compiled_refs:
            return self.compiled_refs[key]
        if key in self.refs_in_progress:
            raise UnsupportedSchema("$ref", f"{ref} is recursive, which is not supported")
        self.refs_in_progress.add(key)
        check = self.compile(resolved.contents, resolved.resolver, known)
        self.refs_in_progress.discard(key)
        self.compiled_refs[key] = check
        return check

    def type_(self, value: Any) -> Check:
        is_type = self.is_type
        names = (value,) if isinstance(value, str) else tuple(value)
        if len(names) == 1:
            (name,) = names
            return lambda v: is_type(v, name)
        return lambda v: any(is_type(v, name) for name in names)

    # One method per keyword, each mirroring jsonschema's implementation of it.
    # Subschemas about the same value inherit ``known``; subschemas about a
    # member or a key of it start afresh.

    def properties(
        self, value: Any, _schema: Any, resolver: Resolver[Any], _known: Any
    ) -> _Compiled:
        subs = tuple((name, self.compile(sub, resolver)) for name, sub in value.items())

        def test(v: Any) -> bool:
            # Plain loops here and in _all: all() over a generator is slower.
            for name, sub in subs:  # noqa: SIM110
                if name in v and not sub(v[name]):
                    return False
            return True

        return "object", test

    def additional_properties(
        self, value: Any, schema: Mapping[str, Any], resolver: Resolver[Any], _known: Any
    ) -> _Compiled:
        # patternProperties is not compiled, so the extra keys are the keys
        # that ``properties`` does not name.
        known_keys = frozenset(schema.get("properties", {}))
        if self.is_type(value, "object"):
            sub = self.compile(value, resolver)
            return "object", lambda v: all(
                sub(item) for key, item in v.items() if key not in known_keys
            )
        if value:
            return None, _always
        return "object", lambda v: all(key in known_keys for key in v)

    def property_names(
        self, value: Any, _schema: Any, resolver: Resolver[Any], _known: Any
    ) -> _Compiled:
        sub = self.compile(value, resolver)
        return "object", lambda v: all(sub(key) for key in v)

    def required(self, value: Any, _schema: Any, _resolver: Any, _known: Any) -> _Compiled:
        names = tuple(value)
        if len(names) == 1:  # the common case, without all() over a generator
            (name,) = names
            return "object", lambda v: name in v
        return "object", lambda v: all(name in v for name in names)

    def min_properties(self, value: Any, _schema: Any, _resolver: Any, _known: Any) -> _Compiled:
        return "object", lambda v: len(v) >= value

    def dependencies(
        self, value: Any, _schema: Any, resolver: Resolver[Any], known: str | None
    ) -> _Compiled:
        rules: list[tuple[str, tuple[str, ...], Check]] = []
        for name, dependency in value.items():
            if self.is_type(dependency, "array"):
                rules.append((name, tuple(dependency), _always))
            else:
                rules.append((name, (), self.compile(dependency, resolver, "object")))

        def test(v: Any) -> bool:
            for name, needed, sub in rules:
                if name in v and not (all(other in v for other in needed) and sub(v)):
                    return False
            return True

        return "object", test

    def min_length(self, value: Any, _schema: Any, _resolver: Any, _known: Any) -> _Compiled:
        return "string", lambda v: len(v) >= value

    def minimum(self, value: Any, _schema: Any, _resolver: Any, _known: Any) -> _Compiled:
        return "number", lambda v: not v < value

    def maximum(self, value: Any, _schema: Any, _resolver: Any, _known: Any) -> _Compiled:
        return "number", lambda v: not v > value

    def all_of(
        self, value: Any, _schema: Any, resolver: Resolver[Any], known: str | None
    ) -> _Compiled:
        return None, _all([self.compile(sub, resolver, known) for sub in value])

    def one_of(
        self, value: Any, _schema: Any, resolver: Resolver[Any], known: str | None
    ) -> _Compiled:
        subs = tuple(self.compile(sub, resolver, known) for sub in value)

        def test(v: Any) -> bool:
            matches = 0
            for sub in subs:
                if sub(v):
                    matches += 1
                    if matches > 1:
                        return False
            return matches == 1

        return None, test


_KEYWORDS: dict[
    str, Callable[[_Compiler, Any, Mapping[str, Any], Resolver[Any], str | None], _Compiled]
] = {
    "properties": _Compiler.properties,
    "additionalProperties": _Compiler.additional_properties,
    "propertyNames": _Compiler.property_names,
    "required": _Compiler.required,
    "minProperties": _Compiler.min_properties,
    "dependencies": _Compiler.dependencies,
    "minLength": _Compiler.min_length,
    "minimum": _Compiler.minimum,
    "maximum": _Compiler.maximum,
    "allOf": _Compiler.all_of,
    "oneOf": _Compiler.one_of,
}


def _all(checks: list[Check]) -> Check:
    checks = [check for check in checks if check is not _always]
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    frozen = tuple(checks)

    def check(v: Any) -> bool:
        for sub in frozen:  # noqa: SIM110
            if not sub(v):
                return False
        return True

    return check
