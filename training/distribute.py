"""tf.distribute strategies by name: how a run scales out.

- "default": one device (TensorFlow picks the GPU if there is one).
- "mirrored": `MirroredStrategy`, synchronous data parallelism over the
  local GPUs (or over `logical_cpus` CPU devices, which is how it is tested
  on a machine without GPUs).
- "multiworker": `MultiWorkerMirroredStrategy`, the same across machines;
  each worker runs the same command with its own `TF_CONFIG`, e.g.
  `{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}`.
  Worker 0 is the chief: it alone writes the run directory.
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
                "`python -m training.train --help`."
            )
        task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        is_chief = task.get("type", "worker") in ("chief",) or (task.get("type") == "worker" and task.get("index", 0) == 0)
        return strategy, is_chief
    raise ValueError(f"Invalid value for argument `strategy`. Expected one of {list(STRATEGIES)}. Received: strategy={name!r}")
