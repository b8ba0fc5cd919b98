"""Account scoring: features, the classifier, decisions."""
