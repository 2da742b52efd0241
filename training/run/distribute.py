"""tf.distribute strategies by name: how a run scales out.

- "default": one device (TensorFlow picks the GPU if there is one).
- "mirrored": `MirroredStrategy`, synchronous data parallelism over the
  local GPUs (or over `logical_cpus` CPU devices, which is how it is tested
  on a machine without GPUs).
- "multiworker": `MultiWorkerMirroredStrategy`, the same across machines;
  each worker runs the same command with its own `TF_CONFIG`, e.g.
  `{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}`.
  Exactly one task writes the run directory (`is_writer`): the `chief`
  when the cluster has one, else worker 0; the others save into scratch
  directories. Every dataset is sharded by data (`shard_by_data`): each
  worker reads all of it and keeps its share of each batch. Keras 3's
  `fit` needs `prepare_model` to train across workers (two Keras bugs).
"""

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multiworker")


def split_cpu(logical_cpus):
    """Splits the CPU into `logical_cpus` devices; call before TF starts."""
    if logical_cpus and logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * logical_cpus)


def is_writer(tf_config):
    """Whether the task that `tf_config` (TF_CONFIG, parsed) describes writes the run directory.

    Exactly one task of a cluster does: the `chief` if the cluster has one
    (its workers, worker 0 included, then write nothing), else worker 0.

    Example:

    >>> is_writer({"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker", "index": 0}})
    False
    >>> is_writer({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}})
    True
    """
    cluster = tf_config.get("cluster") or {}
    task = tf_config.get("task") or {}
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    if cluster.get("chief"):
        return kind == "chief" and index == 0
    return kind == "worker" and index == 0


def shard_by_data(dataset):
    """`dataset` with tf.data's auto-shard policy set to DATA, explicitly.

    Our pipelines are built from in-memory arrays, not files: sharding by
    file (the AUTO policy's first try) cannot work, so each worker of a
    multi-worker run reads the whole dataset and keeps its share of every
    batch. Other strategies ignore the setting. `None` passes through.
    """
    if dataset is None:
        return None
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def get_strategy(name):
    """Returns (strategy, is_chief) for a name in `STRATEGIES`."""
    if name == "default":
        return tf.distribute.get_strategy(), True
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices), True
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "--strategy multiworker needs the TF_CONFIG environment variable "
                "(the cluster's workers and this worker's index); see "
                "`python -m constrained_zoo.training.train --help`."
            )
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        return strategy, is_writer(json.loads(os.environ["TF_CONFIG"]))
    raise ValueError(f"Invalid value for argument `strategy`. Expected one of {list(STRATEGIES)}. Received: strategy={name!r}")


def _across_workers(strategy):
    """Whether `strategy` is a `MultiWorkerMirroredStrategy` with more than one worker."""
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode())  # pylint: disable=protected-access


def prepare_model(model, strategy):
    """Works around two bugs of Keras 3's `fit`/`evaluate` across workers.

    With `MultiWorkerMirroredStrategy` and more than one worker, Keras 3
    (3.15 at least; keras-team/keras#20585, tensorflow/tensorflow#72388)
    fails twice, and this fixes both (other strategies are left alone):

    1. `Model._maybe_symbolic_build` takes a first batch to build the metrics
       and optimizer with `strategy.reduce("MEAN", (images, labels),
       axis=None)`, which raises `ValueError: Attempt to convert a value
       (PerReplica:{...}) with an unsupported type (<class
       'tensorflow.python.distribute.values.PerReplica'>) to a Tensor.`
       Only the batch's shapes and dtypes matter there: `model`'s method is
       replaced by one that takes this worker's first local replica's batch.
    2. The train and test steps reduce their (scalar) logs with
       `strategy.reduce("MEAN", value, axis=0)`, which raises `ValueError:
       Invalid reduction dimension 0 for input with 0 dimensions.` Keras's
       `reduce_per_replica` is wrapped to reduce scalars with `axis=None`
       (the mean over replicas, as `MirroredStrategy` reports them). The
       epoch's logs and `evaluate`'s results are read from the metrics'
       variables, summed over all workers, as with any strategy.

    Returns `model`.
    """
    if not _across_workers(strategy):
        return model
    from keras.src.backend.tensorflow import trainer as keras_tf_trainer  # pylint: disable=import-outside-toplevel

    build = model._maybe_symbolic_build  # pylint: disable=protected-access

    def maybe_symbolic_build(iterator=None, data_batch=None):
        if iterator is not None and data_batch is None:
            for _, _, distributed_iterator in iterator:
                batch = next(distributed_iterator)  # (images, labels), each PerReplica
                data_batch = tf.nest.map_structure(
                    lambda value: strategy.experimental_local_results(value)[0], batch
                )
                break
        return build(data_batch=data_batch)

    model._maybe_symbolic_build = maybe_symbolic_build  # pylint: disable=protected-access

    reduce_per_replica = keras_tf_trainer.reduce_per_replica
    if not getattr(reduce_per_replica, "_scalars_fixed", False):
        def reduce_scalars_across_workers(values, strategy, reduction):
            def reduce(value):  # a tensor, or a PerReplica with several local devices
                scalar = strategy.experimental_local_results(value)[0].shape.rank == 0
                if reduction in ("auto", "mean") and scalar:
                    return strategy.reduce("MEAN", value, axis=None)  # ()
                return reduce_per_replica(value, strategy, reduction)

            if not _across_workers(strategy):
                return reduce_per_replica(values, strategy, reduction)
            return tf.nest.map_structure(reduce, values)

        reduce_scalars_across_workers._scalars_fixed = True
        keras_tf_trainer.reduce_per_replica = reduce_scalars_across_workers
    return model
