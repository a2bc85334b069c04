"""``python -m tsrnn``: the ``tsrnn`` command line (:mod:`tsrnn.cli`)."""

import sys

from tsrnn.cli import main

sys.exit(main())
