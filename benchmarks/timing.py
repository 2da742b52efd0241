"""How a step is built and timed, and how its peak memory is measured.

    python -m benchmarks.timing memory CASE IMPLEMENTATION [--quick] [--jit]

(used by `python -m benchmarks`) builds one implementation of one case in a
fresh process, runs a few steps and prints, as JSON, the growth of the
process's peak resident set (VmHWM, reset through /proc/self/clear_refs
after a first, tracing step and `malloc_trim`) over its size just before the
steps: the memory a step needs beyond its inputs and weights. One process per implementation,
so that no other implementation's allocations are counted.

Example:

>>> import numpy as np, keras
>>> def make(x):
...     layer = keras.layers.Conv2D(2, 3)
...     layer.build(x.shape)
...     return layer, layer.trainable_weights
>>> step = make_step(make, np.zeros((2, 8, 8, 1), "float32"))
>>> [tuple(g.shape) for g in step()]  # kernel, bias, input
[(3, 3, 1, 2), (2,), (2, 8, 8, 1)]
>>> times = time_steps({"conv": step}, repeats=3)
>>> len(times["conv"])
3
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np


def make_step(make, x, jit=False, seed=1):
    """A zero-argument callable running one training step of a layer alone.

    Args:
        make: `make(x) -> (forward, weights)`: builds the implementation for
            the input `x` (a tf.Tensor) and returns its forward function and
            its trainable weights.
        x: the input batch, a numpy array.
        jit: compile the step with XLA (`jit_compile=True`).
        seed: seeds the fixed upstream gradient g.

    Returns:
        `step()`, which computes y = forward(x) and the gradients of Σ y·g
        for the weights and for x, and returns them.
    """
    import tensorflow as tf

    x = tf.constant(x)
    forward, weights = make(x)
    y = forward(x)  # builds whatever is lazy
    weights = list(weights)
    g = tf.constant(np.random.default_rng(seed).standard_normal(tuple(y.shape)).astype(np.float32))

    @tf.function(jit_compile=jit)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(forward(x) * g)
        return tape.gradient(loss, [*weights, x])

    return lambda: step(x)


def time_steps(steps, repeats, warmup=2, budget_s=None, min_time_s=0.0):
    """Times several steps side by side: per-repeat seconds of each.

    Each repeat runs every step once, in a rotated order (no step always
    runs first, after the others have warmed or evicted the caches).

    Args:
        steps: dict name -> step callable.
        repeats: timed repeats, at least.
        warmup: untimed runs of each step first (tracing, allocation).
        budget_s: if given, fewer repeats (never under 3) when one repeat of
            every step times `repeats` would take longer than this.
        min_time_s: more repeats when the fastest step would otherwise be
            timed for less than this in total: a step of a few milliseconds
            needs hundreds of repeats for a ratio good to a few percent.

    Returns:
        dict name -> list of seconds, one per repeat.
    """
    names = list(steps)
    fastest, one_round = float("inf"), 0.0
    for _ in range(warmup):
        one_round = 0.0
        for name in names:
            start = time.perf_counter()
            steps[name]()
            elapsed = time.perf_counter() - start
            fastest, one_round = min(fastest, elapsed), one_round + elapsed
    if min_time_s and fastest > 0:
        repeats = max(repeats, int(min_time_s / fastest) + 1)
    if budget_s is not None and one_round * repeats > budget_s:
        repeats = max(3, int(budget_s / max(one_round, 1e-9)))
    times = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            start = time.perf_counter()
            steps[name]()
            times[name].append(time.perf_counter() - start)
    return times


def ratio(times, name, reference):
    """Median over repeats of time[name] / time[reference] (same repeat)."""
    return statistics.median(a / b for a, b in zip(times[name], times[reference]))


def current_rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_memory(case_name, impl_name, quick=False, jit=False, steps=3):
    """Peak memory of `steps` steps of one implementation, in this process.

    With TensorFlow's BFC allocator on the CPU (`TF_CPU_ALLOCATOR_USE_BFC=true`,
    which `memory_in_subprocess` sets) the tensors' bytes are counted
    exactly by `tf.config.experimental.get_memory_info`; the resident set
    (VmHWM after `malloc_trim` and a reset) is reported beside it.

    Returns:
        dict with "step_peak_bytes" (peak bytes of tensors during the steps
        minus those alive just before them: the memory a step needs beyond
        its inputs and weights; None without the BFC allocator),
        "step_peak_rss_bytes" (the same from the resident set) and
        "process_peak_bytes" (the process's peak resident set, imports and
        tracing included).
    """
    import tensorflow as tf

    from benchmarks import cases

    case = cases.find(case_name, quick=quick)
    x = case.input()
    step = make_step(case.impls[impl_name], x, jit=jit)
    step()  # tracing happens outside the measurement
    process_peak = peak_rss_from_status()
    _release_free_memory()  # what the first step freed must not count as baseline
    _reset_peak()
    before = current_rss_bytes()
    try:
        tf.config.experimental.reset_memory_stats("CPU:0")
        tensors_before = tf.config.experimental.get_memory_info("CPU:0")["current"]
    except (ValueError, RuntimeError):
        tensors_before = None
    for _ in range(steps):
        step()
    peak = peak_rss_from_status()
    tensors_peak = None
    if tensors_before is not None:
        tensors_peak = tf.config.experimental.get_memory_info("CPU:0")["peak"] - tensors_before
    return {
        "step_peak_bytes": tensors_peak,
        "step_peak_rss_bytes": max(0, peak - before),
        "process_peak_bytes": max(process_peak, peak),
    }


def _release_free_memory():
    """Returns the allocator's free heap pages to the system (glibc's malloc_trim).

    Without it, the memory a step frees stays resident, and the next step's
    peak hides under a baseline that already contains it.
    """
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak():
    """Resets the kernel's high-water mark of this process (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_rss_from_status():
    """VmHWM (peak RSS) from /proc/self/status, which `_reset_peak` resets."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmHWM in /proc/self/status")


def memory_in_subprocess(case_name, impl_name, quick=False, jit=False, timeout=900):
    """Runs `measure_memory` in a fresh interpreter (BFC allocator); None if it failed."""
    import subprocess

    command = [sys.executable, "-m", "benchmarks.timing", "memory", case_name, impl_name]
    command += ["--quick"] * quick + ["--jit"] * jit
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_CPU_ALLOCATOR_USE_BFC="true")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.timing",
        description="Peak memory of one implementation of one benchmark case (used by python -m benchmarks).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("what", choices=["memory"], help="what to measure")
    parser.add_argument("case", help="case name, as in the table")
    parser.add_argument("implementation", help="implementation name, as in the table")
    parser.add_argument("--quick", action="store_true", help="the --quick variant of the case")
    parser.add_argument("--jit", action="store_true", help="compile the step with XLA")
    args = parser.parse_args(argv)
    result = measure_memory(args.case, args.implementation, quick=args.quick, jit=args.jit)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
