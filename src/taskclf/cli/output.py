"""What ends a run without being the command's failure, shared by the CLI's layers.

A report that could not be written (:class:`OutputUnavailable`), and a Ctrl-C
that Python delivered wrapped in another exception (:func:`caused_by_interrupt`).
"""

from __future__ import annotations

__all__ = ["OutputUnavailable", "caused_by_interrupt"]


class OutputUnavailable(OSError):
    """Standard output is closed, or writing to it failed (a full disk, say).

    Not the command's failure: what it did is done. The entry point says, in
    one line on stderr, that the report could not be written.
    """


def caused_by_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was raised because of, a Ctrl-C (:class:`KeyboardInterrupt`).

    Python 3.11 wraps an exception raised while a class is created in a
    ``RuntimeError`` ("Error calling __set_name__ ..."): a Ctrl-C that lands
    while a module defines a dataclass arrives so. The chain of causes and
    contexts tells it apart from a bug.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
