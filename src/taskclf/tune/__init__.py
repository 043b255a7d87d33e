"""Reject-threshold tuning on held-out predictions (the engine of ``taskclf policy tune-reject``).

- :mod:`taskclf.tune.scores`: read a JSON Lines or CSV scores file, row by row;
- :mod:`taskclf.tune.sweep`: sweep candidate thresholds in one pass and choose one;
- :mod:`taskclf.tune.report`: the sweep as text tables;
- :mod:`taskclf.tune.policy`: the inference policy binding the tuned thresholds.

Nothing is imported here, so importing one module does not load the others.
"""
