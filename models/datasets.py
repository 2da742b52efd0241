"""What each dataset's models take and return: input shape, value range, class names.

The zoo's published weights were trained on the arrays of
`training.sources.load_arrays`; this module says, without loading any data,
what those arrays look like, so that an input prepared elsewhere (a photo,
a numpy array) can be made to look the same (`models.preprocess`) and a
model's output read back as class names (`models.decode_predictions`).

- `fashion_mnist`: float32 images `(28, 28, 1)` in [0, 1] (the IDX file's
  uint8 pixels divided by 255), a light garment on a black background
  (0 is black), classes "T-shirt/top" ... "Ankle boot".
- `digits`: scikit-learn's handwritten digits, float32 `(8, 8, 1)` in
  [0, 1] (scikit-learn's 0..16 divided by 16), the ink light (high values)
  on a dark (0) background, classes "0" ... "9".
- `mnist1d`: MNIST-1D sequences, float32 `(40, 1)`, the `mnist1d`
  generator's values as they come (centered, about unit variance, roughly
  in [-6, 6]; no rescaling), classes "0" ... "9". Not images.

Every model of the zoo returns logits, one per class, in the order of
`class_names(dataset)`: apply a softmax for probabilities.
"""

import dataclasses

__all__ = ["DatasetInfo", "FASHION_MNIST_CLASS_NAMES", "class_names", "dataset_info", "list_datasets"]

FASHION_MNIST_CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
DIGIT_CLASS_NAMES = tuple(str(d) for d in range(10))


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What the models trained on one dataset take and return.

    Attributes:
        name: the dataset's name, e.g. `"fashion_mnist"`.
        kind: `"image"` (inputs `(height, width, channels)`) or `"sequence"`
            (inputs `(length, channels)`).
        input_shape: one example's shape, without the batch axis.
        value_range: `(low, high)` of the input values, or None where the
            values are not bounded (MNIST-1D's).
        background: the value of the background of an image (0.0: black;
            objects are lighter), or None for sequences.
        class_names: the classes, in the order of the model's outputs.
        outputs: what the models return: `"logits"` (before the softmax).
        description: what an input is, in words.
    """

    name: str
    kind: str
    input_shape: tuple
    value_range: object
    background: object
    class_names: tuple
    outputs: str
    description: str


_DATASETS = {
    "digits": DatasetInfo(
        "digits", "image", (8, 8, 1), (0.0, 1.0), 0.0, DIGIT_CLASS_NAMES, "logits",
        "scikit-learn's 8×8 handwritten digits: float32 (8, 8, 1) in [0, 1] (scikit-learn's 0..16 "
        "divided by 16), light ink on a black background",
    ),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist", "image", (28, 28, 1), (0.0, 1.0), 0.0, FASHION_MNIST_CLASS_NAMES, "logits",
        "Fashion-MNIST: float32 (28, 28, 1) in [0, 1] (uint8 pixels divided by 255), "
        "a light garment on a black background",
    ),
    "mnist1d": DatasetInfo(
        "mnist1d", "sequence", (40, 1), None, None, DIGIT_CLASS_NAMES, "logits",
        "MNIST-1D: float32 sequences (40, 1), the mnist1d generator's values "
        "(centered, about unit variance; not rescaled)",
    ),
}


def list_datasets():
    """The datasets whose inputs and classes this module knows, sorted.

    Example:

    >>> list_datasets()
    ['digits', 'fashion_mnist', 'mnist1d']
    """
    return sorted(_DATASETS)


def dataset_info(dataset):
    """What the models of `dataset` take and return, as a `DatasetInfo`.

    Args:
        dataset: a dataset name (`list_datasets()`), or a weights name such
            as `"fashion_mnist.frontier"` (the dataset before the dot).

    Returns:
        A `DatasetInfo`.

    Raises:
        ValueError: for an unknown dataset; the message lists the known ones.

    Example:

    >>> info = dataset_info("fashion_mnist")
    >>> info.input_shape, info.value_range, info.outputs
    ((28, 28, 1), (0.0, 1.0), 'logits')
    """
    name = dataset.split(".", 1)[0] if isinstance(dataset, str) else None
    if name not in _DATASETS:
        raise ValueError(
            f"Unknown dataset for argument `dataset`. Expected one of {list_datasets()} "
            f"(or a weights name such as 'fashion_mnist.frontier'). Received: dataset={dataset!r}"
        )
    return _DATASETS[name]


def class_names(dataset):
    """The class names of `dataset`, in the order of the models' outputs.

    Args:
        dataset: a dataset name (`list_datasets()`) or a weights name such
            as `"fashion_mnist.frontier"`.

    Returns:
        A tuple of strings: index `i` names the class of logit `i`.

    Raises:
        ValueError: for an unknown dataset; the message lists the known ones.

    Example:

    >>> class_names("fashion_mnist")[:3]
    ('T-shirt/top', 'Trouser', 'Pullover')
    >>> class_names("mnist1d")[7]
    '7'
    """
    return dataset_info(dataset).class_names
