"""`python -m training.data`: how many examples per second each pipeline delivers."""

import sys

from .pipeline import main

if __name__ == "__main__":
    sys.exit(main())
