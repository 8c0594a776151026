"""`python -m gradbook.build` (`make figures`)."""

import sys

from gradbook.build.cli import main

try:
    sys.exit(main())
except KeyboardInterrupt:  # the runner has already stopped its chapters and dropped their staging
    print("\ninterrupted: committed figures untouched; rerun to finish", file=sys.stderr)
    sys.exit(130)
