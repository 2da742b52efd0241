"""`make gpu-check`: one model of each family, one epoch, mixed precision and XLA; devices and step times.

    python -m constrained_zoo.training.gpu_check                                   # Fashion-MNIST, the whole epoch
    python -m constrained_zoo.training.gpu_check --dataset digits --max-train-examples 256   # seconds, on a CPU
    KERAS_BACKEND=jax python -m constrained_zoo.training.gpu_check                 # JAX with CUDA, no TensorFlow needed

Prints the backend, the devices it sees, the precision policy, and for each
model: its family, its weights (every one, Keras's `count_params`), the
first step's time (which includes XLA's compilation), the median of the
later steps, and examples per second. Data are numpy arrays (`training.sources.load_arrays`) fed to
`model.fit`: on the JAX backend nothing here imports TensorFlow, so it runs
on machines that have JAX with CUDA and no TensorFlow (Fashion-MNIST then
comes from its IDX files: `--data-dir` or `$FASHION_MNIST_DIR`).
Exits 1 if a model fails to train or its loss is not finite.
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import argparse
import math
import os
import statistics
import sys
import time

from constrained_zoo import arguments
from constrained_zoo.datasets import list_datasets

DEFAULT_MODELS = "mlp_small,fc2d_tiny,lc_small,lrlc_r2_10k,sharedconv_small,cnn_small"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m constrained_zoo.training.gpu_check",
        description="Train one model of each family for one epoch with mixed precision and XLA; "
                    "print the devices and the step times.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--dataset", default="fashion_mnist", help=", ".join(list_datasets()))
    parser.add_argument("--data-dir", default=None, help="where the data files are (see training.train)")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated model names, one per family")
    parser.add_argument("--batch-size", type=arguments.positive_int, default=256)
    parser.add_argument("--max-train-examples", type=arguments.positive_int, default=None, help="train on a subset")
    parser.add_argument("--mixed-precision", choices=("auto", "mixed_float16", "mixed_bfloat16", "float32"),
                        default="auto", help="auto: mixed_float16 on a GPU, mixed_bfloat16 otherwise")
    parser.add_argument("--jit-compile", choices=("true", "false", "auto"), default="true",
                        help="XLA (the JAX backend always compiles with XLA)")
    parser.add_argument("--steps-per-execution", type=arguments.positive_int, default=1)
    return parser


def devices():
    """`(backend, [device descriptions])` without importing another backend."""
    import keras  # pylint: disable=import-outside-toplevel

    backend = keras.backend.backend()
    if backend == "jax":
        import jax  # pylint: disable=import-outside-toplevel

        return backend, [f"{d.platform}:{d.id} {getattr(d, 'device_kind', '')}".strip() for d in jax.devices()]
    if backend == "tensorflow":
        import tensorflow as tf  # pylint: disable=import-outside-toplevel

        return backend, [d.name for d in tf.config.list_logical_devices() if d.device_type in ("CPU", "GPU")]
    if backend == "torch":
        import torch  # pylint: disable=import-outside-toplevel

        count = torch.cuda.device_count()
        return backend, [f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(count)] or ["cpu"]
    return backend, ["cpu"]


class StepTimer:
    """A Keras callback that records the wall time of every train step (call into the backend)."""

    def __new__(cls):
        import keras  # pylint: disable=import-outside-toplevel

        class _Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.times = []

            def on_train_batch_begin(self, batch, logs=None):
                self._start = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                if logs:  # the step's results are in: it is done
                    float(logs.get("loss", 0.0))
                self.times.append(time.perf_counter() - self._start)

        return _Timer()


def check_model(name, arrays, args, jit_compile):
    """Trains `name` one epoch; returns a dict of its timings."""
    import keras  # pylint: disable=import-outside-toplevel

    from constrained_zoo import models  # pylint: disable=import-outside-toplevel

    (x_train, y_train), _ = arrays
    model = models.create_model(name, input_shape=x_train.shape[1:], num_classes=int(y_train.max()) + 1)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=jit_compile,
        steps_per_execution=args.steps_per_execution,
    )
    timer = StepTimer()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=1, verbose=0, callbacks=[timer],
                        shuffle=True)
    later = timer.times[1:] or timer.times
    step = statistics.median(later)
    return {
        "model": name,
        "family": models.model_entry(name).family,
        "params": int(model.count_params()),  # every weight, as the tables count
        "steps": len(timer.times),
        "first_step_s": timer.times[0],
        "median_step_ms": 1000 * step,
        "examples_per_s": args.batch_size * args.steps_per_execution / step,
        "loss": float(history.history["loss"][-1]),
        "jit_compile": bool(model.jit_compile),
    }


def main(argv=None):
    args = build_parser().parse_args(argv)
    from .data.sources import check_data_dir, load_arrays  # numpy only  # pylint: disable=import-outside-toplevel

    try:
        check_data_dir(args.dataset, args.data_dir)
        arrays = load_arrays(args.dataset, args.data_dir)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {str(error).replace('argument `data_dir`', '--data-dir')}", file=sys.stderr)
        return 2
    (x_train, y_train), test = arrays
    import keras  # pylint: disable=import-outside-toplevel

    if args.max_train_examples:
        x_train, y_train = x_train[:args.max_train_examples], y_train[:args.max_train_examples]
    backend, found = devices()
    on_gpu = any(d.lower().startswith(("gpu", "cuda", "/device:gpu")) or ":gpu:" in d.lower() for d in found)
    policy = args.mixed_precision
    if policy == "auto":
        policy = "mixed_float16" if on_gpu else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(policy)
    jit_compile = {"true": True, "false": False, "auto": "auto"}[args.jit_compile]
    print(f"backend {backend} (Keras {keras.__version__}); devices: {', '.join(found)}")
    print(f"precision {policy}; jit_compile {args.jit_compile}; {len(x_train):,} examples of {args.dataset}, "
          f"batch {args.batch_size}, steps per execution {args.steps_per_execution}")
    print(f"{'model':<18} {'family':<18} {'weights':>9} {'steps':>6} {'first step (s)':>15} "
          f"{'step (ms)':>10} {'examples/s':>11} {'loss':>7}")
    failed = []
    for name in [n.strip() for n in args.models.split(",") if n.strip()]:
        try:
            row = check_model(name, ((x_train, y_train), test), args, jit_compile)
        except Exception as error:  # pylint: disable=broad-except
            failed.append(name)
            print(f"{name:<18} FAILED: {type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}")
            continue
        print(f"{row['model']:<18} {row['family']:<18} {row['params']:>9,} {row['steps']:>6} "
              f"{row['first_step_s']:>15.2f} {row['median_step_ms']:>10.2f} {row['examples_per_s']:>11,.0f} "
              f"{row['loss']:>7.3f}", flush=True)
        if not math.isfinite(row["loss"]):
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
