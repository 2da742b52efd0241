"""The protocol driver with stand-in sweeps, for its side-by-side tests.

    python -m tests.training.fake_protocol PROTOCOL JOBS

The driver is the real one (`sample_efficiency.train_protocol`,
`sweeps.side_by_side`: its threads, signals and sweep processes); each
sweep is `fake_sweep.py` (the real sweep, with the stand-in trainers that
`FAKE_TRAINERS` describes), as a child process or, with one job, in the
driver's own process; the models keep their widths (no Keras).
With `FAKE_SWEEP_LOG`, each sweep appends "start PID" and "end PID" lines
to that file, so that a test can see how many ran at once.
"""

import sys

from constrained_zoo.training import sample_efficiency as driver
from constrained_zoo.training.sweeps import protocol as protocols
from constrained_zoo.training.sweeps import side_by_side
from tests.training import fake_sweep


def main(path, jobs):
    fake_sweep.install()  # for the sweeps that run in this process (one job)
    side_by_side.SWEEP_COMMAND = (sys.executable, "-m", "tests.training.fake_sweep")
    driver.protocol_widths = lambda protocol: {name: None for name in protocol.models}
    protocol = protocols.load(path)
    return driver.train_protocol(protocol, protocol.conditions, int(jobs))


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
