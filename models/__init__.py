"""The zoo: small reference models, one family per constraint of D2L §7.1.

    >>> import models
    >>> models.list_models("cnn_*")[:3]
    ['cnn_base', 'cnn_bn_10k', 'cnn_bn_50k']
    >>> model = models.create_model("lenet5", input_shape=(28, 28, 1), num_classes=10)
    >>> wider = models.create_model("cnn_small", delta=2, padding_mode="circular", width=2)
    >>> models.count_params("cnn_small", width=2)
    20490
    >>> trained = models.create_model("cnn_bn_50k", weights="fashion_mnist")  # once published

Families: "mlp" (no spatial structure), "fully_connected" (eq. 7.1.1),
"locally_connected" (locality without sharing), "low_rank_locally_connected"
(locality, each position's kernel a combination of R shared kernels: between
no sharing and the convolution), "shared_conv" (sharing and
locality per channel, eq. 7.1.3; `sharedconv_global` without locality,
eq. 7.1.2), "multi_channel_conv" (eq. 7.1.7). Models whose name has "1d"
take sequences (MNIST-1D); the others take images. Each family's knobs
(`model_entry(name).options`) are `create_model`'s overrides.
"""

from models import (  # noqa: F401 (registers)
    fully_connected,
    locally_connected,
    low_rank,
    mlp,
    multi_channel_conv,
    shared_conv,
)
from models._registry import ModelEntry, count_params, create_model, list_models, model_entry, register_model
from models._weights import (
    WEIGHTS_DIR_ENV,
    WeightsError,
    published_weights,
    weights_dir,
)

__all__ = [
    "ModelEntry",
    "WEIGHTS_DIR_ENV",
    "WeightsError",
    "count_params",
    "create_model",
    "list_models",
    "model_entry",
    "published_weights",
    "register_model",
    "weights_dir",
]
