"""Fault trials: real processes on loopback, faults injected while work is in flight, and an
account of every effect that was lost or doubled (``bulkguard chaos``)."""
