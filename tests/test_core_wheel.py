"""A real wheel, installed in a throwaway venv, finds its schemas and loads a policy.

The editable install used by the other tests reads ``schemas/`` straight from
the checkout; this test proves a normal install ships the same files as
package data. It builds the wheel from a copy of the checkout (so the shared
working tree gets no build/ folder), installs it with its dependencies from the
package index, and runs it from an unrelated folder.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from taskclf.core.validators import module_name

from conftest import EXAMPLE_HOME, REPO_ROOT, write_json

SCRIPT = textwrap.dedent(
    """
    import base64, json, sys
    from importlib.resources import files
    from pathlib import Path

    import taskclf
    from taskclf.core.inference_policy import load_inference_policy, validate_policy

    models = Path(sys.argv[1])
    policy = load_inference_policy(models)
    validate_policy(policy, models)
    schemas = {
        entry.name: base64.b64encode(entry.read_bytes()).decode()
        for entry in files("taskclf.schemas").iterdir()
        if entry.name.endswith(".json")
    }
    print(json.dumps({
        "taskclf_file": taskclf.__file__,
        "schemas_dir": str(files("taskclf.schemas")),
        "policy": policy.to_dict(),
        "schemas": schemas,
        "validators": sorted(
            entry.name for entry in files("taskclf.core.validators").iterdir()
            if entry.name.endswith(".py")
        ),
        "jsonschema_imported": "jsonschema" in sys.modules,
    }))
    """
)


def _run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def test_wheel_install_finds_schemas(tmp_path: Path, policy_document: dict[str, Any]) -> None:
    env = _clean_env()
    source = tmp_path / "source"
    shutil.copytree(
        REPO_ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
        ),
    )
    wheelhouse = tmp_path / "wheelhouse"
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheelhouse, source],
        tmp_path,
        env,
    )
    (wheel,) = wheelhouse.glob("taskclf-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], tmp_path, env)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", wheel], tmp_path, env)

    home = tmp_path / "home"
    shutil.copytree(
        EXAMPLE_HOME,
        home,
        ignore=shutil.ignore_patterns("inference_policy.json*", ".policy_history"),
    )
    write_json(home / "models" / "inference_policy.json", policy_document)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    report = json.loads(_run([python, "-c", SCRIPT, home / "models"], elsewhere, env))

    assert Path(report["taskclf_file"]).resolve().is_relative_to(venv.resolve())
    assert Path(report["schemas_dir"]).resolve().is_relative_to(venv.resolve())
    assert report["policy"] == policy_document
    repo_schemas = {p.name: p.read_bytes() for p in (REPO_ROOT / "schemas").glob("*.json")}
    installed = {name: base64.b64decode(data) for name, data in report["schemas"].items()}
    assert installed == repo_schemas
    # The generated validators ship too, and answer for the valid policy and bundle.
    assert report["validators"] == sorted(
        ["__init__.py", *(f"{module_name(name)}.py" for name in repo_schemas)]
    )
    assert report["jsonschema_imported"] is False
