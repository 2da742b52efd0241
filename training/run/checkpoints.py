"""Checkpoints that survive SIGKILL at any instant, and resuming from them.

After every epoch the model (weights and optimizer state) is saved to
`checkpoints/epoch-NNNN.keras` under a temporary name and renamed; only then
is `checkpoints/checkpoint.json` (the epoch reached, the history so far, the
training time) replaced, atomically, to point at it; only then is the
previous checkpoint deleted. A kill at any point leaves `checkpoint.json`
naming a complete file; what else it leaves (a half-written checkpoint, the
one before the last) is deleted when the run resumes. With
`--checkpoint-seconds S` an epoch's checkpoint is saved only once S
seconds have passed since the last one (and always after the last epoch
and on a stop request): a kill then loses at most S seconds, and a stop
request while an epoch is put off lets the epoch in progress finish, so
that it is saved before the run stops (`signals.stop_callback`). (Keras's
`BackupAndRestore` overwrites its backup in place: a kill during the write
leaves an unreadable file and no resume.)
"""

import csv
import io
import json
import os
import time

import keras

from constrained_zoo.atomic import atomic_path, remove_leftovers, write_json

from . import signals

STATE_FILE = "checkpoint.json"


def load_state(directory):
    """The last complete checkpoint's state, or None if there is none."""
    path = os.path.join(directory, STATE_FILE)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        state = json.load(f)
    model_path = os.path.join(directory, state["file"])
    if not os.path.exists(model_path):
        raise FileNotFoundError(
            f"{path} names the checkpoint {model_path}, which does not exist: "
            f"the run directory was modified by hand. Start over without --resume."
        )
    state["path"] = model_path
    return state


class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves the whole model after every epoch (or every `min_seconds`), atomically; see module doc.

    Args:
        directory: where the checkpoints and `checkpoint.json` live.
        state: the state to continue (from `load_state`), or None.
        write: False on the non-chief workers of a multi-worker run, which
            take part in the save but write to a scratch directory.
        min_seconds: save after an epoch only once this many seconds have
            passed since the last save, and always after `last_epoch` and
            when a stop was requested (SIGINT, SIGTERM). 0: after every
            epoch. A run of hundreds of short epochs spends a large part of
            its time saving otherwise; a kill then loses at most this much.
        last_epoch: the run's last epoch (1-based), always saved.
    """

    def __init__(self, directory, state=None, write=True, min_seconds=0.0, last_epoch=None):
        super().__init__()
        self.directory = directory
        self.write = write
        self.min_seconds, self.last_epoch = min_seconds, last_epoch
        self._saved_at = time.monotonic()
        self.unsaved = 0  # epochs completed since the last save
        self.state = dict(state or {"epoch": 0, "history": [], "train_seconds": 0.0})
        self.state.pop("path", None)
        os.makedirs(directory, exist_ok=True)
        if write:  # what a kill left: a half-written checkpoint, or the one before the last
            remove_leftovers(directory)
            for name in os.listdir(directory):
                if name.startswith("epoch-") and name.endswith(".keras") and name != self.state.get("file"):
                    os.remove(os.path.join(directory, name))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.state["train_seconds"] += time.perf_counter() - self._epoch_start
        self.state["epoch"] = epoch + 1
        self.state["history"].append({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}})
        if not self._due(epoch + 1):
            self.unsaved += 1
            return
        self._save()

    def save_put_off(self):
        """Saves the last completed epoch if its checkpoint was put off; returns whether it saved.

        `signals.stop_callback` calls it at the end of an epoch when a stop
        request came after `on_epoch_end` had put the epoch off (a signal
        during the callbacks between the two).
        """
        if not self.unsaved:
            return False
        self._save()
        return True

    def _save(self):
        """Saves the model as the checkpoint of the last completed epoch (`state["epoch"]`)."""
        self._saved_at, self.unsaved = time.monotonic(), 0
        name = f"epoch-{self.state['epoch']:04d}.keras"
        with atomic_path(os.path.join(self.directory, name), suffix=".keras") as tmp:
            self.model.save(tmp)
        previous = self.state.get("file")
        self.state["file"] = name
        if self.write:
            write_json(os.path.join(self.directory, STATE_FILE), self.state)
        if previous and previous != name:
            try:
                os.remove(os.path.join(self.directory, previous))
            except FileNotFoundError:
                pass


    def _due(self, epoch):
        """Whether the checkpoint of `epoch` (1-based) is saved: see `min_seconds`."""
        return (self.min_seconds <= 0 or epoch == self.last_epoch or signals.requested()
                or time.monotonic() - self._saved_at >= self.min_seconds)


def history_csv(history):
    """The per-epoch logs as CSV text, one row per completed epoch."""
    keys = sorted({k for row in history for k in row} - {"epoch"})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for row in history:
        writer.writerow([row["epoch"], *(row.get(k, "") for k in keys)])
    return buffer.getvalue()
