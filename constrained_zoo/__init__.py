"""The zoo's import path, which no project's own `models` or `training` can shadow.

    from constrained_zoo import models
    model = models.create_model("cnn_bn_50k", weights="fashion_mnist")

The repository keeps the zoo in its top-level folders `models/` and
`training/`; setup.cfg's `package_dir` installs them as
`constrained_zoo.models` and `constrained_zoo.training`, in a wheel and in an
editable install (`pip install -e .`) alike. Those are their only names:
`import models` from the repository's root raises an ImportError that says
so, and no module is ever loaded twice.

Importing this package, or any below it, changes nothing global: no import
hooks, no redirected stderr, no environment variables. The commands
(`constrained_zoo.commands`) quiet TensorFlow's start-up lines for
themselves.
"""
