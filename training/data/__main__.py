"""`python -m constrained_zoo.training.data`: the dataset's spec and how many examples per second each pipeline delivers."""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import sys

from .throughput import main

if __name__ == "__main__":
    sys.exit(main())
