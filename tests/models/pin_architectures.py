"""Writes the zoo's default architectures as JSON: the fixture that pins them.

    KERAS_BACKEND=tensorflow python -m tests.models.pin_architectures > tests/models/fixtures/architectures.json

Run once, on 2026-12-01, before the builders took overrides (issue #12):
for every registered model and every dataset it is meant for, its total and
trainable parameter counts and every layer's (name, class, parameter count).
The published tables and weights depend on these; `test_architectures.py`
checks that the default of every model still builds exactly this. Re-run it
only for a deliberate change of a default architecture (and say so). A
newly registered model is pinned by the same command: its entry is added,
and the diff must show no other change.
"""

import json
import math
import sys

from constrained_zoo.datasets import dataset_info, list_datasets

# Input shapes of the datasets models are meant for (without the batch axis), from the zoo's table of datasets.
DATASET_SHAPES = {name: dataset_info(name).input_shape for name in list_datasets()}


def architecture(model):
    """A model's fingerprint: parameter counts and its layers, in order."""
    return {
        "params": int(model.count_params()),
        "trainable_params": int(sum(math.prod(w.shape) for w in model.trainable_weights)),
        "layers": [[layer.name, type(layer).__name__, int(layer.count_params())] for layer in model.layers],
    }


def architectures():
    from constrained_zoo import models

    return {
        name: {
            dataset: architecture(models.create_model(name, input_shape=DATASET_SHAPES[dataset]))
            for dataset in models.model_entry(name).datasets
        }
        for name in models.list_models()
    }


if __name__ == "__main__":
    json.dump(architectures(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
