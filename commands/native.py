"""`python -m commands.native`: compiles the analysis modules (classifiers/native.py) unless a build of
their present sources exists. The installer and the test command run it."""

import sys

from classifiers.native import main

if __name__ == "__main__":
    sys.exit(main())
