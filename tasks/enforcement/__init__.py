"""Enforcement: idempotent, explained and reversible actions on scored accounts."""
