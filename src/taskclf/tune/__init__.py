"""Reject-threshold tuning on held-out predictions (the engine of ``taskclf policy tune-reject``).

- :mod:`taskclf.tune.scores`: read a JSON Lines, CSV or Parquet scores file, row by row
  (calibrating raw probabilities when asked);
- :mod:`taskclf.tune.sweep`: sweep candidate thresholds in one pass and choose one (the
  best within reject-rate bounds, or the certified one for a target accuracy);
- :mod:`taskclf.tune.report`: the sweep as text tables;
- :mod:`taskclf.tune.policy`: the inference policy binding the tuned thresholds.

Nothing is imported here, so importing one module does not load the others.
"""
