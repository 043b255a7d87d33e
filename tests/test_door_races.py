"""Issue 8, finding 3: a symlink or folder swapped between check and open never leaks outside data.

A child process flips, for a few seconds, what stands at ``models/run_001`` (or at its
``metadata.json``) between the real thing inside TASKCLF_HOME and a symlink to a bundle
outside the home, whose metadata carries a marker. Meanwhile the test reads the bundle
through every library entry point (and the CLI) as fast as it can: the marker must never
appear in any result, message, configuration or output, and nothing may raise.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from door_support import run_taskclf
from taskclf.core.errors import PolicyDiskCheckError
from taskclf.core.inference_policy import InferencePolicy, check_policy_artifacts, validate_policy
from taskclf.infer.reloader import InferencePolicyReloader
from taskclf.infer.resolve import resolve_inference_config
from taskclf.model_registry import read_bundle

from conftest import write_json

SECRET = "OUTSIDE_SECRET"
FLIP_SECONDS = 3.0

_FLIPPER = r"""
import ctypes, os, sys, time
mode, a, b, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
libc = ctypes.CDLL(None, use_errno=True)
def exchange():
    if libc.renameat2(-100, a.encode(), -100, b.encode(), 2) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
# mode "symlink": a is models/run_001; b is the outside target; the real folder sits at a+".real".
tmp = a + ".flip"
flips = 0
end = time.monotonic() + seconds
print("ready", flush=True)
while time.monotonic() < end:
    if mode == "symlink":
        for target in (b, os.path.basename(a) + ".real"):
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            os.symlink(target, tmp)
            os.rename(tmp, a)
    else:
        exchange()
        exchange()
    flips += 2
print(flips, flush=True)
"""


def _renameat2_works(tmp_path: Path) -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    probe = tmp_path / ".probe"
    probe.mkdir()
    (probe / "a").mkdir()
    (probe / "b").symlink_to("elsewhere")
    ok = bool(libc.renameat2(-100, bytes(probe / "a"), -100, bytes(probe / "b"), 2) == 0)
    shutil.rmtree(probe)
    return ok


@pytest.fixture
def outside_bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "outside" / "run_x"
    write_json(
        bundle / "metadata.json",
        {"schema_hash": f"{SECRET}_HASH", "label_set": [f"{SECRET}_LABEL"]},
    )
    write_json(bundle / "metrics.json", {"macro_f1": 0.99, "weighted_f1": 0.99})
    return bundle


@pytest.fixture
def policy_home(home: Path, policy_document: dict[str, Any]) -> Path:
    write_json(home / "models" / "inference_policy.json", policy_document)
    return home


Flip = Callable[[str], subprocess.Popen[str]]


@pytest.fixture
def flipper(policy_home: Path, outside_bundle: Path, tmp_path: Path) -> Iterator[Flip]:
    """Start the flipping child in one of three modes; it is always killed in teardown."""
    started: list[subprocess.Popen[str]] = []
    models = policy_home / "models"

    def start(mode: str) -> subprocess.Popen[str]:
        if mode == "symlink":
            (models / "run_001").rename(models / "run_001.real")
            (models / "run_001").symlink_to("run_001.real")
            a, b = models / "run_001", outside_bundle
        else:
            if not _renameat2_works(tmp_path):
                pytest.skip("renameat2(RENAME_EXCHANGE) is not available here")
            if mode == "exchange-dir":
                a, b = models / "run_001", models / ".evil"
                b.symlink_to(outside_bundle)
            else:  # exchange-file
                a = models / "run_001" / "metadata.json"
                b = models / "run_001" / ".evil.json"
                b.symlink_to(outside_bundle / "metadata.json")
        child = subprocess.Popen(
            [sys.executable, "-c", _FLIPPER, mode, str(a), str(b), str(FLIP_SECONDS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(child)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        return child

    yield start
    for child in started:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)


def _finished(child: subprocess.Popen[str]) -> int:
    out, err = child.communicate(timeout=FLIP_SECONDS + 10)
    assert child.returncode == 0, err
    return int(out.strip())


MODES = ["symlink", "exchange-dir", "exchange-file"]


@pytest.mark.parametrize("mode", MODES)
class TestLibraryUnderFlipping:
    """Library reads during a flip never return, mention or serve the outside bundle."""

    def test_no_leak_no_exception(
        self, policy_home: Path, policy_document: dict[str, Any], flipper: Flip, mode: str
    ) -> None:
        models = policy_home / "models"
        policy = InferencePolicy.from_dict(policy_document)
        reloader = InferencePolicyReloader(models, check_interval_s=0, content_check_interval_s=0)
        child = flipper(mode)
        leaks: list[str] = []
        errors: list[str] = []
        calls = 0

        def probe(name: str, call: Callable[[], Any]) -> None:
            try:
                seen = repr(call())
            except PolicyDiskCheckError as exc:  # validate_policy's documented outcome
                seen = repr(exc.message) + repr(exc.details)
            except Exception as exc:
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
                return
            if SECRET in seen:
                leaks.append(f"{name}: {seen[:300]}")

        while child.poll() is None:
            calls += 1
            probe("check_policy_artifacts", lambda: check_policy_artifacts(policy, models))
            probe("validate_policy", lambda: validate_policy(policy, models))
            probe("resolve_inference_config", lambda: resolve_inference_config(models))
            probe("read_bundle", lambda: read_bundle(models / "run_001", home=policy_home))
            probe(
                "check_reload",
                lambda: (reloader.check_reload(force=True), reloader.config, reloader.failure),
            )
        flips = _finished(child)
        assert flips > 100, "the child hardly flipped; the test proved nothing"
        assert calls > 10
        assert SECRET not in repr(reloader.config)
        assert leaks == [], leaks[:5]
        assert errors == [], errors[:5]


@pytest.mark.parametrize("mode", ["exchange-dir", "exchange-file"])
class TestCliUnderFlipping:
    """`policy validate --format json` and `policy show` during a flip never print outside data."""

    def test_no_leak_no_traceback(self, policy_home: Path, flipper: Flip, mode: str) -> None:
        child = flipper(mode)
        bad: list[str] = []
        runs = 0
        deadline = time.monotonic() + FLIP_SECONDS
        while child.poll() is None and time.monotonic() < deadline:
            for args in (("policy", "validate", "--format", "json"), ("policy", "show")):
                result = run_taskclf(*args, cwd=policy_home, timeout=30)
                runs += 1
                text = result.stdout + result.stderr
                if SECRET in text or "Traceback" in text or "internal error" in text:
                    bad.append(f"{args}: {text[-400:]}")
                if result.code not in (0, 1):
                    bad.append(f"{args}: exit {result.code}: {text[-400:]}")
                if args[-1] == "json":
                    json.loads(result.stdout)  # always one JSON document
        _finished(child)
        assert runs >= 2
        assert bad == [], bad[:3]


def test_outside_bundle_really_is_refused_when_linked(
    policy_home: Path, outside_bundle: Path
) -> None:
    """Without a race, the symlinked bundle is refused: the race tests start from a sound base."""
    models = policy_home / "models"
    (models / "run_001").rename(models / "run_001.real")
    (models / "run_001").symlink_to(outside_bundle)
    record = read_bundle(models / "run_001", home=policy_home)
    assert not record.valid
    assert "outside TASKCLF_HOME" in str(record.reason)
    assert SECRET not in repr(record)
    os.unlink(models / "run_001")
