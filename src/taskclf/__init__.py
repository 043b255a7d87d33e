"""taskclf inference-policy toolkit.

The library lives in :mod:`taskclf.core` (schemas, the typed policy facade,
persistence); the ``taskclf`` command line lives in :mod:`taskclf.cli`.
"""

__version__ = "0.1.0"
