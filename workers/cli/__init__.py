"""The operator CLI (``bulkguard``): one module per command group, assembled in ``main``.

Commands call the same stage bodies through the same unit of work as the workers
(``workers.cli.commit``); none holds domain rules of its own.
"""
