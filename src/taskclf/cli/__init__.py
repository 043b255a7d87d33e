"""The ``taskclf`` command line: a thin argparse layer over the library.

Each command runs as parse → act → report → exit code. :func:`build_parser`
(in :mod:`taskclf.cli.main`) builds the whole parser, so tests and the man-page
generator see exactly what users see.
"""
