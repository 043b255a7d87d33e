"""Whole-process start-up cost of the taskclf command line, as ratios from one run.

Times, interleaved round by round so that machine noise hits every command alike:

* the floor, ``python -c "import json"``, and ``python -c pass``;
* ``taskclf --help``, ``taskclf --version`` and ``taskclf policy remove --yes``
  (these must not import any validation library);
* ``taskclf policy show`` and ``taskclf policy validate`` on a valid policy;
* ``check-jsonschema`` validating the same file with the same schema (when installed:
  ``pip install -e ".[bench]"``).

Targets: ``policy show`` and ``policy validate`` take at most half the time of
check-jsonschema. Prints medians in milliseconds and every figure as a ratio to the floor.

Run: ``python benchmarks/bench_cli.py [--rounds N]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _taskclf() -> list[str]:
    script = shutil.which("taskclf")
    return [script] if script else [sys.executable, "-m", "taskclf"]


# Installed packages have their bytecode compiled at install time; a source checkout
# gets it on first run unless PYTHONDONTWRITEBYTECODE forbids it, which would make
# taskclf (editable) pay compilation on every run while check-jsonschema does not.
_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def _time(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        command,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        env=_ENV,
    )
    return time.perf_counter() - start


def _imports_validation(command: list[str], cwd: Path) -> bool:
    """True when running ``command`` under -X importtime imports jsonschema or referencing."""
    if command[0] != sys.executable:
        command = [sys.executable, "-m", "taskclf", *command[1:]]
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *command[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    return any(
        name in line
        for line in result.stderr.splitlines()
        for name in ("| jsonschema", "| referencing")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds

    work = Path(tempfile.mkdtemp(prefix="taskclf-bench-"))
    home = work / "home"
    shutil.copytree(
        REPO_ROOT / "examples" / "home",
        home,
        ignore=shutil.ignore_patterns("inference_policy.json*"),
    )
    taskclf = _taskclf()
    subprocess.run(
        [
            *taskclf,
            "--home",
            str(home),
            "policy",
            "create",
            "--model-dir",
            "models/run_001",
            "--calibrator-store",
            "artifacts/calibrator_store",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    policy = home / "models" / "inference_policy.json"
    saved = policy.read_bytes()
    schema = REPO_ROOT / "schemas" / "inference_policy.v1.json"

    commands: dict[str, list[str]] = {
        "floor: python -c 'import json'": [sys.executable, "-c", "import json"],
        "python -c pass": [sys.executable, "-c", "pass"],
        "taskclf --help": [*taskclf, "--help"],
        "taskclf --version": [*taskclf, "--version"],
        "taskclf policy remove --yes": [*taskclf, "policy", "remove", "--yes"],
        "taskclf policy show": [*taskclf, "policy", "show"],
        "taskclf policy validate": [*taskclf, "policy", "validate"],
    }
    checker = shutil.which("check-jsonschema")
    if checker:
        commands["check-jsonschema (same file)"] = [
            checker,
            "--schemafile",
            str(schema),
            str(policy),
        ]
    else:
        print("check-jsonschema not installed: pip install -e '.[bench]' to compare with it")

    samples: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm-up: bytecode caches, file-system caches
        policy.write_bytes(saved)
        _time(command, home)
    for _ in range(rounds):
        for name, command in commands.items():
            policy.write_bytes(saved)  # `remove` deletes it; every command sees the same file
            samples[name].append(_time(command, home))

    medians = {name: statistics.median(values) for name, values in samples.items()}
    floor = medians["floor: python -c 'import json'"]
    print(f"{rounds} rounds, commands interleaved; medians:")
    width = max(map(len, medians))
    for name, value in medians.items():
        print(f"  {name:<{width}}  {value * 1000:7.1f} ms  {value / floor:5.2f}x floor")

    policy.write_bytes(saved)
    print("validation library imported (python -X importtime):")
    for name in ("taskclf --help", "taskclf --version", "taskclf policy remove --yes"):
        policy.write_bytes(saved)
        imported = _imports_validation(commands[name], home)
        print(f"  {name:<{width}}  {'YES' if imported else 'no'}")

    if checker:
        reference = medians["check-jsonschema (same file)"]
        for name in ("taskclf policy show", "taskclf policy validate"):
            ratio = medians[name] / reference
            verdict = "met" if ratio <= 0.5 else "MISSED"
            print(f"  {name} / check-jsonschema = {ratio:.2f} (target <= 0.50: {verdict})")
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
