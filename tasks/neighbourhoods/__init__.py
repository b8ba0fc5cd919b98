"""Neighbourhood features: what is counted and the windows that make it recent (``rules``), kept
in memory for training (``memory``) and in Redis for the workers (``redis_store``)."""
