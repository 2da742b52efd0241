"""Logits of every shipped weight file, on the backend this process runs.

    KERAS_BACKEND=torch python -m tests.models.backend_logits INPUTS.npz OUT.npz [FILE ...]

INPUTS.npz holds one batch per dataset (`fashion_mnist`, `mnist1d`); OUT.npz
gets one array per manifest entry (or per entry whose weights file, as the
manifest names it, is among the FILEs), keyed by `key(entry)`, written atomically
(a temporary file, then `os.replace`). `tests/models/test_any_backend.py`
runs it under each backend and compares the files.
"""

import os
import sys

import numpy as np


def key(entry):
    """The entry's name in OUT.npz: its weights file, which is unique in the manifest."""
    return entry["file"].replace("/", "__")


def main(argv=None):
    inputs_path, out_path, *files = argv if argv is not None else sys.argv[1:]
    import keras

    from constrained_zoo import models
    from constrained_zoo.models import weights

    batches = np.load(inputs_path)
    logits = {}
    for entry in weights.published_weights():
        if files and entry["file"] not in files:
            continue
        model = models.create_model(entry["model"], weights=weights.weights_name(entry), **entry["overrides"])
        # predict_on_batch: one compiled function per model on JAX (eager JAX compiles every op)
        logits[key(entry)] = np.asarray(model.predict_on_batch(batches[entry["dataset"]]))
    logits["backend"] = np.array(keras.backend.backend())
    tmp = f"{out_path}.tmp.npz"
    np.savez(tmp, **logits)
    os.replace(tmp, out_path)


if __name__ == "__main__":
    main()
