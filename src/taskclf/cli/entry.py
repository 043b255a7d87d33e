"""The console script's entry point: Ctrl-C, a closed reader and a closed stdout, handled.

Its first statement takes over SIGINT with the C-level :mod:`_signal` (no
import of :mod:`enum` or anything else first): from then on a Ctrl-C is only
noted, and :func:`entry_point` turns it into one line and exit code 130 once
it is inside its own ``try``. So Ctrl-C at any moment once taskclf's code runs
ends quietly, never with a traceback. (A Ctrl-C in the milliseconds before,
while the interpreter itself and pip's script wrapper start, is Python's own
to report.) Only the console script and ``python -m taskclf`` import this
module: importing it changes how the process handles SIGINT.
"""

import _signal  # type: ignore[import-not-found]  # the C module signal wraps: no enum import

_interrupts: list[int] = []


def _note_interrupt(signum: int, frame: object) -> None:
    _interrupts.append(signum)


_signal.signal(_signal.SIGINT, _note_interrupt)

import os  # noqa: E402  (after SIGINT is taken over, on purpose)
import sys  # noqa: E402

__all__ = ["EXIT_INTERRUPTED", "entry_point"]

EXIT_INTERRUPTED = 130
"""The shell's code for "stopped by Ctrl-C" (128 + SIGINT)."""


class _ClosedStdout:
    """Stands in for ``sys.stdout`` when the process started with it closed (``>&-``)."""

    def write(self, text: str) -> int:
        from taskclf.cli.output import OutputUnavailable

        raise OutputUnavailable(9, "standard output is closed")

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False


class _ClosedStderr:
    """Stands in for ``sys.stderr`` when the process started with it closed (``2>&-``).

    What would go there is dropped: ``print(file=None)`` would put it on stdout,
    in front of a JSON report.
    """

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False


def entry_point() -> None:
    """Run ``taskclf`` with the process arguments and exit with its code."""
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()  # type: ignore[unused-ignore,assignment]
    if sys.stderr is None:
        sys.stderr = _ClosedStderr()  # type: ignore[unused-ignore,assignment]
    try:
        # Ctrl-C raises KeyboardInterrupt again from here on (inside the try),
        # and one noted before now counts as if it came now.
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
        if _interrupts:
            raise KeyboardInterrupt
        from taskclf.cli.main import main
        from taskclf.cli.output import OutputUnavailable

        code = main()
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:  # e.g. a full disk behind a redirection
            raise OutputUnavailable(exc.errno, exc.strerror or str(exc)) from exc
    except KeyboardInterrupt:
        code = _say("interrupted; nothing more was done", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # e.g. `taskclf policy schema | head`: the reader left; that is not an error.
        _silence_stdout()
        code = 0
    except OSError as exc:  # OutputUnavailable: stdout closed or full; the work stays done
        if type(exc).__name__ != "OutputUnavailable":
            raise
        _silence_stdout()
        reason = exc.strerror or str(exc)
        code = _say(
            f"could not write the report to stdout ({reason}); "
            "whatever the command did before is done",
            1,
        )
    except Exception as exc:  # e.g. a Ctrl-C while a module was being imported
        from taskclf.cli.output import caused_by_interrupt

        if not caused_by_interrupt(exc):
            raise
        code = _say("interrupted; nothing more was done", EXIT_INTERRUPTED)
    # From here on Ctrl-C changes nothing: the outcome is decided.
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    sys.exit(code)


def _say(message: str, code: int) -> int:
    stream = sys.stderr
    if stream is not None:
        try:  # noqa: SIM105  (contextlib is not imported here: it costs start-up)
            print(f"taskclf: {message}", file=stream, flush=True)
        except (OSError, ValueError):
            pass
    return code


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
