"""How many examples per second a pipeline delivers: `measure_throughput`, and `python -m constrained_zoo.training.data`."""

import argparse
import time

from .pipeline import load_dataset
from .sources import list_datasets
from .split import SplitSettings, check_int

def measure_throughput(dataset, batches=None):
    """Examples per second that iterating `dataset` delivers.

    The clock includes starting the iterator (filling the shuffle buffer,
    as at the start of every training epoch), so a full pass is honest.

    Args:
        dataset: a `tf.data.Dataset` of `(images, labels)` batches.
        batches: how many batches to time; `None` (default) for a full pass.

    Returns:
        Examples per second, a float.

    Raises:
        ValueError: if `batches` < 1 or the dataset yields no batch.

    Example:

    >>> splits, spec = load_dataset("digits")
    >>> measure_throughput(splits.train) > 0
    True
    """
    batches = check_int(batches, "batches", 1, allow_none=True)
    examples = count = 0
    start = time.perf_counter()
    for images, _ in dataset:
        examples += int(images.shape[0])
        count += 1
        if batches is not None and count >= batches:
            break
    elapsed = time.perf_counter() - start
    if count == 0:
        raise ValueError("`dataset` yielded no batch: nothing to time.")
    return examples / elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m constrained_zoo.training.data",
        description="Load a dataset and time its input pipelines (examples/s, one full pass each).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--dataset", default="fashion_mnist",
                        help=f"one of {list_datasets()} or a TFDS name")
    parser.add_argument("--data-dir", default=None, help="where to look first for the data")
    parser.add_argument("--batch-size", type=int, default=128, help="examples per batch")
    parser.add_argument("--epochs", type=int, default=2, help="full passes timed over train")
    parser.add_argument("--augment", action="store_true", help="random translation on train")
    parser.add_argument("--flip", action="store_true", help="random horizontal flips on train")
    parser.add_argument("--pixel-shuffle", action="store_true",
                        help="one fixed permutation of the pixels, all splits")
    parser.add_argument("--shift", type=int, default=0, help="test-time shift in pixels")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    split = SplitSettings(args.dataset, pixel_shuffle=args.pixel_shuffle, shift=args.shift)
    splits, spec = load_dataset(split, data_dir=args.data_dir, batch_size=args.batch_size,
                                augment=args.augment, flip=args.flip)
    print(f"loaded in {time.perf_counter() - start:.1f} s: {spec}")
    for epoch in range(args.epochs):
        print(f"train epoch {epoch + 1}: {measure_throughput(splits.train):,.0f} examples/s")
    for split in ("validation", "test"):
        if getattr(splits, split) is not None:
            print(f"{split}: {measure_throughput(getattr(splits, split)):,.0f} examples/s")



