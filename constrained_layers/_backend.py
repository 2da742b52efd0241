"""Which Keras backend will run the layers, and one clear error when none can.

Keras picks its backend from `KERAS_BACKEND`, else from the "backend" key of
`keras.json` (in `$KERAS_HOME`, default `~/.keras`), else TensorFlow. When
that backend is not installed, `import keras` fails deep inside Keras with a
`ModuleNotFoundError`; `require_backend()`, called by
`import constrained_layers` before it imports Keras, raises instead one
`ImportError` whose single line names the backend, where the choice came
from and the extras to install.

Example:

>>> chosen_backend({"KERAS_BACKEND": "jax"})
('jax', 'KERAS_BACKEND')
"""

import importlib.util
import json
import os
import sys

#: The backends the layers are tested on: the extra that installs each.
EXTRAS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
#: The module each Keras backend imports.
MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy", "openvino": "openvino"}
PACKAGE = "constrained-layers-zoo"


def _keras_json(environ):
    home = environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "keras.json")


def chosen_backend(environ=None):
    """(backend, where the choice came from), as Keras will decide it."""
    environ = os.environ if environ is None else environ
    if environ.get("KERAS_BACKEND"):
        return environ["KERAS_BACKEND"], "KERAS_BACKEND"
    path = _keras_json(environ)
    try:
        with open(path, encoding="utf-8") as f:
            backend = json.load(f).get("backend")
        if backend:
            return backend, path
    except (OSError, ValueError, AttributeError):
        pass
    return "tensorflow", "Keras's default, as KERAS_BACKEND is unset and keras.json names no backend"


def _installed(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a finder that refuses it, a broken parent package
        return False


def installed_backends():
    """The tested backends whose module is importable, in EXTRAS order."""
    return [name for name in EXTRAS if _installed(MODULES[name])]


def require_backend():
    """Raises ImportError (one line) if the backend Keras will pick is not installed."""
    if "keras" in sys.modules:  # Keras is imported already: its backend loaded
        return
    backend, source = chosen_backend()
    if _installed(MODULES.get(backend, backend)):
        return
    others = [name for name in installed_backends() if name != backend]
    hint = (
        f" or set KERAS_BACKEND to one that is installed ({', '.join(others)})"
        if others
        else ""
    )
    raise ImportError(
        f"constrained_layers needs a Keras backend: Keras would use {backend!r} (from {source}), "
        f"which is not installed. Install one with pip install '{PACKAGE}[jax]', '{PACKAGE}[tensorflow]' "
        f"or '{PACKAGE}[torch]'{hint}."
    )
