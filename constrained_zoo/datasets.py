"""The one table of dataset facts: what each dataset the zoo knows is, and what its models take and return.

Every fact about a dataset the zoo knows by name lives here, one
`DatasetInfo` a dataset, and nowhere else: its kind and input shape, its
value range, its class names, where its data come from, whether weights are
published for it, and which models it is meant for by default (those of its
rank). `constrained_zoo.models` (`models.dataset_info`, `models.class_names`,
the registry, the weights) and `constrained_zoo.training` (the data sources,
the sweep) read this table instead of keeping their own.

The published weights were trained on the arrays of
`training.data.load_arrays`; this table says, without loading any data,
what those arrays look like, so that an input prepared elsewhere (a photo,
a numpy array) can be made to look the same (`models.preprocess`) and a
model's output read back as class names (`models.decode_predictions`):

- `fashion_mnist`: float32 images `(28, 28, 1)` in [0, 1] (the IDX file's
  uint8 pixels divided by 255), a light garment on a black background
  (0 is black), classes "T-shirt/top" ... "Ankle boot".
- `mnist1d`: MNIST-1D sequences, float32 `(40, 1)`, the `mnist1d`
  generator's values as they come (centered, about unit variance, roughly
  in [-6, 6]; no rescaling), classes "0" ... "9". Not images.
- `digits`: scikit-learn's handwritten digits, float32 `(8, 8, 1)` in
  [0, 1] (scikit-learn's 0..16 divided by 16), the ink light (high values)
  on a dark (0) background, classes "0" ... "9".

Every model of the zoo returns logits, one per class, in the order of
`class_names(dataset)`: apply a softmax for probabilities.

This module imports nothing but the standard library (as
`constrained_zoo.arguments`), so that the data pipeline reads it without
loading Keras or the zoo's models.

Example:

>>> dataset_info("mnist1d").rank, list_datasets(rank=2)
(1, ['digits', 'fashion_mnist'])
"""

import dataclasses

__all__ = ["DatasetInfo", "FASHION_MNIST_CLASS_NAMES", "class_names", "dataset_info", "list_datasets",
           "meant_for_rank"]

FASHION_MNIST_CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
DIGIT_CLASS_NAMES = tuple(str(d) for d in range(10))
#: The kinds of input, and the rank (number of spatial axes) of each.
KIND_RANKS = {"image": 2, "sequence": 1}
#: Where a dataset's data come from: files found in a folder (or TFDS), made by a generator, or a library's copy.
SOURCES = ("files", "generated", "scikit-learn")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What one dataset is, and what the models trained on it take and return.

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
        source: where the data come from: `"files"` (found in a folder, or
            TFDS's copy), `"generated"` (by a package's generator, reading
            no folder) or `"scikit-learn"` (shipped with it).
        summary: the dataset in one line: its size and where it comes from.
        published: whether the zoo publishes weights trained on it.

    Example:

    >>> dataset_info("digits").source, dataset_info("digits").published
    ('scikit-learn', False)
    """

    name: str
    kind: str
    input_shape: tuple
    value_range: object
    background: object
    class_names: tuple
    outputs: str
    description: str
    source: str
    summary: str
    published: bool

    @property
    def rank(self):
        """The number of spatial axes of an input: 2 for images, 1 for sequences."""
        return KIND_RANKS[self.kind]


# In the order the zoo presents them: a model meant for images is meant for Fashion-MNIST, then digits.
_DATASETS = {info.name: info for info in (
    DatasetInfo(
        name="fashion_mnist", kind="image", input_shape=(28, 28, 1), value_range=(0.0, 1.0), background=0.0,
        class_names=FASHION_MNIST_CLASS_NAMES, outputs="logits",
        description="Fashion-MNIST: float32 (28, 28, 1) in [0, 1] (uint8 pixels divided by 255), "
                    "a light garment on a black background",
        source="files", summary="Fashion-MNIST, 28×28 grayscale, 60,000 train / 10,000 test (the default)",
        published=True,
    ),
    DatasetInfo(
        name="mnist1d", kind="sequence", input_shape=(40, 1), value_range=None, background=None,
        class_names=DIGIT_CLASS_NAMES, outputs="logits",
        description="MNIST-1D: float32 sequences (40, 1), the mnist1d generator's values "
                    "(centered, about unit variance; not rescaled)",
        source="generated", summary="MNIST-1D (Greydanus 2020), length-40 sequences, 4,000 train / 1,000 test (generated)",
        published=True,
    ),
    DatasetInfo(
        name="digits", kind="image", input_shape=(8, 8, 1), value_range=(0.0, 1.0), background=0.0,
        class_names=DIGIT_CLASS_NAMES, outputs="logits",
        description="scikit-learn's 8×8 handwritten digits: float32 (8, 8, 1) in [0, 1] (scikit-learn's 0..16 "
                    "divided by 16), light ink on a black background",
        source="scikit-learn", summary="scikit-learn's 8×8 handwritten digits, 1,437 train / 360 test (shipped)",
        published=False,
    ),
)}


def list_datasets(rank=None, published=None):
    """The datasets this table knows, sorted; optionally those of one rank, or with(out) published weights.

    Args:
        rank: None for every rank, else 2 (images) or 1 (sequences).
        published: None for all, True for those with published weights,
            False for the others.

    Example:

    >>> list_datasets()
    ['digits', 'fashion_mnist', 'mnist1d']
    >>> list_datasets(published=True)
    ['fashion_mnist', 'mnist1d']
    """
    return sorted(name for name, info in _DATASETS.items()
                  if (rank is None or info.rank == rank) and (published is None or info.published == published))


def meant_for_rank(rank):
    """The datasets whose inputs have `rank` spatial axes, in the zoo's order: a model's default datasets.

    Example:

    >>> meant_for_rank(2), meant_for_rank(1)
    (('fashion_mnist', 'digits'), ('mnist1d',))
    """
    if rank not in KIND_RANKS.values():
        raise ValueError(f"Invalid value for argument `rank`. Expected one of "
                         f"{sorted(set(KIND_RANKS.values()))}. Received: rank={rank!r}")
    return tuple(name for name, info in _DATASETS.items() if info.rank == rank)


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
