"""LocallyConnected on every backend, against that backend's convolution and against PyTorch's unfold layers.

    python -m benchmarks.backends                         # the table of BENCHMARKS.md ("Every backend")
    python -m benchmarks.backends --quick                 # one shape, fewer repeats
    python -m benchmarks.backends --compile               # also LocallyConnected under torch.compile
    python -m benchmarks.backends step torch lc2d-base    # one backend, one case (JSON; used by the above)

A *step* is the forward pass and the gradients of Σ y·g for the weights and
the input, as in `benchmarks.timing`: on TensorFlow in one `tf.function`
(no XLA), on JAX in one `jax.jit`, on torch eagerly (`loss.backward()`),
as each backend's users run it. Each (backend, case) runs in a fresh process
with every implementation interleaved repeat by repeat; the ratio is the
median of the per-repeat ratios to the backend's convolution (Keras's
Conv2D on that backend). Peak step memory is the growth of the peak resident
set over a few steps, measured in one more fresh process per implementation
(`benchmarks.timing`'s VmHWM reset), the same measure on every backend.

The torch rows add `torch.nn.functional.conv2d` (NCHW, as PyTorch users
call it) and two locally connected layers written with `unfold`: the one
from the PyTorch forums (`x.unfold(2, k, s).unfold(3, k, s)`, a broadcast
product with a (1, F, C, H', W', k·k) weight, summed), and
`F.unfold` + `einsum` with one kernel per position.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

BACKENDS = ("tensorflow", "jax", "torch")
#: name -> (batch, spatial, channels, filters, kernel): BENCHMARKS.md's base shape, and more channels at batch 32.
SHAPES = {
    "lc2d-base": (128, (28, 28), 8, 16, 5),
    "lc2d-channels-b32": (32, (28, 28), 32, 32, 5),
}
REFERENCE = "keras Conv2D"


def shape_text(case):
    batch, (h, w), c, f, k = SHAPES[case]
    return f"B={batch} {h}×{w}×{c} → {f}, {k}×{k} valid"


# ------------------------------------------------------------- torch layers
def unfold_forum(channels, filters, out_hw, kernel):
    """The locally connected layer of the PyTorch forums: unfold, broadcast product, sum."""
    import torch

    class LocallyConnected2d(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.randn(1, filters, channels, *out_hw, kernel * kernel) * 0.05)
            self.bias = torch.nn.Parameter(torch.zeros(1, filters, *out_hw))

        def forward(self, x):  # (B, C, H, W)
            x = x.unfold(2, kernel, 1).unfold(3, kernel, 1)  # (B, C, H', W', k, k)
            x = x.contiguous().view(*x.size()[:-2], -1)  # (B, C, H', W', k·k)
            return (x.unsqueeze(1) * self.weight).sum([2, -1]) + self.bias  # (B, F, H', W')

    return LocallyConnected2d()


def unfold_einsum(channels, filters, out_hw, kernel):
    """F.unfold to (B, C·k·k, L), then one (C·k·k, F) kernel per position L, with einsum."""
    import torch

    positions = out_hw[0] * out_hw[1]

    class UnfoldEinsum(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.randn(positions, channels * kernel * kernel, filters) * 0.05)
            self.bias = torch.nn.Parameter(torch.zeros(filters, positions))

        def forward(self, x):  # (B, C, H, W)
            patches = torch.nn.functional.unfold(x, kernel)  # (B, C·k·k, L)
            y = torch.einsum("bkl,lkf->bfl", patches, self.weight) + self.bias  # (B, F, L)
            return y.view(x.shape[0], filters, *out_hw)  # (B, F, H', W')

    return UnfoldEinsum()


# --------------------------------------------------------------- one step
def _impls(backend, case, compile_):
    """name -> (layout, make()) where make() returns a callable forward and its parameters."""
    import keras

    import constrained_layers as cl

    _, spatial, channels, filters, kernel = SHAPES[case]
    out_hw = tuple(n - kernel + 1 for n in spatial)
    impls = {
        REFERENCE: ("nhwc", lambda: keras.layers.Conv2D(filters, kernel)),
        "LocallyConnected": ("nhwc", lambda: cl.LocallyConnected(filters, kernel_size=kernel, padding="valid")),
    }
    if backend == "torch":
        import torch

        def conv2d():
            weight = torch.nn.Parameter(torch.randn(filters, channels, kernel, kernel) * 0.05)
            bias = torch.nn.Parameter(torch.zeros(filters))
            layer = lambda x: torch.nn.functional.conv2d(x, weight, bias)  # noqa: E731
            layer.parameters = lambda: [weight, bias]
            return layer

        impls["torch F.conv2d"] = ("nchw", conv2d)
        impls["unfold (PyTorch forums)"] = ("nchw", lambda: unfold_forum(channels, filters, out_hw, kernel))
        impls["F.unfold + einsum"] = ("nchw", lambda: unfold_einsum(channels, filters, out_hw, kernel))
        if compile_:
            def compiled():
                layer = cl.LocallyConnected(filters, kernel_size=kernel, padding="valid")
                fn = torch.compile(layer)
                fn.parameters = layer.parameters
                return fn

            impls["LocallyConnected (torch.compile)"] = ("nhwc", compiled)
    return impls


def make_step(backend, layout, make, x_nhwc, seed=1):
    """A zero-argument training step of one implementation on its backend."""
    x_np = x_nhwc if layout == "nhwc" else np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2))
    if backend == "tensorflow":
        from benchmarks import timing

        def tf_make(x):
            layer = make()
            layer(x)
            return layer, layer.trainable_weights

        return timing.make_step(tf_make, x_np, seed=seed)
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        layer = make()
        x = jnp.asarray(x_np)
        y = layer(x)
        g = jnp.asarray(np.random.default_rng(seed).standard_normal(y.shape).astype(np.float32))
        trainable = [v.value for v in layer.trainable_variables]
        non_trainable = [v.value for v in layer.non_trainable_variables]

        def loss(tw, x):
            out, _ = layer.stateless_call(tw, non_trainable, x)
            return jnp.sum(out * g)

        grad = jax.jit(jax.grad(loss, argnums=(0, 1)))
        return lambda: jax.block_until_ready(grad(trainable, x))
    import torch

    layer = make()
    x = torch.tensor(x_np, requires_grad=True)
    y = layer(x)
    g = torch.tensor(np.random.default_rng(seed).standard_normal(tuple(y.shape)).astype(np.float32))
    params = list(layer.parameters())

    def step():
        for p in [*params, x]:
            p.grad = None
        (layer(x) * g).sum().backward()
        return [p.grad for p in params] + [x.grad]

    return step


def run_case(backend, case, repeats, compile_):
    """Times every implementation of `case` on this process's backend: {name: [seconds per repeat]}."""
    from benchmarks import timing

    batch, spatial, channels, _, _ = SHAPES[case]
    x = np.random.default_rng(0).standard_normal((batch, *spatial, channels)).astype(np.float32)
    steps = {name: make_step(backend, layout, make, x) for name, (layout, make) in _impls(backend, case, compile_).items()}
    return timing.time_steps(steps, repeats=repeats, budget_s=120, min_time_s=3.0)


def memory(backend, case, name, compile_, steps=3):
    """Growth of the peak resident set over `steps` steps of one implementation, in bytes."""
    from benchmarks import timing

    batch, spatial, channels, _, _ = SHAPES[case]
    x = np.random.default_rng(0).standard_normal((batch, *spatial, channels)).astype(np.float32)
    layout, make = _impls(backend, case, compile_)[name]
    step = make_step(backend, layout, make, x)
    step()
    step()  # compiled, allocated: what remains is the step itself
    timing._release_free_memory()
    timing._reset_peak()
    before = timing.current_rss_bytes()
    for _ in range(steps):
        step()
    return max(0, timing.peak_rss_from_status() - before)


# ------------------------------------------------------------- the driver
def _child(argv, backend, timeout=1800):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-m", "benchmarks.backends", *argv], env=env,
                          capture_output=True, text=True, timeout=timeout)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{backend} {argv}: no result\n{done.stderr[-3000:]}")


def table(cases, repeats, compile_, log, backends=BACKENDS):
    """Rows: case, backend, implementation, ms/step (median), ratio to the backend's conv, memory."""
    rows = []
    for case in cases:
        for backend in backends:
            log(f"[{time.strftime('%H:%M:%S')}] {case} on {backend} (load {os.getloadavg()[0]:.2f})")
            flags = ["--compile"] * compile_
            times = _child(["step", backend, case, "--repeats", str(repeats), *flags], backend)
            for name, seconds in times.items():
                ratios = [a / b for a, b in zip(seconds, times[REFERENCE])]
                peak = _child(["memory", backend, case, name, *flags], backend)["bytes"]
                rows.append({"case": case, "backend": backend, "implementation": name,
                             "ms": 1e3 * statistics.median(seconds), "ratio": statistics.median(ratios),
                             "repeats": len(seconds), "memory_bytes": peak})
                log(json.dumps(rows[-1]))
    return rows


def markdown(rows):
    lines = ["| case | backend | implementation | ms/step | × backend's Conv2D | × ours | peak step memory |",
             "|---|---|---|---:|---:|---:|---:|"]
    for row in rows:
        ours = next(r for r in rows if (r["case"], r["backend"], r["implementation"])
                    == (row["case"], row["backend"], "LocallyConnected"))
        lines.append(
            f"| {row['case']}: {shape_text(row['case'])} | {row['backend']} | {row['implementation']} | "
            f"{row['ms']:,.1f} | {row['ratio']:.2f}× | {row['ms'] / ours['ms']:.2f}× | {row['memory_bytes'] / 1e6:,.0f} MB |"
        )
    return "\n".join(lines)


def versions():
    import importlib.metadata as md

    names = ("keras", "tensorflow", "jax", "torch", "numpy")
    return ", ".join(f"{n} {md.version(n)}" for n in names)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.backends", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("what", nargs="?", default="table", choices=["table", "step", "memory"],
                        help="table: every backend (default); step/memory: one backend, in this process")
    parser.add_argument("args", nargs="*", help="for step: BACKEND CASE; for memory: BACKEND CASE IMPLEMENTATION")
    parser.add_argument("--quick", action="store_true", help="only lc2d-base, 5 repeats")
    parser.add_argument("--repeats", type=int, default=15, help="timed repeats per implementation, at least")
    parser.add_argument("--compile", action="store_true", help="add LocallyConnected under torch.compile (torch)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated, in this order")
    parser.add_argument("--csv", help="also write the rows here")
    args = parser.parse_args(argv)
    if args.what == "step":
        backend, case = args.args
        print(json.dumps(run_case(backend, case, args.repeats, args.compile)))
        return
    if args.what == "memory":
        backend, case, name = args.args
        print(json.dumps({"bytes": memory(backend, case, name, args.compile)}))
        return
    cases = ["lc2d-base"] if args.quick else list(SHAPES)
    repeats = 5 if args.quick else args.repeats
    start = time.time()
    rows = table(cases, repeats, args.compile, log=lambda m: print(m, file=sys.stderr, flush=True),
                 backends=args.backends.split(","))
    print(f"Versions: {versions()}. Load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}. "
          f"{time.time() - start:,.0f} s.\n")
    print(markdown(rows))
    if args.csv:
        import csv

        tmp = args.csv + ".tmp"
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, args.csv)


if __name__ == "__main__":
    main()
