"""Training for the constrained-layers zoo: data first (`training.data`).

`training.data.load_dataset(name)` returns ready `tf.data` pipelines and a
`DatasetSpec`; `training.sources.load_arrays(name)` the numpy arrays behind
them; `training.idx` parses (Fashion-)MNIST's IDX files. Nothing heavy is
imported here.
"""

import sys as _sys

if _sys.argv[:1] == ["-m"]:  # `python -m training.TOOL` is starting: a quiet TensorFlow (training.console)
    from training.console import quiet_tensorflow as _quiet_tensorflow

    _quiet_tensorflow()
