"""Tests of :mod:`taskclf.core.validators`, the validators generated from the shipped schemas.

They must be up to date with the schemas, import no validation library, and
answer "valid?" exactly as jsonschema (with taskclf's type checker) does: the
property tests compare the two on documents built from each schema's own
valid examples and mutated near every rule.
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import json
import math
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskclf.core.inference_policy import InferencePolicy, PolicySchemaError
from taskclf.core.schemas import (
    POLICY_SCHEMA,
    _validator,
    load_schema,
    schema_names,
    validate_document,
    validator_for,
)
from taskclf.core.validators import fast_validator, module_name

from conftest import EXAMPLE_HOME, REPO_ROOT

VALIDATORS_DIR = REPO_ROOT / "src" / "taskclf" / "core" / "validators"
SCORE_ROW_SCHEMA = "score_row.v1.json"


def _generator() -> ModuleType:
    path = REPO_ROOT / "tools" / "generate_validators.py"
    spec = importlib.util.spec_from_file_location("generate_validators", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_validators", module)
    spec.loader.exec_module(module)
    return module


def _fast(name: str) -> Callable[[Any], bool]:
    check = fast_validator(name)
    assert check is not None, name
    return check


class TestGeneratedModules:
    """Every shipped schema has a generated module, identical to what the generator writes now."""

    def test_one_module_per_schema(self) -> None:
        generated = sorted(p.name for p in VALIDATORS_DIR.glob("*.py") if p.name != "__init__.py")
        assert generated == sorted(f"{module_name(name)}.py" for name in schema_names())

    def test_up_to_date(self) -> None:
        # If this fails, run: .venv/bin/python tools/generate_validators.py
        for file_name, text in _generator().outputs().items():
            checked_in = (VALIDATORS_DIR / file_name).read_text(encoding="utf-8")
            assert checked_in == text, f"{file_name} is stale; regenerate it"

    def test_check_option_reports_no_drift(self) -> None:
        assert _generator().main(["--check"]) == 0

    def test_the_generator_reads_our_files_only(self, tmp_path: Path) -> None:
        generator = _generator()
        schema = {"$id": "https://taskclf.dev/schemas/x.json", "$ref": "https://example.com/s"}
        (tmp_path / "x.json").write_text(json.dumps(schema), encoding="utf-8")
        with pytest.raises(generator.UnsupportedSchema, match="not one of our schemas"):
            generator.outputs(tmp_path)

    @pytest.mark.parametrize(
        ("schema", "message"),
        [
            ({"multipleOf": 2}, "keyword 'multipleOf'"),
            ({"type": "array", "items": {"type": "object"}, "uniqueItems": True}, "uniqueItems"),
            ({"enum": [1]}, "const/enum value 1"),
            ({"uniqueItems": True}, "uniqueItems without items of type string"),
            ({"items": [{}]}, "items as an array"),
            ({"properties": {"a": {"$ref": "#"}}}, "recursive"),
            ({"properties": {"a": {"$id": "urn:x"}}}, r"\$id inside a subschema"),
        ],
    )
    def test_unknown_keywords_stop_the_generator(
        self, tmp_path: Path, schema: dict[str, Any], message: str
    ) -> None:
        generator = _generator()
        document = {"$id": "https://taskclf.dev/schemas/x.json", **schema}
        (tmp_path / "x.json").write_text(json.dumps(document), encoding="utf-8")
        with pytest.raises(generator.UnsupportedSchema, match=message):
            generator.outputs(tmp_path)

    @pytest.mark.parametrize("name", schema_names())
    def test_imports_no_validation_library(self, name: str) -> None:
        path = VALIDATORS_DIR / f"{module_name(name)}.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
        assert imported <= {"__future__", "re", "math", "typing"}

    def test_unknown_schema_has_no_fast_validator(self) -> None:
        assert fast_validator("no_such_schema.v1.json") is None
        assert fast_validator(POLICY_SCHEMA, "/properties/no_such_field") is None
        assert fast_validator("../escape.json") is None


def _run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    return result.stdout.strip()


class TestNoJsonschemaForValidDocuments:
    """Validating a valid document never imports jsonschema; an invalid one does, for its errors."""

    def test_valid_documents(self) -> None:
        code = f"""
import json, sys
from pathlib import Path
from taskclf.core.schemas import validate_document, validate_value
from taskclf.core.inference_policy import InferencePolicy, load_inference_policy
home = Path({str(EXAMPLE_HOME)!r})
metadata = json.loads((home / "models/run_001/metadata.json").read_text())
assert validate_document("model_metadata.v1.json", metadata) == ()
row = {{"label": "a", "predicted": "a", "confidence": 0.5}}
assert validate_document("score_row.v1.json", row) == ()
assert validate_value("inference_policy.v1.json", "/properties/reject_threshold", 0.5) == ()
policy = InferencePolicy(model_dir="models/run_001", model_schema_hash="h",
                         model_label_set=("a", "b"), reject_threshold=0.5)
assert load_inference_policy(Path("tests/cases/valid/per_user_thresholds")) is not None
print(sorted(m for m in sys.modules if m.split(".")[0] in ("jsonschema", "referencing")))
"""
        assert _run_python(code) == "[]"

    def test_invalid_document(self) -> None:
        code = """
import sys
from taskclf.core.schemas import validate_document
(issue,) = validate_document("score_row.v1.json", {"label": "a", "predicted": "a", "confidence": 2})
print(issue, "jsonschema" in sys.modules)
"""
        assert _run_python(code) == (
            "/confidence: 2 is greater than the maximum of 1 "
            "(expected a probability between 0 and 1) True"
        )


class TestNonFiniteNumbers:
    """NaN and the infinities are not numbers, for the fast validators as for jsonschema."""

    @pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
    def test_policy_facade_refuses_them(self, value: float) -> None:
        with pytest.raises(PolicySchemaError, match="reject_threshold"):
            InferencePolicy(
                model_dir="models/run_001",
                model_schema_hash="h",
                model_label_set=("a",),
                reject_threshold=value,
            )
        with pytest.raises(PolicySchemaError, match="per_user_reject_thresholds/alice"):
            InferencePolicy(
                model_dir="models/run_001",
                model_schema_hash="h",
                model_label_set=("a",),
                reject_threshold=0.5,
                per_user_reject_thresholds={"alice": value},
            )

    @pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
    def test_fast_validators_refuse_them(self, value: float) -> None:
        row = {"label": "a", "predicted": "a", "confidence": value}
        assert _fast(SCORE_ROW_SCHEMA)(row) is False
        assert _fast(SCORE_ROW_SCHEMA)({"label": "a", "probabilities": {"a": value}}) is False
        metrics = {"macro_f1": value, "weighted_f1": 0.5}
        assert _fast("model_metrics.v1.json")(metrics) is False
        (issue,) = validate_document(SCORE_ROW_SCHEMA, row)
        assert issue.pointer == "/confidence"
        assert "is not of type number" in issue.message

    def test_booleans_are_not_numbers(self) -> None:
        row = {"label": "a", "predicted": "a", "confidence": True}
        assert _fast(SCORE_ROW_SCHEMA)(row) is False
        assert validator_for(SCORE_ROW_SCHEMA).is_valid(row) is False


class _Float(float):
    pass


class _Str(str):
    pass


PYTHON_VALUES = [
    ("a", "b"),
    MappingProxyType({"alice": 0.5}),
    _Float(0.5),
    _Float("nan"),
    _Str("models/run_001"),
    Decimal("0.5"),
    b"models/run_001",
    {1: 0.5},
    {("a",): 0.5},
    frozenset({"a"}),
    object(),
]


class TestPythonValues:
    """Values only a Python caller can pass get jsonschema's answer too, or jsonschema decides."""

    @pytest.mark.parametrize("value", PYTHON_VALUES, ids=repr)
    @pytest.mark.parametrize(
        "key", ["model_label_set", "per_user_reject_thresholds", "reject_threshold", "model_dir"]
    )
    def test_policy(self, key: str, value: Any) -> None:
        document = {**SEEDS[POLICY_SCHEMA][0], key: value}
        expected = validator_for(POLICY_SCHEMA).is_valid(document)
        assert (validate_document(POLICY_SCHEMA, document) == ()) is expected
        # The generated test may only be stricter (then jsonschema decides), never laxer.
        try:
            fast = _fast(POLICY_SCHEMA)(document)
        except Exception:
            fast = False
        assert fast is expected or (fast is False and expected is True)


# --- the differential property test -------------------------------------------------------


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8-sig"))


def _seeds() -> dict[str, list[Any]]:
    """Valid documents of every shipped schema, from the repository's own files."""
    seeds: dict[str, list[Any]] = {
        POLICY_SCHEMA: [
            _read(path) for path in sorted((REPO_ROOT / "tests/cases/valid").glob("*/*.json"))
        ],
        SCORE_ROW_SCHEMA: list(load_schema(SCORE_ROW_SCHEMA)["examples"]),
        "model_metadata.v1.json": [
            _read(p) for p in sorted((EXAMPLE_HOME / "models").glob("*/metadata.json"))
        ],
        "model_metrics.v1.json": [
            _read(p) for p in sorted((EXAMPLE_HOME / "models").glob("*/metrics.json"))
        ],
        "calibrator_store.v1.json": [
            _read(EXAMPLE_HOME / "artifacts/calibrator_store/store.json"),
            {},
        ],
        "calibrator.v1.json": [
            _read(path)
            for path in sorted((EXAMPLE_HOME / "artifacts/calibrator_store").rglob("*.json"))
            if path.name != "store.json"
        ]
        + [{}],
        "policy_history_record.v1.json": [
            {
                "record_version": "v1",
                "sequence": 3,
                "replaced_at": "2026-12-01T10:00:00+00:00",
                "replaced_by": "taskclf policy set",
                "sha256": "0" * 64,
                "policy_bytes_b64": "e30K",
            },
            {
                "record_version": "v1",
                "sequence": 1,
                "replaced_at": "2026-12-01T09:00:00Z",
                "replaced_by": "save_inference_policy",
                "sha256": None,
                "policy_bytes_b64": None,
            },
        ],
        "active_pointer.v1.json": [
            {
                "model_dir": "models/run_001",
                "selected_at": "2026-01-31T12:00:00+00:00",
                "policy_version": "v1",
                "model_id": "run_001",
                "reason": "best macro_f1",
            }
        ],
    }
    for name, documents in seeds.items():
        for document in documents:
            assert validator_for(name).is_valid(document), (name, document)
    return seeds


SEEDS = _seeds()


def _examples(name: str) -> list[Any]:
    properties = load_schema(name).get("properties", {})
    return [example for spec in properties.values() for example in spec.get("examples", [])]


def _parts(name: str) -> list[str]:
    schema = load_schema(name)
    return [
        f"/{section}/{key}"
        for section in ("properties", "definitions")
        for key in schema.get(section, {})
    ]


def _keys(name: str) -> list[str]:
    return [*load_schema(name).get("properties", {}), "_note", "$schema", "extra", ""]


EDGE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2,
    0.5,
    -0.0,
    1.5,
    -1e-300,
    1 + 2**-52,
    5e-324,
    math.nan,
    math.inf,
    -math.inf,
    "",
    "v1",
    "v2",
    "a",
    "temperature",
    "isotonic",
    "none",
    "models/run_001",
    "/models/run_001",
    "../models",
    "models/../..",
    "models\\run_001",
    "C:models",
    "models/run\x00",
    "models/\nrun",
    "2026-01-31T12:00:00+00:00",
    "2026-01-31T12:00:00Z\n",
    "2026-01-31T12:00:00",
    "2026-13-01T00:00:00Z",
    "2026-01-31t23:59:60.5z",
    [],
    [""],
    ["a"],
    ["a", "a"],
    ["a", "b"],
    ["a", 1],
    [None],
    {},
    {"alice": 0.6},
    {"": 0.5},
    {"a": 2},
    {"a": "x"},
    {"a": math.nan},
    {"a": True},
]

DELETE = object()

scalars = st.one_of(
    st.sampled_from(EDGE_VALUES),
    st.floats(),
    st.integers(-3, 3),
    st.text(max_size=4),
)
anything = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["", "a", "label", "x", "_n"]), inner, max_size=3)
    ),
    max_leaves=6,
)


def _containers(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if isinstance(document, dict):
        found.append(path)
        for key, value in document.items():
            found += _containers(value, (*path, key))
    elif isinstance(document, list):
        found.append(path)
        for index, value in enumerate(document):
            found += _containers(value, (*path, index))
    return found


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


@st.composite
def mutated(draw: st.DrawFn, name: str) -> Any:
    """A valid document of ``name`` with up to three changes anywhere in it."""
    document = json.loads(json.dumps(draw(st.sampled_from(SEEDS[name]))))
    values = st.one_of(scalars, st.sampled_from(_examples(name) or [None]), anything)
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_containers(document)))
        target = _at(document, path)
        # A copy: later changes may go inside it, and must not change EDGE_VALUES.
        value = draw(st.one_of(st.just(DELETE), values))
        value = value if value is DELETE else copy.deepcopy(value)
        if isinstance(target, dict):
            keys = sorted({*target, *_keys(name), "alice"})
            key = draw(st.sampled_from(keys))
            if value is DELETE:
                target.pop(key, None)
            else:
                target[key] = value
        elif value is DELETE:
            if target:
                target.pop(draw(st.integers(0, len(target) - 1)))
        elif target and draw(st.booleans()):
            target[draw(st.integers(0, len(target) - 1))] = value
        else:
            target.append(value)
    return document


@pytest.mark.parametrize("name", schema_names())
class TestGeneratedAgreesWithJsonschema:
    """For every shipped schema, the generated validator answers as jsonschema does."""

    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_on_mutated_valid_documents(self, name: str, data: st.DataObject) -> None:
        document = data.draw(mutated(name))
        expected = validator_for(name).is_valid(document)
        assert _fast(name)(document) is expected, document

    @settings(max_examples=100, deadline=None)
    @given(document=anything)
    def test_on_anything(self, name: str, document: Any) -> None:
        assert _fast(name)(document) is validator_for(name).is_valid(document)

    def test_every_named_part(self, name: str) -> None:
        # The tests of /properties/<name> and /definitions/<name> (validate_value).
        for pointer in _parts(name):
            fast = fast_validator(name, pointer)
            assert fast is not None, pointer
            reference = _validator(name, pointer)
            for value in [*EDGE_VALUES, *_examples(name)]:
                assert fast(value) is reference.is_valid(value), (pointer, value)

    @settings(max_examples=60, deadline=None)
    @given(value=anything)
    def test_every_named_part_on_anything(self, name: str, value: Any) -> None:
        for pointer in _parts(name):
            fast = fast_validator(name, pointer)
            assert fast is not None
            assert fast(value) is _validator(name, pointer).is_valid(value), pointer

    def test_seeds_are_valid_and_mutations_mostly_invalid(self, name: str) -> None:
        # The seeds are valid for both; the edge values break most documents
        # (checked above), so both answers come up in the property tests.
        for document in SEEDS[name]:
            assert _fast(name)(document) is True

    def test_every_edge_value_at_every_place(self, name: str) -> None:
        # Systematic single changes: every value of EDGE_VALUES (and every
        # example of the schema) put at every key of every seed, each key
        # deleted, and each key of the schema or a note added.
        validator = validator_for(name)
        fast = _fast(name)
        pool = [*EDGE_VALUES, *_examples(name)]
        checked = 0
        for seed in SEEDS[name]:
            for path in _containers(seed):
                target = _at(seed, path)
                places = list(target) if isinstance(target, dict) else range(len(target))
                if isinstance(target, dict):
                    places = sorted({*places, *_keys(name)}) if path == () else [*places, "x"]
                for place in places:
                    for value in [DELETE, *pool]:
                        document = json.loads(json.dumps(seed))
                        inner = _at(document, path)
                        if value is DELETE:
                            if isinstance(inner, dict):
                                inner.pop(place, None)
                            else:
                                inner.pop(place)
                        else:
                            inner[place] = copy.deepcopy(value)
                        assert fast(document) is validator.is_valid(document), document
                        checked += 1
        assert checked > 100
