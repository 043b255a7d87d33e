"""The calibrator files of a store: their schema, their typed documents and their disk checks.

A store folder holds ``store.json``, ``global.json`` and ``users/<user_id>.json``
(one per id of ``user_ids``), as the original taskclf writes it; every file here
is real, in a copy of the example home.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taskclf.core.artifacts import ArtifactError, Calibrator, CalibratorStore, RegressorError
from taskclf.core.home import Home
from taskclf.core.inference_policy import InferencePolicy, check_policy_artifacts
from taskclf.core.policy_checks import inspect_policy_artifacts
from taskclf.core.schemas import CALIBRATOR_SCHEMA, CALIBRATOR_STORE_SCHEMA, validate_document

from conftest import EXAMPLE_LABELS, EXAMPLE_STORE_DIR, make_store, write_json


def _regressor(**changes: Any) -> dict[str, Any]:
    regressor = {
        "X_thresholds_": [0.0, 0.5, 1.0],
        "y_thresholds_": [0.1, 0.4, 0.9],
        "X_min_": 0.0,
        "X_max_": 1.0,
        "increasing_": True,
        "out_of_bounds": "clip",
    }
    return {**regressor, **changes}


def _isotonic(count: int = len(EXAMPLE_LABELS), **changes: Any) -> dict[str, Any]:
    return {"type": "isotonic", "regressors": [_regressor(**changes) for _ in range(count)]}


def _keywords(schema: str, document: Any) -> list[tuple[str, str]]:
    return [(issue.pointer, issue.keyword) for issue in validate_document(schema, document)]


class TestCalibratorSchema:
    """calibrator.v1.json accepts what the original writes and refuses the rest."""

    @pytest.mark.parametrize(
        "document",
        [
            {},
            {"type": "identity"},
            {"type": "temperature", "temperature": 1.37},
            {"type": "temperature", "temperature": 2},
            _isotonic(),
            {
                "type": "isotonic",
                "regressors": [_regressor(X_thresholds_=[0.3], y_thresholds_=[1])],
            },
        ],
    )
    def test_accepted(self, document: dict[str, Any]) -> None:
        assert validate_document(CALIBRATOR_SCHEMA, document) == ()

    @pytest.mark.parametrize(
        ("document", "expected"),
        [
            ({"type": "platt"}, ("/type", "enum")),
            ({"type": "temperature"}, ("/temperature", "required")),
            ({"type": "temperature", "temperature": 0}, ("/temperature", "exclusiveMinimum")),
            ({"type": "temperature", "temperature": -1.5}, ("/temperature", "exclusiveMinimum")),
            ({"temperature": 1.2}, ("", "dependencies")),
            ({"tpye": "temperature"}, ("/tpye", "additionalProperties")),
            ({"type": "isotonic"}, ("/regressors", "required")),
            ({"type": "isotonic", "regressors": []}, ("/regressors", "minItems")),
            (_isotonic(out_of_bounds="wrap"), ("/regressors/0/out_of_bounds", "enum")),
            (_isotonic(X_thresholds_=[]), ("/regressors/0/X_thresholds_", "minItems")),
            (_isotonic(y_thresholds_=[0.1, 1.5, 2]), ("/regressors/0/y_thresholds_/1", "maximum")),
            (_isotonic(increasing_="yes"), ("/regressors/0/increasing_", "type")),
        ],
    )
    def test_rejected(self, document: dict[str, Any], expected: tuple[str, str]) -> None:
        assert expected in _keywords(CALIBRATOR_SCHEMA, document)


class TestStoreSchema:
    """store.json gains the original's user_count and user_ids, and still allows other keys."""

    def test_accepted(self) -> None:
        document = {"method": "temperature", "user_count": 2, "user_ids": ["a", "b"], "x": 1}
        assert validate_document(CALIBRATOR_STORE_SCHEMA, document) == ()

    @pytest.mark.parametrize(
        ("document", "expected"),
        [
            ({"user_count": -1}, ("/user_count", "minimum")),
            ({"user_count": 1.5}, ("/user_count", "type")),
            ({"user_ids": ["a", "a"]}, ("/user_ids", "uniqueItems")),
            ({"user_ids": [""]}, ("/user_ids/0", "minLength")),
            ({"user_ids": "alice"}, ("/user_ids", "type")),
        ],
    )
    def test_rejected(self, document: dict[str, Any], expected: tuple[str, str]) -> None:
        assert expected in _keywords(CALIBRATOR_STORE_SCHEMA, document)

    def test_typed_document(self, home: Path) -> None:
        store = CalibratorStore.read(Home.at(home), EXAMPLE_STORE_DIR)
        assert (store.user_count, store.user_ids) == (2, ("alice", "bob"))


class TestCalibratorDocument:
    """Calibrator reads a file into frozen, typed values, and checks what the schema cannot."""

    def test_example_files(self, home: Path) -> None:
        door = Home.at(home)
        global_calibrator = Calibrator.read(door, EXAMPLE_STORE_DIR)
        assert (global_calibrator.kind, global_calibrator.temperature) == ("temperature", 1.37)
        assert global_calibrator.file == f"{EXAMPLE_STORE_DIR}/global.json"
        bob = Calibrator.read_user(door, EXAMPLE_STORE_DIR, "bob")
        assert bob.kind == "isotonic" and len(bob.regressors) == 4
        first = bob.regressors[0]
        assert first.x_thresholds == (0.0, 0.2, 0.5, 0.8, 1.0)
        assert (first.x_min, first.x_max, first.increasing, first.out_of_bounds) == (
            0.0,
            1.0,
            True,
            "clip",
        )
        assert bob.regressor_count_matches(EXAMPLE_LABELS)
        assert not bob.regressor_count_matches(EXAMPLE_LABELS[:3])

    def test_without_type_is_identity(self) -> None:
        calibrator = Calibrator.from_bytes(b"{}", file="global.json")
        assert (calibrator.kind, calibrator.temperature, calibrator.regressors) == (
            "identity",
            None,
            (),
        )
        assert calibrator.regressor_count_matches(["a"])

    def test_frozen(self) -> None:
        calibrator = Calibrator.from_bytes(json.dumps(_isotonic(1)).encode(), file="g.json")
        assert isinstance(calibrator.regressors, tuple)
        assert isinstance(calibrator.regressors[0].y_thresholds, tuple)
        with pytest.raises(AttributeError):
            calibrator.kind = "identity"  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("changes", "pointer", "words"),
        [
            ({"y_thresholds_": [0.1, 0.9]}, "/regressors/0/y_thresholds_", "has 2 values but"),
            ({"y_thresholds_": [0.1]}, "/regressors/0/y_thresholds_", "has 1 value but"),
            (
                {"X_thresholds_": [0.0, 0.5, 0.5], "X_max_": 0.5},
                "/regressors/0/X_thresholds_",
                "not strictly increasing",
            ),
            ({"y_thresholds_": [0.1, 0.9, 0.4]}, "/regressors/0/y_thresholds_", "non-decreasing"),
            ({"increasing_": False}, "/regressors/0/y_thresholds_", "non-increasing"),
            ({"X_min_": -0.5}, "/regressors/0/X_min_", "not the first of X_thresholds_"),
            ({"X_max_": 2.0}, "/regressors/0/X_max_", "not the last of X_thresholds_"),
        ],
    )
    def test_regressor_shape_checked(
        self, changes: dict[str, Any], pointer: str, words: str
    ) -> None:
        data = json.dumps(_isotonic(1, **changes)).encode()
        with pytest.raises(RegressorError) as caught:
            Calibrator.from_bytes(data, file="users/bob.json")
        assert [issue.pointer for issue in caught.value.issues] == [pointer]
        assert caught.value.message.startswith(f"users/bob.json is invalid: {pointer}: ")
        assert words in caught.value.message

    def test_decreasing_regressor_accepted(self) -> None:
        document = _isotonic(1, y_thresholds_=[0.9, 0.4, 0.4], increasing_=False)
        calibrator = Calibrator.from_bytes(json.dumps(document).encode(), file="g.json")
        assert calibrator.regressors[0].increasing is False

    @pytest.mark.parametrize("user_id", ["a/b", ".", "..", "nul\x00"])
    def test_user_id_that_names_no_file(self, home: Path, user_id: str) -> None:
        with pytest.raises(ArtifactError, match="may not hold") as caught:
            Calibrator.read_user(Home.at(home), EXAMPLE_STORE_DIR, user_id)
        assert caught.value.path_kind == "bad_user_id"


def _failures(home: Path, policy_document: dict[str, Any]) -> list[tuple[str, str, str]]:
    policy = InferencePolicy.from_dict(policy_document)
    return [
        (failure.check, failure.pointer, failure.message)
        for failure in check_policy_artifacts(policy, home / "models")
    ]


class TestDiskChecks:
    """A policy's store must hold a valid global.json and every listed user's calibrator."""

    def test_example_home_passes_and_reads_every_calibrator(
        self, home: Path, policy_document: dict[str, Any]
    ) -> None:
        found = inspect_policy_artifacts(InferencePolicy.from_dict(policy_document), Home.at(home))
        assert found.ok
        assert found.global_calibrator is not None
        assert found.global_calibrator.temperature == 1.37
        assert sorted(found.user_calibrators) == ["alice", "bob"]
        assert found.user_calibrators["bob"].kind == "isotonic"

    def test_missing_global(self, home: Path, policy_document: dict[str, Any]) -> None:
        (home / EXAMPLE_STORE_DIR / "global.json").unlink()
        ((check, pointer, message),) = _failures(home, policy_document)
        assert (check, pointer) == ("calibrator_global", "/calibrator_store_dir")
        assert message.startswith(
            "Global calibrator not found: artifacts/calibrator_store/global.json does not exist"
        )
        assert "refit the calibrator store" in message

    def test_invalid_global(self, home: Path, policy_document: dict[str, Any]) -> None:
        write_json(home / EXAMPLE_STORE_DIR / "global.json", {"type": "temperature"})
        ((check, _pointer, message),) = _failures(home, policy_document)
        assert check == "calibrator_global"
        assert "global.json is invalid against calibrator.v1.json: /temperature:" in message

    def test_missing_user(self, home: Path, policy_document: dict[str, Any]) -> None:
        (home / EXAMPLE_STORE_DIR / "users" / "alice.json").unlink()
        ((check, _pointer, message),) = _failures(home, policy_document)
        assert check == "calibrator_user"
        assert message == (
            'Calibrator of user "alice" not found: artifacts/calibrator_store/users/alice.json '
            'does not exist (artifacts/calibrator_store/store.json lists "alice" in user_ids); '
            'write that file, or remove "alice" from user_ids and user_count'
        )

    def test_invalid_user(self, home: Path, policy_document: dict[str, Any]) -> None:
        (home / EXAMPLE_STORE_DIR / "users" / "alice.json").write_text("{", encoding="utf-8")
        ((check, _pointer, message),) = _failures(home, policy_document)
        assert check == "calibrator_user"
        assert message.startswith('Could not read the calibrator of user "alice": ')
        assert "is not valid JSON" in message

    @pytest.mark.parametrize("user_id", ["../global", ".", ".."])
    def test_user_id_that_names_no_file(
        self, home: Path, policy_document: dict[str, Any], user_id: str
    ) -> None:
        make_store(
            home / "artifacts" / "odd",
            {"method": "temperature", "user_count": 1, "user_ids": [user_id]},
        )
        policy_document["calibrator_store_dir"] = "artifacts/odd"
        ((check, _pointer, message),) = _failures(home, policy_document)
        assert check == "calibrator_user"
        assert message.startswith("Bad user id in artifacts/odd/store.json: ")
        assert f"remove {json.dumps(user_id)} from user_ids" in message

    @pytest.mark.parametrize(("store", "listed"), [({"user_count": 3}, 2), ({"user_ids": []}, 0)])
    def test_user_count_mismatch(
        self, home: Path, policy_document: dict[str, Any], store: dict[str, Any], listed: int
    ) -> None:
        path = home / EXAMPLE_STORE_DIR / "store.json"
        write_json(path, {**json.loads(path.read_text(encoding="utf-8")), **store})
        failures = _failures(home, policy_document)
        assert [check for check, _p, _m in failures] == ["calibrator_user_count"]
        count = 3 if listed else 2
        assert failures[0][2].startswith(
            f"User count mismatch in artifacts/calibrator_store/store.json: user_count is {count} "
            f"but user_ids lists {listed} users; set user_count to {listed}"
        )

    def test_user_file_linking_outside_the_home(
        self, tmp_path: Path, home: Path, policy_document: dict[str, Any]
    ) -> None:
        secret = write_json(tmp_path / "secret.json", {"type": "identity"})
        alice = home / EXAMPLE_STORE_DIR / "users" / "alice.json"
        alice.unlink()
        alice.symlink_to(secret)
        ((check, _pointer, message),) = _failures(home, policy_document)
        assert check == "calibrator_user"
        assert message.startswith(
            'Could not read the calibrator of user "alice": '
            "artifacts/calibrator_store/users/alice.json "
        )
        assert "outside" in message

    def test_users_not_listed_are_not_read(
        self, home: Path, policy_document: dict[str, Any]
    ) -> None:
        write_json(home / EXAMPLE_STORE_DIR / "users" / "carol.json", {"type": "platt"})
        assert _failures(home, policy_document) == []

    def test_regressor_count(self, home: Path, policy_document: dict[str, Any]) -> None:
        write_json(home / EXAMPLE_STORE_DIR / "users" / "bob.json", _isotonic(3))
        ((check, _pointer, message),) = _failures(home, policy_document)
        assert check == "calibrator_regressors"
        assert message == (
            'Isotonic calibrator (user "bob") artifacts/calibrator_store/users/bob.json has 3 '
            'regressors, expected 4: one per label of the bundle, in sorted order (["browse", '
            '"code", "meeting", "write"]); refit the calibrator store for this model'
        )

    def test_unequal_thresholds(self, home: Path, policy_document: dict[str, Any]) -> None:
        write_json(home / EXAMPLE_STORE_DIR / "global.json", _isotonic(y_thresholds_=[0.1, 0.2]))
        failures = _failures(home, policy_document)
        assert [check for check, _p, _m in failures] == ["calibrator_regressors"]
        assert failures[0][2].startswith(
            "Invalid isotonic calibrator: artifacts/calibrator_store/global.json is invalid: "
            "/regressors/0/y_thresholds_: has 2 values but X_thresholds_ has 3"
        )

    def test_every_failure_is_reported(self, home: Path, policy_document: dict[str, Any]) -> None:
        (home / EXAMPLE_STORE_DIR / "global.json").unlink()
        (home / EXAMPLE_STORE_DIR / "users" / "alice.json").unlink()
        write_json(home / EXAMPLE_STORE_DIR / "users" / "bob.json", _isotonic(2))
        checks = [check for check, _p, _m in _failures(home, policy_document)]
        assert checks == ["calibrator_global", "calibrator_user", "calibrator_regressors"]

    def test_policy_without_store_reads_no_calibrator(
        self, home: Path, policy_document: dict[str, Any]
    ) -> None:
        (home / EXAMPLE_STORE_DIR / "global.json").unlink()
        policy_document.update(calibrator_store_dir=None, calibration_method=None)
        assert _failures(home, policy_document) == []
