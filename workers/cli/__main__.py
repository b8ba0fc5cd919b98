"""``python -m workers.cli``: the ``bulkguard`` command, run from a checkout."""

import sys

from workers.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
