"""The work: one subpackage per pipeline stage (scoring, enforcement, evidence, legal).

Each stage keeps its domain logic in plain modules that import neither Celery nor a database
session, and a thin ``task`` module beside them that loads by id, calls the logic, persists and
enqueues the next stage after commit.
"""
