"""Reject-threshold tuning on held-out predictions."""
