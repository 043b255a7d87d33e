"""JSON Schemas of taskclf, shipped as package data (``taskclf.schemas``).

The ``.json`` files in this folder are the single source of truth for what a
valid policy, bundle metadata, calibrator store and active pointer look like.
"""
