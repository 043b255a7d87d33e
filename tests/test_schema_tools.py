"""The shipped schemas work in the JSON Schema tools people use, offline.

* ajv 8 in strict mode (run for real when ``node`` and an ajv install are
  available, and the rules it checks enforced in Python either way);
* check-jsonschema with ``--schemafile`` and no network;
* editors: every property shows its own text on hover, and ``$schema``
  pointers are paths, never URLs nobody serves;
* ``taskclf policy schema NAME``, ``--list`` and ``--bundled``;
* the SchemaStore catalog entry and its file globs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from wcmatch import glob

from taskclf.core.schema_bundle import bundle_schema, external_refs
from taskclf.core.schemas import (
    POLICY_SCHEMA,
    load_schema,
    schema_names,
    schema_registry,
    validator_for,
)
from test_cli_support import run_cli

from conftest import EXAMPLE_HOME, REPO_ROOT, write_json

SCHEMA_DIR = REPO_ROOT / "schemas"
COMPANIONS = [name for name in schema_names() if name != POLICY_SCHEMA]
AJV_SCRIPT = REPO_ROOT / "tests" / "ajv" / "compile_schemas.mjs"
CATALOG_ENTRY = REPO_ROOT / "schemastore" / "catalog-entry.json"

# Draft-07 keywords, and the annotations of ours that editors read.
_DRAFT7_KEYWORDS = frozenset(
    {
        *("$schema", "$id", "$ref", "$comment", "title", "description", "default"),
        *("readOnly", "writeOnly", "examples", "const", "enum", "type", "format"),
        *("multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"),
        *("maxLength", "minLength", "pattern", "contentMediaType", "contentEncoding"),
        *("items", "additionalItems", "maxItems", "minItems", "uniqueItems", "contains"),
        *("properties", "patternProperties", "additionalProperties", "propertyNames"),
        *("required", "dependencies", "maxProperties", "minProperties", "definitions"),
        *("if", "then", "else", "allOf", "anyOf", "oneOf", "not"),
    }
)
_OUR_ANNOTATIONS = frozenset({"markdownDescription", "errorMessage"})
# The JSON type each type-specific keyword applies to (ajv's strictTypes).
_APPLIES_TO = {
    **dict.fromkeys(["maxLength", "minLength", "pattern", "format"], "string"),
    **dict.fromkeys(
        ["multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"], "number"
    ),
    **dict.fromkeys(
        ["additionalItems", "items", "maxItems", "minItems", "uniqueItems", "contains"], "array"
    ),
    **dict.fromkeys(
        [
            "maxProperties",
            "minProperties",
            "required",
            "additionalProperties",
            "properties",
            "patternProperties",
            "dependencies",
            "propertyNames",
        ],
        "object",
    ),
}
_IN_PLACE = ("allOf", "anyOf", "oneOf")  # applicators that see the same value
_IN_PLACE_ONE = ("not", "if", "then", "else")


def _schema_file(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return document


def _subschemas(
    node: Any, where: str, types: frozenset[str] | None
) -> Iterator[tuple[str, dict[str, Any], frozenset[str] | None]]:
    """Every schema object under ``node`` with its pointer and the types known there.

    The known types are the schema's own ``type``, else those of the schema it
    applies in place of (allOf, if, ...); a ``$ref`` target starts afresh, as
    ajv compiles it on its own.
    """
    if not isinstance(node, dict):
        return
    stated = node.get("type")
    if stated is not None:
        types = frozenset([stated] if isinstance(stated, str) else stated)
    yield where, node, types
    for key in _IN_PLACE:
        for index, sub in enumerate(node.get(key, [])):
            yield from _subschemas(sub, f"{where}/{key}/{index}", types)
    for key in _IN_PLACE_ONE:
        if key in node:
            yield from _subschemas(node[key], f"{where}/{key}", types)
    for key in ("properties", "patternProperties", "definitions"):
        for name, sub in node.get(key, {}).items():
            yield from _subschemas(sub, f"{where}/{key}/{name}", None)
    for key in ("additionalProperties", "items", "additionalItems", "contains"):
        if isinstance(node.get(key), dict):
            yield from _subschemas(node[key], f"{where}/{key}", None)
    if isinstance(node.get("propertyNames"), dict):
        # Property names are strings whatever the schema says.
        yield from _subschemas(
            node["propertyNames"], f"{where}/propertyNames", frozenset({"string"})
        )


def _integer_counts_as_number(types: frozenset[str]) -> frozenset[str]:
    return types | {"number"} if "integer" in types else types


class TestStrictRules:
    """What ajv's strict mode checks, enforced without node so that CI guards it."""

    @pytest.mark.parametrize("name", schema_names())
    def test_only_known_keywords(self, name: str) -> None:
        for where, node, _types in _subschemas(_schema_file(name), "#", None):
            unknown = set(node) - _DRAFT7_KEYWORDS - _OUR_ANNOTATIONS
            assert not unknown, f"{name}{where}: unknown keywords {sorted(unknown)} (strictSchema)"

    @pytest.mark.parametrize("name", schema_names())
    def test_type_stated_for_every_type_specific_keyword(self, name: str) -> None:
        for where, node, types in _subschemas(_schema_file(name), "#", None):
            for keyword in set(node) & set(_APPLIES_TO):
                known = _integer_counts_as_number(types or frozenset())
                assert _APPLIES_TO[keyword] in known, (
                    f'{name}{where}: "{keyword}" needs "type": "{_APPLIES_TO[keyword]}" '
                    "in the same schema, or in the one it applies in place of (strictTypes)"
                )

    @pytest.mark.parametrize("name", schema_names())
    def test_no_union_types_but_nullable(self, name: str) -> None:
        for where, node, _types in _subschemas(_schema_file(name), "#", None):
            stated = node.get("type")
            if isinstance(stated, list):
                assert len(set(stated) - {"null"}) <= 1, f"{name}{where}: union type {stated}"

    @pytest.mark.parametrize("name", schema_names())
    def test_every_required_key_is_a_property_there(self, name: str) -> None:
        for where, node, _types in _subschemas(_schema_file(name), "#", None):
            undefined = set(node.get("required", [])) - set(node.get("properties", {}))
            assert not undefined, f"{name}{where}: required {sorted(undefined)} (strictRequired)"

    def test_the_rules_catch_what_ajv_reported(self) -> None:
        # The two shapes ajv rejected before the schemas were fixed.
        untyped = {"definitions": {"p": {"minLength": 1, "pattern": "^a"}}}
        assert any(
            "minLength" in node and not types for _w, node, types in _subschemas(untyped, "#", None)
        )
        branch = {"type": "object", "properties": {"a": {}}, "oneOf": [{"required": ["a"]}]}
        (_, node, _) = next(s for s in _subschemas(branch, "#", None) if s[0] == "#/oneOf/0")
        assert set(node["required"]) - set(node.get("properties", {})) == {"a"}


def _ajv_prefix() -> Path | None:
    prefix = os.environ.get("TASKCLF_AJV_PREFIX")
    if prefix and (Path(prefix) / "node_modules" / "ajv" / "package.json").is_file():
        return Path(prefix)
    return None


class TestAjv:
    """A real ajv 8 in strict mode compiles every schema with no error and no warning."""

    def test_strict_compile(self) -> None:
        node = shutil.which("node")
        prefix = _ajv_prefix()
        if node is None or prefix is None:
            pytest.skip(
                "needs node and an ajv 8 install: run `npm install ajv@8` in a folder outside "
                "the repository and set TASKCLF_AJV_PREFIX to it (CI has no node)"
            )
        result = subprocess.run(
            [node, str(AJV_SCRIPT), str(prefix), str(SCHEMA_DIR)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("ajv 8."), result.stdout
        assert result.stdout.endswith(f"{len(schema_names())} schemas, 0 problems\n")


class TestSelfContained:
    """Every schema stands alone, so a tool given one file never looks elsewhere."""

    @pytest.mark.parametrize("name", schema_names())
    def test_no_ref_leaves_the_file(self, name: str) -> None:
        assert external_refs(_schema_file(name)) == []

    @pytest.mark.parametrize("name", COMPANIONS)
    def test_definitions_are_copies_of_the_policy_schemas(self, name: str) -> None:
        policy = _schema_file(POLICY_SCHEMA)["definitions"]
        for key, definition in _schema_file(name).get("definitions", {}).items():
            assert definition == policy[key], (
                f"{name}: definitions/{key} differs from {POLICY_SCHEMA}'s, where it is written "
                "first; copy it from there"
            )


def _check_jsonschema() -> Path:
    script = Path(sysconfig.get_path("scripts")) / "check-jsonschema"
    if not script.is_file():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    return script


def _offline_env() -> dict[str, str]:
    # Every request goes to a proxy that is not there: a download attempt fails loudly.
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    dead = "http://127.0.0.1:9"
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, http_proxy=dead, https_proxy=dead)
    return env


def _companion_documents(tmp_path: Path) -> dict[str, Path]:
    active = write_json(
        tmp_path / "active.json",
        {
            "model_dir": "models/run_001",
            "selected_at": "2026-01-31T12:00:00+00:00",
            "policy_version": "v1",
        },
    )
    row = write_json(
        tmp_path / "row.json", {"label": "code", "predicted": "code", "confidence": 0.8}
    )
    record = write_json(
        tmp_path / "000001-none.json",
        {
            "record_version": "v1",
            "sequence": 1,
            "replaced_at": "2026-01-31T12:00:00+00:00",
            "replaced_by": "taskclf policy create",
            "sha256": None,
            "policy_bytes_b64": None,
        },
    )
    return {
        "active_pointer.v1.json": active,
        "calibrator_store.v1.json": EXAMPLE_HOME / "artifacts" / "calibrator_store" / "store.json",
        "calibrator.v1.json": EXAMPLE_HOME
        / "artifacts"
        / "calibrator_store"
        / "users"
        / "bob.json",
        "model_metadata.v1.json": EXAMPLE_HOME / "models" / "run_001" / "metadata.json",
        "model_metrics.v1.json": EXAMPLE_HOME / "models" / "run_001" / "metrics.json",
        "score_row.v1.json": row,
        "policy_history_record.v1.json": record,
        "inference_policy.v1.json": REPO_ROOT / "configs" / "inference_policy.template.json",
    }


class TestCheckJsonschema:
    """`check-jsonschema --schemafile` works on every schema with no network and no --base-uri."""

    def test_metaschema(self) -> None:
        files = [str(SCHEMA_DIR / name) for name in schema_names()]
        result = subprocess.run(
            [_check_jsonschema(), "--check-metaschema", *files],
            capture_output=True,
            text=True,
            env=_offline_env(),
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    @pytest.mark.parametrize("name", schema_names())
    def test_schemafile_offline(self, name: str, tmp_path: Path) -> None:
        document = _companion_documents(tmp_path)[name]
        result = subprocess.run(
            [_check_jsonschema(), "--no-cache", "--schemafile", SCHEMA_DIR / name, document],
            capture_output=True,
            text=True,
            env=_offline_env(),
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr

    def test_schemafile_offline_reports_a_bad_value(self, tmp_path: Path) -> None:
        bad = write_json(tmp_path / "metrics.json", {"macro_f1": 1.5, "weighted_f1": 0.5})
        result = subprocess.run(
            [
                _check_jsonschema(),
                "--no-cache",
                "--schemafile",
                SCHEMA_DIR / "model_metrics.v1.json",
                str(bad),
            ],
            capture_output=True,
            text=True,
            env=_offline_env(),
            timeout=120,
        )
        assert result.returncode == 1
        assert "macro_f1" in result.stdout and "Traceback" not in result.stdout + result.stderr


def _definition_of(root: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return node


class TestEditors:
    """What VS Code (vscode-json-languageservice) shows and which schema it uses."""

    @pytest.mark.parametrize("name", schema_names())
    def test_shared_definitions_carry_no_text_to_show(self, name: str) -> None:
        # The language service shows the first title/description it meets, and it meets a
        # $ref's target (through allOf, if/then) before the property itself. So a shared
        # definition has none, and every property shows its own.
        schema = _schema_file(name)
        for where, node, _types in _subschemas(schema, "#", None):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target = _definition_of(schema, ref)
                shown = {"title", "description", "markdownDescription"} & set(target)
                assert not shown, f"{name}{where}: {ref} has {sorted(shown)}; use $comment"
            if "$ref" in node:
                # Draft-07 ignores a $ref's siblings; put the $ref in allOf beside them.
                assert set(node) == {"$ref"}, f"{name}{where}: siblings of $ref"

    def test_no_file_points_at_a_schema_url(self) -> None:
        # An editor prefers "$schema" to its own settings; a URL nobody serves then fails to
        # load and validation silently stops. Documents point at the file by relative path.
        found = []
        for folder in ("tests/cases", "examples", "configs"):
            for path in (REPO_ROOT / folder).rglob("*.json"):
                text = path.read_text(encoding="utf-8", errors="replace")
                if '"$schema": "http' in text:
                    found.append(path.relative_to(REPO_ROOT).as_posix())
        assert not found
        readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
        assert '"$schema": "http' not in readme

    def test_the_case_with_a_pointer_points_at_the_schema_file(self) -> None:
        case = REPO_ROOT / "tests" / "cases" / "valid" / "notes_and_schema_pointer"
        pointer = json.loads((case / "inference_policy.json").read_text(encoding="utf-8"))
        assert (case / pointer["$schema"]).resolve() == (SCHEMA_DIR / POLICY_SCHEMA).resolve()


def _case_documents() -> Iterator[tuple[str, Any]]:
    for path in sorted((REPO_ROOT / "tests" / "cases").glob("*/*/inference_policy.json")):
        try:
            document = json.loads(path.read_bytes().decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            continue  # not JSON at all: nothing for a schema to say
        yield f"{path.parent.parent.name}/{path.parent.name}", document


class TestSchemaCommand:
    """`taskclf policy schema [NAME] [--list] [--bundled]`."""

    def test_list(self, tmp_path: Path) -> None:
        result = run_cli("policy", "schema", "--list", cwd=tmp_path)
        assert result.code == 0
        assert result.stdout.split() == [name.removesuffix(".json") for name in schema_names()]

    @pytest.mark.parametrize("name", schema_names())
    def test_prints_each_schema_byte_for_byte(self, name: str, tmp_path: Path) -> None:
        for given in (name, name.removesuffix(".json")):
            result = run_cli("policy", "schema", given, cwd=tmp_path)
            assert (result.code, result.stderr) == (0, "")
            assert result.stdout == (SCHEMA_DIR / name).read_text(encoding="utf-8")

    def test_unknown_name_is_a_usage_error_with_the_list(self, tmp_path: Path) -> None:
        result = run_cli("policy", "schema", "policy", cwd=tmp_path)
        assert result.code == 2
        assert result.stdout == ""
        names = ", ".join(name.removesuffix(".json") for name in schema_names())
        assert (
            result.stderr == f"taskclf: error: no schema named 'policy'; choose one of: {names}\n"
        )

    @pytest.mark.parametrize("name", schema_names())
    def test_bundled_is_a_self_contained_draft_07_schema(self, name: str, tmp_path: Path) -> None:
        out = tmp_path / "bundled.json"
        result = run_cli("policy", "schema", name, "--bundled", "--output", out, cwd=tmp_path)
        assert result.code == 0, result.stderr
        bundled = json.loads(out.read_text(encoding="utf-8"))
        Draft7Validator.check_schema(bundled)
        assert external_refs(bundled) == []
        assert bundled == _schema_file(name)  # every shipped schema already stands alone

    def test_bundled_policy_schema_judges_every_case_alike(self) -> None:
        # taskclf's own validator class (draft-07, JSON numbers only), with and without
        # the registry: the bundled form needs nothing to be looked up.
        validator_class = type(validator_for(POLICY_SCHEMA))
        original = validator_class(load_schema(POLICY_SCHEMA), registry=schema_registry())
        alone = validator_class(bundle_schema(POLICY_SCHEMA))
        judged = {case: alone.is_valid(doc) for case, doc in _case_documents()}
        assert judged == {case: original.is_valid(doc) for case, doc in _case_documents()}
        assert all(valid for case, valid in judged.items() if case.startswith("valid/"))
        assert sum(not valid for valid in judged.values()) >= 20


class TestBundling:
    """bundle_schema inlines a $ref to another file, and what it makes validates the same."""

    def _documents(self) -> dict[str, dict[str, Any]]:
        companion = {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": "https://taskclf.dev/schemas/companion.v1.json",
            "type": "object",
            "properties": {
                "when": {"allOf": [{"$ref": "inference_policy.v1.json#/definitions/date_time"}]},
                "where": {"allOf": [{"$ref": "inference_policy.v1.json#/properties/model_dir"}]},
                "score": {"allOf": [{"$ref": "inference_policy.v1.json#/definitions/probability"}]},
                "again": {"allOf": [{"$ref": "#/properties/score"}]},
            },
        }
        return {POLICY_SCHEMA: dict(load_schema(POLICY_SCHEMA)), "companion.v1.json": companion}

    def test_external_refs_are_inlined(self) -> None:
        documents = self._documents()
        bundled = bundle_schema("companion.v1.json", documents)
        Draft7Validator.check_schema(bundled)
        assert external_refs(bundled) == []
        assert set(bundled["definitions"]) == {
            "date_time",
            "model_dir",
            "probability",
            "relative_path",
        }
        # The policy's model_dir refers to its own relative_path: that is inlined too.
        assert bundled["definitions"]["model_dir"]["allOf"] == [
            {"$ref": "#/definitions/relative_path"}
        ]
        assert (
            bundled["properties"]["again"] == documents["companion.v1.json"]["properties"]["again"]
        )

    @pytest.mark.parametrize(
        "document",
        [
            {"when": "2026-01-31T12:00:00Z", "where": "models/a", "score": 0.5},
            {"when": "yesterday"},
            {"where": "/abs"},
            {"where": "models\\a"},
            {"score": 1.5},
            {"again": -1},
            {"again": 0},
        ],
    )
    def test_bundled_validates_the_same(self, document: dict[str, Any]) -> None:
        from referencing import Registry, Resource

        documents = self._documents()
        registry: Registry = Registry().with_resources(
            (doc["$id"], Resource.from_contents(doc)) for doc in documents.values()
        )
        original = Draft7Validator(documents["companion.v1.json"], registry=registry)
        alone = Draft7Validator(bundle_schema("companion.v1.json", documents))
        assert sorted(e.message for e in alone.iter_errors(document)) == sorted(
            e.message for e in original.iter_errors(document)
        )

    def test_unknown_target_is_an_error(self) -> None:
        from taskclf.core.schemas import SchemaResourceError

        documents = self._documents()
        documents["companion.v1.json"]["properties"]["x"] = {"$ref": "other.json#/a"}
        with pytest.raises(SchemaResourceError, match="names no schema shipped"):
            bundle_schema("companion.v1.json", documents)
        documents["companion.v1.json"]["properties"]["x"] = {
            "$ref": "inference_policy.v1.json#/definitions/nothing"
        }
        with pytest.raises(SchemaResourceError, match="no 'nothing'"):
            bundle_schema("companion.v1.json", documents)


def _repository_files() -> list[str]:
    skip = {".git", ".venv", "build", "dist", "__pycache__", ".hypothesis", "node_modules"}
    names = []
    for path in REPO_ROOT.rglob("*"):
        relative = path.relative_to(REPO_ROOT)
        if (
            path.is_file()
            and not (set(relative.parts) & skip)
            and not relative.parts[0].endswith(("_cache", ".egg-info"))
        ):
            names.append(relative.as_posix())
    return names


def _matches(pattern: str, path: str) -> bool:
    # minimatch semantics for these patterns: ** spans any number of folders (none included),
    # * stays inside one, and a leading dot is not matched by a wildcard.
    return bool(glob.globmatch(path, pattern, flags=glob.GLOBSTAR))


class TestSchemaStoreEntry:
    """schemastore/catalog-entry.json is ready to be added to SchemaStore's catalog."""

    def _entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = json.loads(CATALOG_ENTRY.read_text(encoding="utf-8"))
        return entry

    def test_fields(self) -> None:
        entry = self._entry()
        assert set(entry) == {"name", "description", "fileMatch", "url"}
        assert entry["url"].endswith("/schemas/" + POLICY_SCHEMA)
        assert entry["url"].startswith("https://raw.githubusercontent.com/taskclf/taskclf-policy/")
        assert all(p.startswith("**/") for p in entry["fileMatch"])

    def test_globs_match_the_policy_files_of_the_repository_and_only_them(self) -> None:
        patterns = self._entry()["fileMatch"]
        matched = {f for f in _repository_files() if any(_matches(p, f) for p in patterns)}
        matched.discard("examples/home/models/inference_policy.json")  # the README walk-through's
        assert matched == {"configs/inference_policy.template.json"}

    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("models/inference_policy.json", True),
            ("srv/taskclf/models/inference_policy.json", True),
            ("home/user/work/configs/inference_policy.template.json", True),
            ("models/inference_policy.json.bak", False),
            ("models/run_001/inference_policy.json", False),
            ("models/old_inference_policy.json", False),
            ("models/run_001/metadata.json", False),
            ("inference_policy.json", False),
        ],
    )
    def test_globs_on_other_paths(self, path: str, expected: bool) -> None:
        patterns = self._entry()["fileMatch"]
        assert any(_matches(p, path) for p in patterns) is expected

    def test_the_editor_settings_match_the_same_policy_files(self) -> None:
        settings = json.loads((REPO_ROOT / ".vscode" / "settings.json").read_text(encoding="utf-8"))
        (policy,) = [s for s in settings["json.schemas"] if s["url"].endswith(POLICY_SCHEMA)]
        assert sorted(policy["fileMatch"]) == sorted(self._entry()["fileMatch"])
