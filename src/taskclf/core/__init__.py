"""Core library: schema loading, the inference-policy facade and its persistence."""
