"""Account scoring: signals, features, the classifier, decisions."""
