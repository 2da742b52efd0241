"""Speed and memory of the constrained layers against Keras's and tf-keras's.

    python -m benchmarks            # the full run (36 minutes on 2 cores in BENCHMARKS.md's run)
    python -m benchmarks --quick    # about a minute: fewer cases and repeats
    python -m benchmarks --help

prints one Markdown table: case, shape, implementation, ms per step (median
after warm-up), the ratio to the case's reference implementation, and the
peak memory of a step (measured in a subprocess per implementation), then
the goals of BENCHMARKS.md, each with the measured number and PASS/MISS.

A *step* is one training step of the layer alone:
the forward pass, then the gradients of Σ y·g (g a fixed random tensor) for
the layer's weights and for the input, in one `tf.function` (TensorFlow
graph mode, no XLA unless `--jit`). Every implementation of a case runs in
the same process, interleaved repeat by repeat, so that other load on the
machine slows them alike; ratios are medians of per-repeat times.

`benchmarks.cases` defines what is compared; `benchmarks.timing` how it is
timed and how memory is measured. Not part of `make test`: correctness of
every fast path lives in tests/layers (test_implementations.py).
"""
