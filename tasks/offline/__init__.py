"""Offline tooling, apart from the online stages: simulators, training and model cards, offline
scoring of files. Each calls the same code the workers run (features, neighbourhood rules,
scorers), never a copy."""
