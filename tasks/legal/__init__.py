"""Legal: which companies are eligible for action, and the notices that wait for a human."""
