"""Training for the constrained-layers zoo: data -> one run -> many runs -> publishing.

The commands (`python -m constrained_zoo.training.NAME`, each a module of this folder):

    train      one model on one dataset, resumable, exported for serving
    sweep      many (model, seed) runs, any number of processes on one folder
    report     a results folder's table and plot, matched budgets, two folders compared
    shift      test accuracy of every run on shifted images
    lr_grid    each model at its learning rate of best validation accuracy
    demo       `make demo`: the chapter's story in minutes, shipped weights re-checked
    publishing a finished run's weights into the zoo, with its manifest entry (a package)
    evaluate   re-check a run's SavedModel or a published model's weights
    readme     the generated tables of README.md and docs/
    gpu_check  the devices and a step time per family

Their parts, by what each does:

    settings.py   every training setting, declared once (parsers, configs, recipes, resume)
    data/         where datasets come from and the tf.data pipelines
    run/          one run: the fit itself, checkpoints, signals, distribution
    sweeps/       many runs: scheduling and locks, results tables, plots, the chapter's verdict
    publishing/   the publish command: the run re-checked, its file and manifest entry swapped together

Files others read are written atomically through `constrained_zoo.atomic`.
Nothing heavy is imported here. `constrained_zoo.training` is this package's
only name (see `constrained_zoo`).
"""

if __name__ != "constrained_zoo.training":  # e.g. `import training` or `python -m training.train`
    raise ImportError(
        f"this folder is the package constrained_zoo.training, imported here as {__name__!r}: use "
        "`from constrained_zoo import training` or `python -m constrained_zoo.training.NAME` (or the "
        "czoo-* commands), after `pip install -e .` in a checkout")
