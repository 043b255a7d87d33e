"""``python -m taskclf``: the same as the ``taskclf`` command."""

from taskclf.cli.entry import entry_point

entry_point()
