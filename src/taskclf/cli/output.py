"""The one error that means "the report could not be written", shared by the CLI's layers."""

from __future__ import annotations

__all__ = ["OutputUnavailable"]


class OutputUnavailable(OSError):
    """Standard output is closed, or writing to it failed (a full disk, say).

    Not the command's failure: what it did is done. The entry point says, in
    one line on stderr, that the report could not be written.
    """
