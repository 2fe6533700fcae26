"""`python -m monitor` is the `tradewatch` command."""

import sys

from monitor.cli import main

sys.exit(main())
