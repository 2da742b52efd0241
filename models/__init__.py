"""The zoo: small reference models, one family per constraint of D2L §7.1.

    >>> from constrained_zoo import models
    >>> models.list_models("cnn_*")[:3]
    ['cnn_base', 'cnn_bn_10k', 'cnn_bn_50k']
    >>> model = models.create_model("lenet5", input_shape=(28, 28, 1), num_classes=10)
    >>> wider = models.create_model("cnn_small", delta=2, padding_mode="circular", width=2)
    >>> models.count_params("cnn_small", width=2)
    20490
    >>> trained = models.create_model("cnn_bn_50k", weights="fashion_mnist")  # once published

Predictions on real images, as `keras.applications` does them:

    >>> x = models.preprocess(["shoe.png", "boot.jpg"], "fashion_mnist")  # (2, 28, 28, 1)
    >>> models.decode_predictions(trained(x, training=False), "fashion_mnist", top=3)
    >>> models.class_names("fashion_mnist")[9]
    'Ankle boot'

or from a shell: `czoo-predict --model cnn_bn_50k shoe.png boot.jpg`.

Families: "mlp" (no spatial structure), "fully_connected" (eq. 7.1.1),
"locally_connected" (locality without sharing), "low_rank_locally_connected"
(locality, each position's kernel a combination of R shared kernels: between
no sharing and the convolution), "shared_conv" (sharing and
locality per channel, eq. 7.1.3; `sharedconv_global` without locality,
eq. 7.1.2), "multi_channel_conv" (eq. 7.1.7). Models whose name has "1d"
take sequences (MNIST-1D); the others take images. Each family's knobs
(`model_entry(name).options`) are `create_model`'s overrides.

Published weights: `create_model(name, weights=...)` loads them, checked
(`models.weights`); `models.manifest` is the manifest's one reader and
writer and names its files (publishing and evaluating use both).
"""

if __name__ != "constrained_zoo.models":  # e.g. `import models` from the repository's root
    raise ImportError(
        f"this folder is the package constrained_zoo.models, imported here as {__name__!r}: use "
        "`from constrained_zoo import models` (or `python -m constrained_zoo.models...`), after "
        "`pip install -e .` in a checkout")

from . import fully_connected, locally_connected, low_rank, mlp, multi_channel_conv, shared_conv  # noqa: F401 (registers)
from ._registry import ModelEntry, count_params, count_trainable_params, create_model, list_models, model_entry, register_model
from . import weights  # noqa: F401 (the public weights module: publishing, evaluating)
from .architecture import trainable_params
from .weights import (
    WEIGHTS_DIR_ENV,
    WeightsError,
    architecture_fingerprint,
    published_weights,
    weights_dir,
)
from .datasets import class_names, dataset_info
from .preprocessing import NotAnImageError, decode_predictions, preprocess

__all__ = [
    "ModelEntry",
    "NotAnImageError",
    "WEIGHTS_DIR_ENV",
    "WeightsError",
    "architecture_fingerprint",
    "class_names",
    "count_params",
    "count_trainable_params",
    "create_model",
    "dataset_info",
    "decode_predictions",
    "list_models",
    "model_entry",
    "preprocess",
    "published_weights",
    "register_model",
    "trainable_params",
    "weights_dir",
]
