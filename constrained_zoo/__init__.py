"""The zoo's import path that no other `models` or `training` can shadow.

    from constrained_zoo import models
    model = models.create_model("cnn_bn_50k", weights="fashion_mnist")

The repository keeps the zoo in its top-level folders `models/` and
`training/`. Installed, they are `constrained_zoo.models` and
`constrained_zoo.training` (setup.cfg's `package_dir`), so a project with a
`models/` folder of its own still reaches ours. In a source checkout this
package finds them beside its own folder, and the top-level names
`models` and `training` (what `python -m training.train` uses from the
repository root) are the same modules under a second name
(`constrained_zoo._alias`): one registry, one set of Keras registrations.
"""

import os as _os

_HERE = _os.path.dirname(_os.path.abspath(__file__))
_CHECKOUT = _os.path.dirname(_HERE)
if not _os.path.isdir(_os.path.join(_HERE, "models")) and _os.path.isfile(
        _os.path.join(_CHECKOUT, "models", "__init__.py")):
    __path__.append(_CHECKOUT)  # a source checkout: models/ and training/ sit beside this folder
