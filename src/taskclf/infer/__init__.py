"""Inference resolution: which model, calibrator and threshold inference uses."""
