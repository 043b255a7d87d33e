"""The console script's entry point: Ctrl-C, a closed reader and a closed stdout, handled.

This module imports nothing but :mod:`os` and :mod:`sys` (both loaded with the
interpreter), and imports the command line itself inside :func:`entry_point`,
so that Ctrl-C at any moment once taskclf's code runs ends with one line and
exit code 130, never a traceback. (Ctrl-C in the few milliseconds before
that, while the interpreter itself and pip's script wrapper start, is
Python's own to report.)
"""

from __future__ import annotations

import contextlib
import os
import sys

__all__ = ["EXIT_INTERRUPTED", "OutputUnavailable", "entry_point"]

EXIT_INTERRUPTED = 130
"""The shell's code for "stopped by Ctrl-C" (128 + SIGINT)."""


class OutputUnavailable(OSError):
    """Standard output is closed, or writing to it failed (a full disk, say)."""


class _ClosedStdout:
    """Stands in for ``sys.stdout`` when the process started with it closed (``>&-``)."""

    def write(self, text: str) -> int:
        raise OutputUnavailable(9, "standard output is closed")

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False


def entry_point() -> None:
    """Run ``taskclf`` with the process arguments and exit with its code."""
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()  # type: ignore[unused-ignore,assignment]
    try:
        from taskclf.cli.main import main

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
    except OutputUnavailable as exc:  # stdout closed or full: the work done stays done
        _silence_stdout()
        reason = exc.strerror or str(exc)
        code = _say(
            f"could not write the report to stdout ({reason}); "
            "whatever the command did before is done",
            1,
        )
    # From here on Ctrl-C changes nothing: the outcome is decided.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


def _say(message: str, code: int) -> int:
    stream = sys.stderr
    if stream is not None:
        with contextlib.suppress(OSError, ValueError):
            print(f"taskclf: {message}", file=stream, flush=True)
    return code


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
