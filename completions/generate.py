"""Regenerate the shell completion scripts from the same ``build_parser()`` the command uses.

    python completions/generate.py          # writes src/taskclf/completions/taskclf.*
    python completions/generate.py OUT_DIR  # writes the three scripts into OUT_DIR

The scripts are package data: ``taskclf completion SHELL`` prints them, so a plain
install completes without shtab. shtab (pinned in the dev and test extras, so the
output is the same everywhere) writes all three; tests/test_completion.py runs this
script and compares its output with the checked-in files. Run it whenever the
command line changes, as man/generate.sh.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["SHELLS", "SHTAB_VERSION", "main", "render"]

SHELLS = ("bash", "zsh", "fish")
SHTAB_VERSION = "1.13.0"
"""The shtab that wrote the checked-in scripts; another version may write other bytes."""

_DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "taskclf" / "completions"
# What a metavar says the value is; shtab then completes folders or files for it.
_FOLDER_METAVARS = frozenset({"DIR", "PATH"})
_FILE_METAVARS = frozenset({"FILE"})


def _annotated_parser() -> argparse.ArgumentParser:
    """build_parser(), with the hints shtab reads: which values are folders, files, schema names."""
    import shtab

    from taskclf.cli.main import build_parser
    from taskclf.core.schemas import schema_names

    parser: argparse.ArgumentParser = build_parser()
    pending = [parser]
    while pending:
        current = pending.pop()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())
            elif action.metavar in _FOLDER_METAVARS:
                vars(action)["complete"] = shtab.DIRECTORY  # the attribute shtab reads
            elif action.metavar in _FILE_METAVARS:
                vars(action)["complete"] = shtab.FILE
            elif current.prog.endswith(" policy schema") and action.dest == "name":
                # Only for completion: the command itself accepts "NAME.json" too.
                action.choices = [name.removesuffix(".json") for name in schema_names()]
    return parser


def render(shell: str) -> str:
    """The completion script for ``shell``."""
    import shtab

    if shtab.__version__ != SHTAB_VERSION:
        raise SystemExit(
            f"completions/generate.py: shtab {shtab.__version__} is installed; the checked-in "
            f'scripts come from shtab {SHTAB_VERSION}: pip install -e ".[dev]"'
        )
    script: str = shtab.complete(_annotated_parser(), shell=shell)
    return script if script.endswith("\n") else script + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the three scripts into ``argv[0]`` (default: the package's completions folder)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else _DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    for shell in SHELLS:
        (out / f"taskclf.{shell}").write_text(render(shell), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
