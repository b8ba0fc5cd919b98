"""SQLAlchemy models, per-process engines and sessions."""
