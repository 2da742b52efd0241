"""Evaluate a run's SavedModel as a server would: TensorFlow alone.

    python -m training.evaluate runs/lenet5-fashion_mnist-seed0

loads `RUN_DIR/saved_model` with `tf.saved_model.load` (no Keras, none of
this project's layers or models: the graph is self-contained), rebuilds the
run's test split from `config.json`, and prints the test accuracy next to
the one in `results.json`. Exits 1 if they differ.
"""

import argparse
import json
import os
import sys

import numpy as np


def evaluate_saved_model(run_dir, batch_size=None):
    """Test accuracy of `run_dir/saved_model` on the run's own test split.

    Args:
        run_dir: a directory written by `python -m training.train`.
        batch_size: evaluation batch size (default: the run's).

    Returns:
        `(accuracy, num_examples)`.
    """
    import tensorflow as tf

    from training.data import load_dataset

    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        args = json.load(f)["args"]
    served = tf.saved_model.load(os.path.join(run_dir, "saved_model"))
    splits, _ = load_dataset(
        args["dataset"],
        data_dir=args.get("data_dir"),
        batch_size=batch_size or args["batch_size"],
        validation_fraction=args["validation_fraction"],
        seed=args["seed"],
        pixel_shuffle=args["pixel_shuffle"],
        shift=args["shift"],
    )
    correct = total = 0
    for images, labels in splits.test:
        logits = served.serve(images)  # (B, num_classes)
        correct += int(np.sum(np.argmax(logits.numpy(), axis=-1) == labels.numpy()))
        total += int(labels.shape[0])
    return correct / total, total


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m training.evaluate",
        description="Test accuracy of a run's SavedModel, loaded with tf.saved_model.load alone.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("run_dir", help="a run directory written by python -m training.train")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the run's batch size")
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
