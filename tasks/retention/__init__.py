"""Retention: how long each class of personal data is kept (reviewed data, ``data/policy.toml``),
what is on legal hold past its period, and the chunked deletion of what has expired."""
