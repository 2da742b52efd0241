"""What each dataset's models take and return: input shape, value range, class names.

The facts are the zoo's one table of datasets, `constrained_zoo.datasets`
(kept apart from this package so that the data pipeline reads it without
loading Keras); this module is their public name among the models:
`models.dataset_info`, `models.class_names`, `models.datasets.list_datasets`.

Every model of the zoo returns logits, one per class, in the order of
`class_names(dataset)`: apply a softmax for probabilities.

Example:

>>> dataset_info("fashion_mnist").input_shape, class_names("mnist1d")[7]
((28, 28, 1), '7')
"""

from constrained_zoo.datasets import (
    FASHION_MNIST_CLASS_NAMES,
    DatasetInfo,
    class_names,
    dataset_info,
    list_datasets,
    meant_for_rank,
)

__all__ = ["DatasetInfo", "FASHION_MNIST_CLASS_NAMES", "class_names", "dataset_info", "list_datasets",
           "meant_for_rank"]
