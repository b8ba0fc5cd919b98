"""Errors a stage raises to tell its task shell how to treat a failure."""

from __future__ import annotations


class TransientError(RuntimeError):
    """A condition expected to clear by itself (e.g. no model activated yet): retry later."""
