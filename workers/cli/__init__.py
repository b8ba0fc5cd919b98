"""The operator CLI (``bulkguard``): one module per command group, assembled in ``main``."""
