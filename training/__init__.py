"""Training for the constrained-layers zoo: data -> one run -> many runs -> publishing.

The commands (`python -m constrained_zoo.training.NAME`, each a module of this folder):

    train      one model on one dataset, resumable, exported for serving
    sweep      many (model, seed) runs, any number of processes on one folder
    report     a results folder's table and plot, matched budgets, two folders compared
    shift      test accuracy of every run on shifted images
    lr_grid    each model at its learning rate of best validation accuracy
    demo       `make demo`: the chapter's story in minutes, shipped weights re-checked
    publish    a finished run's weights into the zoo, with its manifest entry
    evaluate   re-check a run's SavedModel or a published model's weights
    readme     the generated tables of README.md and docs/
    gpu_check  the devices and a step time per family

Their parts, by what each does:

    settings.py   every training setting, declared once (parsers, configs, recipes, resume)
    data/         where datasets come from and the tf.data pipelines
    run/          one run: the fit itself, checkpoints, atomic writes, signals, distribution
    sweeps/       many runs: scheduling and locks, results tables, plots, the chapter's verdict
    publishing/   the weights manifest written safely, evaluation, provenance

Nothing heavy is imported here. From a checkout's root, `training` is a
second name of `constrained_zoo.training` (see `constrained_zoo`).
"""

if __name__ == "training":  # a checkout's top-level name: the same modules as constrained_zoo.training
    from constrained_zoo._alias import alias as _alias

    _alias("training", "constrained_zoo.training")
else:  # a command may import TensorFlow before the layers: start it quietly
    import importlib.util as _util
    import os as _os
    import sys as _sys

    _QUIET = "constrained_layers.quiet"  # standard library only; loaded without the layers, which a
    if _QUIET not in _sys.modules:  # served SavedModel's evaluation does not need (tests/training/test_train.py)
        _spec = _util.spec_from_file_location(_QUIET, _os.path.join(
            _util.find_spec("constrained_layers").submodule_search_locations[0], "quiet.py"))
        _sys.modules[_QUIET] = _util.module_from_spec(_spec)
        _spec.loader.exec_module(_sys.modules[_QUIET])
    _sys.modules[_QUIET].quiet_tensorflow()
