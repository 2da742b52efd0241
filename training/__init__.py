"""Training for the constrained-layers zoo: data first (`training.data`).

`training.data.load_dataset(name)` returns ready `tf.data` pipelines and a
`DatasetSpec`; `training.sources.load_arrays(name)` the numpy arrays behind
them; `training.idx` parses (Fashion-)MNIST's IDX files. Nothing heavy is
imported here.
"""
