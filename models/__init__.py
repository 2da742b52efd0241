"""The zoo: small reference models, one family per constraint of D2L §7.1.

    >>> import models
    >>> models.list_models("cnn*")
    ['cnn1d_small', 'cnn_base', 'cnn_small']
    >>> model = models.create_model("lenet5", input_shape=(28, 28, 1), num_classes=10)

Families: "mlp" (no spatial structure), "fully_connected" (eq. 7.1.1),
"locally_connected" (locality without sharing), "shared_conv" (sharing and
locality per channel, eq. 7.1.3; `sharedconv_global` without locality,
eq. 7.1.2), "multi_channel_conv" (eq. 7.1.7). Models whose name has "1d"
take sequences (MNIST-1D); the others take images.
"""

from models import fully_connected, locally_connected, mlp, multi_channel_conv, shared_conv  # noqa: F401 (registers)
from models._registry import ModelEntry, create_model, list_models, model_entry, register_model

__all__ = ["ModelEntry", "create_model", "list_models", "model_entry", "register_model"]
