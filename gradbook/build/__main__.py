"""`python -m gradbook.build` (`make figures`)."""

import sys

from gradbook.build.cli import main

sys.exit(main())
