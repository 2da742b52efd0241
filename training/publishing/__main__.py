"""`python -m constrained_zoo.training.publishing RUN_DIR` (or `czoo-publish RUN_DIR`): publish a finished run's weights.

The command is `publish.main` (training/publishing/publish.py).
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import sys

from .publish import main

if __name__ == "__main__":
    sys.exit(main())
