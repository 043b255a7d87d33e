"""``python -m taskclf``: the same as the ``taskclf`` command."""

from taskclf.cli.main import entry_point

entry_point()
