"""The sdist and the wheel: what they hold, their metadata, and what ``mypy --strict`` sees.

Both are built once per module with ``python -m build --no-isolation`` (the test
extra installs setuptools and build, so nothing is downloaded) from a copy of
the checkout, so the shared working tree gets no build/ or egg-info folder.
"""

from __future__ import annotations

import email.parser
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO_ROOT

# Folders the tests read, all of which the sdist must carry whole.
_TEST_INPUTS = (
    "tests",
    "examples",
    "configs",
    "man",
    "schemas",
    "src",
    "completions",
    "schemastore",
)
# Produced by running things in a checkout; never part of a distribution.
_LOCAL_ONLY = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".*_cache",
    ".hypothesis",
    "inference_policy.json.bak",
)


@dataclass(frozen=True, slots=True)
class _Dists:
    sdist: Path
    wheel: Path
    log: str


_WALK_THROUGH_HISTORY = "examples/home/models/.policy_history/"


def _checkout_files(root: Path) -> set[str]:
    """Files under the test-input folders of ``root``, as POSIX paths relative to it."""
    names: set[str] = set()
    for folder in _TEST_INPUTS:
        for path in (root / folder).rglob("*"):
            relative = path.relative_to(root)
            if path.is_file() and not _LOCAL_ONLY(str(path.parent), relative.parts):
                names.add(relative.as_posix())
    # The README walk-through writes a policy (and keeps the versions it replaces) into the
    # example home; neither is part of it.
    names.discard("examples/home/models/inference_policy.json")
    return {name for name in names if not name.startswith(_WALK_THROUGH_HISTORY)}


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> _Dists:
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    shutil.copytree(REPO_ROOT, source, ignore=_LOCAL_ONLY)
    (source / "examples" / "home" / "models" / "inference_policy.json").unlink(missing_ok=True)
    shutil.rmtree(source / "examples" / "home" / "models" / ".policy_history", ignore_errors=True)
    out = root / "dist"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "SOURCE_DATE"))}
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    (sdist,) = out.glob("taskclf-*.tar.gz")
    (wheel,) = out.glob("taskclf-*.whl")
    return _Dists(sdist=sdist, wheel=wheel, log=log)


def _sdist_names(sdist: Path) -> set[str]:
    with tarfile.open(sdist) as archive:
        members = [m.name for m in archive.getmembers() if m.isfile()]
    top = {name.split("/", 1)[0] for name in members}
    assert len(top) == 1, top  # everything under one taskclf-<version>/ folder
    return {name.split("/", 1)[1] for name in members}


def _wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(name).decode("utf-8"))


class TestSdist:
    """The sdist holds everything `pytest` needs when run from the unpacked sdist."""

    def test_holds_every_test_input(self, dists: _Dists) -> None:
        names = _sdist_names(dists.sdist)
        missing = _checkout_files(REPO_ROOT) - names
        assert not missing, f"not in the sdist (see MANIFEST.in): {sorted(missing)}"
        for name in ("LICENSE", "README.md", "pyproject.toml", ".pre-commit-hooks.yaml"):
            assert name in names
        for name in (
            "tests/conftest.py",
            "tests/__snapshots__/test_cli_main.ambr",
            "tests/cases/valid/complete_with_calibrator/inference_policy.json",
            "man/taskclf.1",
            "src/taskclf/py.typed",
        ):
            assert name in names

    def test_holds_nothing_local(self, dists: _Dists) -> None:
        names = _sdist_names(dists.sdist)
        local = [n for n in names if "__pycache__" in n or n.endswith(".pyc") or ".venv/" in n]
        assert not local
        assert "examples/home/models/inference_policy.json" not in names

    def test_build_raises_no_deprecation(self, dists: _Dists) -> None:
        # The old `license = { text = ... }` table made setuptools warn on every build.
        assert "Deprecat" not in dists.log, dists.log


class TestWheel:
    """The wheel holds the code, the typing marker, the schemas and the completion scripts."""

    def test_file_list(self, dists: _Dists) -> None:
        with zipfile.ZipFile(dists.wheel) as archive:
            names = set(archive.namelist())
        data = {n for n in names if not n.endswith(".py") and ".dist-info/" not in n}
        schemas = {f"taskclf/schemas/{p.name}" for p in (REPO_ROOT / "schemas").glob("*.json")}
        shipped = REPO_ROOT / "src" / "taskclf" / "completions"
        completions = {f"taskclf/completions/{p.name}" for p in shipped.iterdir()}
        assert len(completions) == 3  # bash, zsh, fish
        assert data == {"taskclf/py.typed", *schemas, *completions}
        assert not [n for n in names if n.startswith(("tests/", "schemas/", "examples/"))]
        (licence,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        with zipfile.ZipFile(dists.wheel) as archive:
            assert archive.read(licence) == (REPO_ROOT / "LICENSE").read_bytes()

    def test_metadata(self, dists: _Dists) -> None:
        metadata = _wheel_metadata(dists.wheel)
        assert metadata["License-Expression"] == "MIT"
        assert metadata.get_all("License-File") == ["LICENSE"]
        classifiers = metadata.get_all("Classifier") or []
        assert "Typing :: Typed" in classifiers
        assert "Programming Language :: Python :: 3.11" in classifiers
        assert not [c for c in classifiers if c.startswith("License ::")]  # SPDX says it
        assert metadata["Requires-Python"] == ">=3.11"
        urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
        assert set(urls) == {"Homepage", "Source", "Issues", "Documentation"}
        assert all(u.startswith("https://github.com/taskclf/taskclf-policy") for u in urls.values())


USER_CODE = textwrap.dedent(
    """
    from taskclf.core.schemas import schema_names

    reveal_type(schema_names())
    count: int = schema_names()
    """
)


class TestTyping:
    """A user's `mypy --strict` sees taskclf's real types (py.typed ships in the wheel)."""

    def test_mypy_strict_on_user_code(self, dists: _Dists, tmp_path: Path) -> None:
        pytest.importorskip("mypy", reason="mypy is in the test extra")
        venv = tmp_path / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
        python = venv / "bin" / "python"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(python),
                "install",
                "-q",
                "--no-deps",
                "--no-index",
                "--disable-pip-version-check",
                str(dists.wheel),
            ],
            check=True,
            capture_output=True,
        )
        user = tmp_path / "user.py"
        user.write_text(USER_CODE, encoding="utf-8")
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--strict",
                "--python-executable",
                str(python),
                "--cache-dir",
                str(tmp_path / "cache"),
                "--no-error-summary",
                str(user),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        out = result.stdout
        assert "py.typed" not in out and "Skipping analyzing" not in out, out
        # mypy 1 spells builtins out ("builtins.tuple[builtins.str, ...]"), mypy 2 does not.
        revealed = r'Revealed type is "(builtins\.)?tuple\[(builtins\.)?str, \.\.\.\]"'
        assert re.search(revealed, out), out
        assert "Incompatible types in assignment" in out, out
        assert result.returncode == 1
