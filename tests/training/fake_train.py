"""A stand-in training process for `fake_sweep.py`: `python -m tests.training.fake_train RUN_DIR EPOCHS BEHAVIOUR`.

It stops as `training.train` does (a stop signal, or its sweep's death:
`signals.stop_with_parent`), exiting 128 + the signal.
"""

import json
import os
import signal
import sys
import time

from constrained_zoo.training.run import signals


def main(run_dir, epochs, behaviour):
    if behaviour == "deaf":
        for signum in signals.STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        while True:
            time.sleep(1)
    try:
        with signals.stop_on_signals():
            signals.stop_with_parent()
            print(f"fake trainer {os.getpid()}: {behaviour}", flush=True)
            while behaviour in ("train", "silent"):
                signals.raise_if_stopped()
                if behaviour == "train":
                    with open(os.path.join(run_dir, "train.log"), "a", encoding="utf-8") as f:
                        f.write("a batch\n")
                time.sleep(0.1)
            with open(os.path.join(run_dir, "results.json"), "w", encoding="utf-8") as f:
                # what a protocol's bookkeeping reads (`sweeps.results.collect`): the run is RUNS/MODEL/seedS
                json.dump({"epochs": int(epochs), "model": os.path.basename(os.path.dirname(run_dir)),
                           "seed": int(os.path.basename(run_dir).removeprefix("seed")), "params": 1}, f)
            print("test accuracy: fake", flush=True)
    except signals.StopRequested as stop:
        print(f"fake trainer {os.getpid()}: stopped by {stop.signum}", flush=True)
        return stop.exit_status
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
