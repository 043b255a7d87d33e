"""``taskclf policy remove | init | template | schema``: whole-file operations.

``template`` and ``schema`` validate nothing and import no validation library;
``init`` checks the starter it writes, and ``remove`` resolves what inference
falls back to, so those two do.
"""

from __future__ import annotations

import argparse
import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from taskclf.cli.common import (
    EXIT_USAGE,
    CommandError,
    Context,
    add_command,
    add_output_options,
    default_stdin,
    stream_is_interactive,
)
from taskclf.cli.fallback import describe_fallback
from taskclf.cli.outcomes import policy_file_kind
from taskclf.cli.report import Outcome
from taskclf.core.layout import CANONICAL_TEMPLATE_PATH

__all__ = [
    "DEFAULT_TEMPLATE_PATH",
    "Removal",
    "SchemaDocument",
    "SchemaList",
    "StarterPolicy",
    "Template",
    "TemplateCheck",
    "register",
]

DEFAULT_TEMPLATE_PATH = Path(CANONICAL_TEMPLATE_PATH)
"""Where the checked-in template lives in a repository, relative to its root."""


def register(commands: Any, shared: argparse.ArgumentParser) -> None:
    """Add the ``remove``, ``init``, ``template`` and ``schema`` subcommands."""
    remove = add_command(
        commands,
        "remove",
        shared,
        help="delete the current policy (inference then falls back)",
        description="Delete models/inference_policy.json and say what inference falls "
        "back to. Asks for confirmation on a terminal; pass --yes in scripts.",
        examples="examples:\n  taskclf policy remove\n"
        "  taskclf policy remove --yes --format json\n\n",
    )
    remove.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    add_output_options(remove)
    remove.set_defaults(handler=run_remove, command_name="policy remove")

    init = add_command(
        commands,
        "init",
        shared,
        help="write a starter policy with placeholders to edit by hand",
        description="Write a starter models/inference_policy.json with placeholder values "
        "(models/<run_id>, <schema_hash>, ...) and a _help note, for editing by hand. "
        "Prefer `taskclf policy create`, which fills the values from the model bundle.",
        examples="examples:\n  taskclf --home /srv/taskclf policy init\n"
        "  taskclf policy init --force\n\n",
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing policy")
    add_output_options(init)
    # init may start a new TASKCLF_HOME: it creates the folders it writes into.
    init.set_defaults(handler=run_init, command_name="policy init", needs_home=False)

    template = add_command(
        commands,
        "template",
        shared,
        help="print the canonical template, or check a checked-in copy for drift",
        description="Print the canonical policy template, generated from the schema. "
        f"With --check, compare {DEFAULT_TEMPLATE_PATH} (or --output FILE) with it and "
        "exit 1 with a diff when they differ (a CI drift check). With --output alone, "
        "write the template to FILE.",
        examples=f"examples:\n  taskclf policy template --check\n"
        f"  taskclf policy template --output {DEFAULT_TEMPLATE_PATH}\n\n",
    )
    template.add_argument("--check", action="store_true", help="compare instead of printing")
    template.add_argument(
        "--output",
        metavar="FILE",
        type=Path,
        help="file to write atomically (- is standard output), or, with --check, to compare",
    )
    add_output_options(template)
    template.set_defaults(handler=run_template, command_name="policy template", needs_home=False)

    schema = add_command(
        commands,
        "schema",
        shared,
        help="print a shipped JSON Schema (the policy's by default), to point a tool at",
        description="Print one of the JSON Schemas (draft-07) taskclf validates with, so an "
        "editor or another validator can use it: NAME is one of --list, by default the policy's. "
        "Every shipped schema stands alone; --bundled also inlines any $ref to another file.",
        examples="examples:\n  taskclf policy schema\n  taskclf policy schema --list\n"
        "  taskclf policy schema model_metadata.v1 --bundled --output schema.json\n\n",
    )
    schema.add_argument(
        "name",
        nargs="?",
        metavar="NAME",
        default=_DEFAULT_SCHEMA,
        type=lambda text: text.removesuffix(".json"),
        help=f"which schema (default: {_DEFAULT_SCHEMA}); see --list",
    )
    schema.add_argument("--list", action="store_true", help="list the names of every schema")
    schema.add_argument(
        "--bundled", action="store_true", help="inline every $ref to another file (self-contained)"
    )
    schema.add_argument(
        "--output",
        metavar="FILE",
        type=Path,
        help="write it to FILE instead (atomically; - is standard output)",
    )
    add_output_options(schema)
    schema.set_defaults(handler=run_schema, command_name="policy schema", needs_home=False)


def run_remove(args: argparse.Namespace, ctx: Context) -> int:
    """Delete the policy file after confirmation; say what inference uses now."""
    path = ctx.policy_file
    shown = ctx.display(path)
    kind = policy_file_kind(ctx)
    if kind == "nothing":
        return ctx.report(Removal("absent", shown, fallback=describe_fallback(ctx)))
    if not args.yes:
        stdin = default_stdin()
        if not stream_is_interactive(stdin):
            raise CommandError(
                f"not removing {shown} without confirmation; pass --yes", exit_code=EXIT_USAGE
            )
        # With --format json, stdout carries only the JSON object: ask on stderr.
        asked = ctx.stderr if ctx.json else ctx.stdout
        print(f"Remove {shown}? [y/N] ", end="", file=asked, flush=True)
        if stdin.readline().strip().lower() not in {"y", "yes"}:
            return ctx.report(Removal("declined", shown, fallback=None))
    from taskclf.core.inference_policy import PolicyFileError, remove_inference_policy

    if kind == "folder":
        raise CommandError(
            f"{shown} is a folder, not a policy file; nothing was removed. Look inside it and "
            "remove it by hand if it does not belong there",
            details={"file": str(path)},
        )
    try:
        remove_inference_policy(ctx.models_dir, replaced_by="taskclf policy remove")
    except PolicyFileError as exc:
        raise CommandError(f"{shown}: {exc.reason}", details=dict(exc.details)) from exc
    return ctx.report(Removal("removed", shown, fallback=describe_fallback(ctx)))


@dataclass(frozen=True, slots=True)
class Removal(Outcome):
    """What ``policy remove`` did: the case, the policy file as shown, and the fallback.

    ``case`` is ``"absent"`` (there was no policy to remove), ``"declined"``
    (the person answered no) or ``"removed"``. ``fallback`` is the sentence
    saying what inference uses now; ``None`` when the person declined, since
    nothing changed.
    """

    case: Literal["absent", "declined", "removed"]
    policy_file: str
    fallback: str | None

    @property
    def removed(self) -> bool:
        """Whether the policy file was deleted."""
        return self.case == "removed"

    def json_fields(self) -> dict[str, Any]:
        return {"removed": self.removed, "fallback": self.fallback}

    def text_lines(self) -> Iterator[str]:
        if self.case == "absent":
            yield f"No inference policy at {self.policy_file}; nothing to remove."
        elif self.case == "declined":
            yield "Not removed."
        else:
            yield f"Removed {self.policy_file}."
            yield f"Now {self.fallback}."


def run_init(args: argparse.Namespace, ctx: Context) -> int:
    """Write the starter template unless a policy exists (or ``--force``)."""
    from taskclf.core.inference_policy import write_inference_policy_starter_template

    shown = ctx.display(ctx.policy_file)
    if policy_file_kind(ctx) != "nothing" and not args.force:
        raise CommandError(
            f"{shown} already exists; not overwriting it. Pass --force to replace it with "
            "the starter template, or edit it instead",
            details={"file": str(ctx.policy_file)},
        )
    from taskclf.core.errors import PolicyFileError

    try:
        write_inference_policy_starter_template(ctx.models_dir, replaced_by="taskclf policy init")
    except PolicyFileError as exc:
        raise CommandError(f"{shown}: {exc.reason}", details=dict(exc.details)) from exc
    return ctx.report(StarterPolicy(policy_file=shown, home=str(ctx.home)))


@dataclass(frozen=True, slots=True)
class StarterPolicy(Outcome):
    """What ``policy init`` wrote: the starter policy's file, as shown.

    ``home`` is TASKCLF_HOME, which the placeholder paths are relative to.
    """

    policy_file: str
    home: str

    def json_fields(self) -> dict[str, Any]:
        return {"written": True}

    def text_lines(self) -> Iterator[str]:
        yield f"Wrote a starter policy to {self.policy_file}."
        yield (
            "Replace the <...> placeholders (paths are relative to "
            f"{self.home}), then check it with `taskclf policy validate`."
        )
        yield "Easier: `taskclf policy create --model-dir models/<run_id>` fills them for you."


def _is_stdout(output: Path | None) -> bool:
    return output is not None and str(output) == "-"


def run_template(args: argparse.Namespace, ctx: Context) -> int:
    """Print, write or check the canonical template."""
    from taskclf.core.policy_template import render_default_inference_policy_template_json

    rendered = render_default_inference_policy_template_json()
    if args.check:
        return _check_template(ctx, args.output or DEFAULT_TEMPLATE_PATH, rendered)
    if args.output is None or _is_stdout(args.output):
        ctx.body(rendered)  # in JSON, inside the envelope every command's JSON has:
        return ctx.report(Template(text=rendered, file=None))
    from taskclf.core.atomic import write_text_atomic

    write_text_atomic(args.output, rendered)
    return ctx.report(Template(text=rendered, file=str(args.output)))


@dataclass(frozen=True, slots=True)
class Template(Outcome):
    """The canonical template ``policy template`` rendered, and the file it wrote it to.

    ``file`` is ``None`` when the template was printed on standard output
    (the JSON report then carries the template itself).
    """

    text: str
    file: str | None

    def json_fields(self) -> dict[str, Any]:
        if self.file is None:
            return {"written": False, "template": json.loads(self.text)}
        return {"file": self.file, "written": True}

    def text_lines(self) -> Iterator[str]:
        if self.file is not None:
            yield f"Wrote the template to {self.file}."


def _check_template(ctx: Context, path: Path, rendered: str) -> int:
    from taskclf.core.jsonio import JSONFileError, read_file_bytes

    try:
        # Bounded and non-blocking: a FIFO or a huge file at the path is refused.
        current = read_file_bytes(path).decode("utf-8")
    except FileNotFoundError as exc:
        raise CommandError(
            f"{path} does not exist; create it with: taskclf policy template --output {path}",
            details={"file": str(path)},
        ) from exc
    except JSONFileError as exc:
        raise CommandError(f"{path}: {exc.reason}", details={"file": str(path)}) from exc
    except UnicodeDecodeError as exc:
        raise CommandError(
            f"{path} is not UTF-8 text (bad byte at offset {exc.start})",
            details={"file": str(path)},
        ) from exc
    diff = "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            rendered.splitlines(keepends=True),
            fromfile=str(path),
            tofile="rendered template",
        )
    )
    return ctx.report(TemplateCheck(file=str(path), diff=diff))


@dataclass(frozen=True, slots=True)
class TemplateCheck(Outcome):
    """What ``policy template --check`` found: the file compared, and its diff to the template.

    An empty ``diff`` means the file is up to date; otherwise the check fails (exit 1).
    """

    file: str
    diff: str

    @property
    def ok(self) -> bool:
        """Whether the file is up to date with the rendered template."""
        return not self.diff

    def json_fields(self) -> dict[str, Any]:
        return {"file": self.file, "up_to_date": self.ok, "diff": self.diff}

    def text_lines(self) -> Iterator[str]:
        if self.ok:
            yield f"{self.file}: up to date."
            return
        yield f"{self.file} differs from the rendered template:"
        yield self.diff.rstrip("\n")
        yield f"Regenerate it with: taskclf policy template --output {self.file}"


_DEFAULT_SCHEMA = "inference_policy.v1"


def run_schema(args: argparse.Namespace, ctx: Context) -> int:
    """Print or write a shipped schema's text (as it ships, or bundled), or list the names."""
    from taskclf.core.schemas import schema_names, schema_text

    names = [file.removesuffix(".json") for file in schema_names()]
    if args.list:
        return ctx.report(SchemaList(tuple(names)))
    if args.name not in names:
        raise CommandError(
            f"no schema named {args.name!r}; choose one of: {', '.join(names)}",
            exit_code=EXIT_USAGE,
            details={"name": args.name, "names": names},
        )
    file = args.name + ".json"
    if args.bundled:
        from taskclf.core.schema_bundle import bundle_schema

        text = json.dumps(bundle_schema(file), indent=2, ensure_ascii=False) + "\n"
    else:
        text = schema_text(file)
    if args.output is None or _is_stdout(args.output):
        ctx.body(text)  # in JSON, inside the envelope every command's JSON has:
        return ctx.report(SchemaDocument(args.name, bool(args.bundled), text, file=None))
    from taskclf.core.atomic import write_text_atomic

    write_text_atomic(args.output, text)
    return ctx.report(SchemaDocument(args.name, bool(args.bundled), text, file=str(args.output)))


@dataclass(frozen=True, slots=True)
class SchemaList(Outcome):
    """The names of every shipped schema, as ``policy schema --list`` gives them."""

    names: tuple[str, ...]

    def json_fields(self) -> dict[str, Any]:
        return {"names": list(self.names)}

    def text_lines(self) -> Iterator[str]:
        yield from self.names


@dataclass(frozen=True, slots=True)
class SchemaDocument(Outcome):
    """One schema ``policy schema`` gave: its name, whether bundled, its text, where it went.

    ``file`` is ``None`` when the schema was printed on standard output (the
    JSON report then carries the schema itself).
    """

    name: str
    bundled: bool
    text: str
    file: str | None

    def json_fields(self) -> dict[str, Any]:
        if self.file is None:
            return {"name": self.name, "bundled": self.bundled, "schema": json.loads(self.text)}
        return {"name": self.name, "file": self.file, "written": True}

    def text_lines(self) -> Iterator[str]:
        if self.file is not None:
            what = "policy" if self.name == _DEFAULT_SCHEMA else self.name
            yield f"Wrote the {what} schema to {self.file}."
