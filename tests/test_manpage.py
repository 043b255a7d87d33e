"""The checked-in man page is the output of man/generate.sh on today's parser."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT


class TestManPage:
    """man/taskclf.1 never drifts from build_parser()."""

    def test_checked_in_man_page_matches_regenerated(self, tmp_path: Path) -> None:
        out = tmp_path / "taskclf.1"
        env = {**os.environ, "PYTHON": sys.executable}
        # A different SOURCE_DATE_EPOCH in the environment must not leak into the page.
        env["SOURCE_DATE_EPOCH"] = "0"
        subprocess.run(
            ["bash", str(REPO_ROOT / "man" / "generate.sh"), str(out)],
            check=True,
            env=env,
            capture_output=True,
        )
        checked_in = (REPO_ROOT / "man" / "taskclf.1").read_text(encoding="utf-8")
        assert out.read_text(encoding="utf-8") == checked_in, (
            "man/taskclf.1 is out of date: run `bash man/generate.sh`"
        )

    def test_man_page_documents_every_policy_subcommand(self) -> None:
        from taskclf.cli.main import build_parser

        # groff escapes hyphens ("tune\-reject"); read the page with them plain.
        page = (REPO_ROOT / "man" / "taskclf.1").read_text(encoding="utf-8").replace("\\-", "-")
        parser = build_parser()
        groups = next(a for a in parser._actions if a.dest == "group")
        policy = groups.choices["policy"]  # type: ignore[attr-defined]
        commands = next(a for a in policy._actions if a.dest == "command")
        for name in commands.choices:  # type: ignore[attr-defined]
            assert f"'taskclf policy {name}'" in page
