"""``python -m services.scenarios``: the demo (``make demo``)."""

import sys

from services.scenarios.demo import main

sys.exit(main())
