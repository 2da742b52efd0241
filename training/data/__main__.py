"""`python -m constrained_zoo.training.data`: the dataset's spec and how many examples per second each pipeline delivers."""

import sys

from .throughput import main

if __name__ == "__main__":
    sys.exit(main())
