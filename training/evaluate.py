"""Re-check a test accuracy: a run's SavedModel, or a published model's shipped weights.

    python -m constrained_zoo.training.evaluate runs/lenet5-fashion_mnist-seed0
    python -m constrained_zoo.training.evaluate --model cnn_bn_50k --weights fashion_mnist

The first loads `RUN_DIR/saved_model` with `tf.saved_model.load` (no Keras,
none of this project's layers or models: the graph is self-contained),
rebuilds the run's test split from `config.json`, and prints the test
accuracy next to the one in `results.json`; it exits 1 if they differ.

The second builds `models.create_model(NAME, weights=DATASET)` (sha256 and
architecture checked), evaluates it on the test split the manifest records
(same batch size, float32, deterministic ops) and exits 1 unless the count of
correct answers is exactly the manifest's. `--weights-dir` (or
`ZOO_WEIGHTS_DIR`) reads another weights root than the package's.
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import argparse
import contextlib
import json
import os
import sys

import numpy as np


def evaluate_saved_model(run_dir, batch_size=None):
    """Test accuracy of `run_dir/saved_model` on the run's own test split.

    Args:
        run_dir: a directory written by `python -m constrained_zoo.training.train`.
        batch_size: evaluation batch size (default: the run's).

    Returns:
        `(accuracy, num_examples)`.
    """
    import tensorflow as tf

    from .data import SplitSettings, load_dataset

    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        args = json.load(f)["args"]
    served = tf.saved_model.load(os.path.join(run_dir, "saved_model"))
    splits, _ = load_dataset(SplitSettings.from_config(args), data_dir=args.get("data_dir"),
                             batch_size=batch_size or args["batch_size"])
    correct = total = 0
    for images, labels in splits.test:
        logits = served.serve(images)  # (B, num_classes)
        correct += int(np.sum(np.argmax(logits.numpy(), axis=-1) == labels.numpy()))
        total += int(labels.shape[0])
    return correct / total, total


def count_correct(model, evaluation, data_dir=None):
    """Correct answers of a Keras `model` on the test split `evaluation` describes.

    Deterministic: the test split is fixed by `evaluation` (dataset,
    validation fraction, seed, pixel shuffle, shift), batches of
    `evaluation["batch_size"]`, float32 inputs, inference mode, on the CPU
    (TensorFlow backend: a GPU's kernels round differently); with
    TensorFlow's op determinism on (`python -m constrained_zoo.training.evaluate` turns it
    on) the same weights give the same count.

    Args:
        model: a Keras model taking the dataset's inputs.
        evaluation: a manifest entry's `"evaluation"` dict.
        data_dir: where to look first for the data files.

    Returns:
        `(correct, num_examples)`, two ints.

    Example:

    >>> count_correct(models.create_model("cnn_bn_50k", weights="fashion_mnist"), entry["evaluation"])
    (9234, 10000)
    """
    import keras

    from .data import SplitSettings, load_dataset

    splits, _ = load_dataset(SplitSettings.from_config(evaluation), data_dir=data_dir,
                             batch_size=evaluation["batch_size"])
    device = contextlib.nullcontext()
    if keras.backend.backend() == "tensorflow":  # one device's kernels, wherever it runs (a GPU's differ)
        import tensorflow as tf

        device = tf.device("/CPU:0")
    correct = total = 0
    with device:
        for images, labels in splits.test:
            logits = keras.ops.convert_to_numpy(model(keras.ops.cast(images, "float32"), training=False))  # (B, classes)
            correct += int(np.sum(np.argmax(logits, axis=-1) == np.asarray(labels)))
            total += int(labels.shape[0])
    return correct, total


def evaluate_published(name, dataset, weights_dir=None, data_dir=None):
    """Re-computes a published model's test accuracy from its shipped weights.

    Args:
        name: a model name, e.g. `"cnn_bn_50k"`.
        dataset: the dataset of its weights, e.g. `"fashion_mnist"`.
        weights_dir: the weights root (default: `models.weights_dir()`).
        data_dir: where to look first for the data files.

    Returns:
        `(correct, total, entry)`: the counts and the manifest's entry.

    Raises:
        models.WeightsError: the weights cannot be loaded (named).
    """
    from constrained_zoo import models
    from constrained_zoo.models import weights

    entry = weights.find_published(name, dataset, weights_dir)
    model = models.create_model(name, weights=dataset, weights_dir=weights_dir)
    correct, total = count_correct(model, entry["evaluation"], data_dir=data_dir)
    return correct, total, entry


def _main_run_dir(args):
    for name in ("config.json", "saved_model", "results.json"):
        if not os.path.exists(os.path.join(args.run_dir, name)):
            print(f"error: {args.run_dir!r} has no {name}: is it a finished run of training.train?", file=sys.stderr)
            return 2
    accuracy, total = evaluate_saved_model(args.run_dir, args.batch_size)
    with open(os.path.join(args.run_dir, "results.json"), encoding="utf-8") as f:
        expected = json.load(f)["test_accuracy"]
    # results.json holds Keras's float32 metric: compare at its precision.
    match = abs(accuracy - expected) <= 0.5 / total
    print(f"SavedModel test accuracy {accuracy:.4f} on {total:,} examples; results.json says {expected:.4f}: "
          f"{'match' if match else 'MISMATCH'}")
    return 0 if match else 1


def check_published(name, dataset, weights_dir=None, data_dir=None):
    """Compares a published model's re-computed test accuracy with its manifest entry.

    Returns:
        `(exit_code, message)`: 0 and a line saying "match" when the count
        of correct answers is exactly the manifest's, 1 and "MISMATCH"
        otherwise, 2 and the error when the weights cannot be loaded.

    Example:

    >>> check_published("cnn_bn_50k", "fashion_mnist")[0]
    0
    """
    from constrained_zoo import models

    try:
        correct, total, entry = evaluate_published(name, dataset, weights_dir, data_dir)
    except ValueError as error:  # an unknown model, dataset or pair, a corrupted file, another architecture
        return 2, f"error: {error}"
    expected = (entry["test_correct"], entry["num_test"])
    match = (correct, total) == expected
    return (0 if match else 1), (
        f"{name} with the {dataset!r} weights ({models.weights_dir(weights_dir)}): test accuracy "
        f"{correct / total:.4f} ({correct:,}/{total:,}); the manifest says {entry['test_accuracy']:.4f} "
        f"({expected[0]:,}/{expected[1]:,}): {'match' if match else 'MISMATCH'}. Trained by: {entry['command']}"
    )


def _main_published(args):
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    code, message = check_published(args.model, args.weights, args.weights_dir, args.data_dir)
    print(message, file=sys.stderr if code == 2 else sys.stdout)
    return code


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m constrained_zoo.training.evaluate",
        description="Test accuracy of a run's SavedModel (loaded with tf.saved_model.load alone), or of a "
                    "published model's shipped weights against the manifest.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="Examples: python -m constrained_zoo.training.evaluate runs/lenet5; "
               "python -m constrained_zoo.training.evaluate --model cnn_bn_50k --weights fashion_mnist",
    )
    parser.add_argument("run_dir", nargs="?", default=None, help="a run directory written by python -m constrained_zoo.training.train")
    parser.add_argument("--batch-size", type=int, default=None, help="with RUN_DIR: default the run's batch size")
    parser.add_argument("--model", default=None, help="a published model's name (with --weights)")
    parser.add_argument("--weights", default=None,
                        help="the name of its published weights: the dataset (fashion_mnist) or dataset.tag "
                             "(fashion_mnist.frontier)")
    parser.add_argument("--weights-dir", default=None,
                        help="the weights root (default: $ZOO_WEIGHTS_DIR, else the package's models/weights)")
    parser.add_argument("--data-dir", default=None, help="with --weights: where to look first for the data files")
    args = parser.parse_args(argv)
    if args.run_dir is not None:
        if args.model or args.weights:
            parser.error("pass RUN_DIR, or --model and --weights, not both")
        return _main_run_dir(args)
    if not (args.model and args.weights):
        parser.error(f"pass RUN_DIR, or both --model and --weights (received --model {args.model!r}, "
                     f"--weights {args.weights!r})")
    return _main_published(args)


if __name__ == "__main__":
    sys.exit(main())
