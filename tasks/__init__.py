"""The work: one subpackage per pipeline stage (scoring, enforcement, evidence, legal).

Each stage's body is a plain function over explicit inputs (a session, a store, a clock) that
imports no Celery and returns an ``Outcome``: what it decided, including the typed messages to
send next. Beside it, a thin ``task`` module validates the message, lets ``tasks.outbox`` run the
body in one transaction and publishes the follow-ups after commit. ``tasks.offline`` holds the
tooling (simulators, training, offline scoring) that calls the same code.
"""
