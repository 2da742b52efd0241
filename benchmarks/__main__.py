"""python -m benchmarks: the table of BENCHMARKS.md, on the machine at hand.

    python -m benchmarks                  # full run
    python -m benchmarks --quick          # about a minute (no memory, no crossover sweep)
    python -m benchmarks --only lc2d      # cases whose name contains "lc2d"
    python -m benchmarks --csv out.csv    # also write the rows as CSV

Sections: the timing table (every case, every implementation), the FFT
crossover (the smallest kernel at which implementation="fft" beats
"direct"), the input pipeline against the fastest zoo model, and the goals,
each with its measured number.
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import argparse
import csv
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _versions():
    import jax
    import keras
    import numpy
    import tensorflow as tf
    import tf_keras

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tf_keras": tf_keras.__version__,
        "jax": jax.__version__,
        "numpy": numpy.__version__,
        "backend": keras.backend.backend(),
    }


def _machine():
    cores = os.cpu_count()
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    return f"{cores} CPU cores ({model})"


def _load():
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _mb(n):
    return "" if n is None else f"{n / 1e6:,.0f} MB"


def run_cases(cases, repeats, quick, jit, memory, budget_s, log, min_time_s=0.0):
    from benchmarks import timing

    rows = []
    for case in cases:
        log(f"[{time.strftime('%H:%M:%S')}] {case.name}: {case.shape} (load {_load()})")
        x = case.input()
        steps = {}
        for name, make in case.impls.items():
            steps[name] = timing.make_step(make, x, jit=jit)
        times = timing.time_steps(steps, repeats=repeats, budget_s=budget_s, min_time_s=min_time_s)
        for name in case.impls:
            peak = None
            if memory and case.memory:
                result = timing.memory_in_subprocess(case.name, name, quick=quick, jit=jit)
                peak = None if result is None else result["step_peak_bytes"]
            rows.append(
                {
                    "case": case.name,
                    "group": case.group,
                    "shape": case.shape,
                    "implementation": name,
                    "ms_per_step": statistics.median(times[name]) * 1e3,
                    "reference": case.reference,
                    "ratio": timing.ratio(times, name, case.reference),
                    "repeats": len(times[name]),
                    "step_peak_bytes": peak,
                }
            )
            log(f"    {name:38s} {rows[-1]['ms_per_step']:10.1f} ms  x{rows[-1]['ratio']:.2f}  {_mb(peak)}")
        for name, reason in case.skipped.items():
            rows.append(
                {
                    "case": case.name, "group": case.group, "shape": case.shape, "implementation": name,
                    "ms_per_step": None, "reference": case.reference, "ratio": None, "repeats": 0,
                    "step_peak_bytes": None, "skipped": reason,
                }
            )
    return rows


def crossover(quick, log):
    """Smallest odd kernel side at which "fft" beats "direct" (and stays ahead)."""
    import constrained_layers as cl
    from benchmarks import cases, timing

    sweeps = [("SharedConv", 28, 128, 1, None), ("SharedConv", 64, 16, 1, None), ("MultiChannelConv", 28, 32, 8, 16)]
    sizes = (3, 5, 7, 9, 11, 13, 15, 21)
    if quick:
        sweeps, sizes = sweeps[:1], (5, 9, 15)
    results = []
    for family, n, batch, channels, filters in sweeps:
        timings = []
        for k in sizes:
            steps = {}
            for impl in ("direct", "fft"):
                if filters:
                    factory = lambda impl=impl: cl.MultiChannelConv(filters, kernel_size=k, implementation=impl)
                else:
                    factory = lambda impl=impl: cl.SharedConv(kernel_size=k, implementation=impl)
                x = cases.Case("", "", "", (batch, n, n, channels), {}, "").input()
                steps[impl] = timing.make_step(cases.keras_layer(factory), x)
            times = timing.time_steps(steps, repeats=3 if quick else 5, budget_s=60)
            d = statistics.median(times["direct"]) * 1e3
            f = statistics.median(times["fft"]) * 1e3
            timings.append((k, d, f))
            log(f"    {family} {n}×{n} k={k}: direct {d:.1f} ms, fft {f:.1f} ms")
        wins = [k for k, d, f in timings if f < d]
        first = next((k for i, (k, _, _) in enumerate(timings) if all(f < d for _, d, f in timings[i:])), None)
        results.append({"family": family, "size": n, "batch": batch, "timings": timings, "crossover": first, "wins": wins})
    return results


def pipeline_vs_model(quick, log):
    """Examples/s of the Fashion-MNIST train pipeline and of the fastest zoo model.

    The pipeline is measured two ways: `training.data.measure_throughput`
    (a Python loop over the dataset, as a custom training loop sees it) and
    drained inside one `tf.function` (`Dataset.reduce`: no Python per batch,
    what tf.data itself can deliver). The models: `train_on_batch` on a
    fixed batch of 128, median of repeated calls after warm-up.
    """
    import numpy as np
    import tensorflow as tf

    from constrained_zoo import models
    from constrained_zoo.training.data import load_dataset, measure_throughput

    splits, spec = load_dataset("fashion_mnist", batch_size=128)
    measure_throughput(splits.train, batches=20)  # warm-up: first epoch's setup
    python_loop = max(measure_throughput(splits.train, batches=100 if quick else None) for _ in range(1 if quick else 3))

    @tf.function(autograph=False)
    def drain(dataset):
        return dataset.reduce(tf.constant(0, tf.int64), lambda n, batch: n + tf.shape(batch[0], out_type=tf.int64)[0])

    drain(splits.train)
    in_graph = 0.0
    for _ in range(1 if quick else 3):
        start = time.perf_counter()
        examples = int(drain(splits.train))
        in_graph = max(in_graph, examples / (time.perf_counter() - start))
    candidates = ["mlp_linear"] if quick else [
        n for n in models.list_models(rank=2) if "fashion_mnist" in models.model_entry(n).datasets
    ]
    x = np.random.default_rng(0).random((128, *spec.input_shape), dtype=np.float32)
    y = np.random.default_rng(1).integers(0, spec.num_classes, 128)
    best = None
    for name in candidates:
        model = models.create_model(name, input_shape=spec.input_shape, num_classes=spec.num_classes)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        for _ in range(3):
            model.train_on_batch(x, y)
        times = []
        for _ in range(10 if quick else 20):
            start = time.perf_counter()
            model.train_on_batch(x, y)
            times.append(time.perf_counter() - start)
        rate = 128 / statistics.median(times)
        log(f"    {name}: {rate:,.0f} examples/s")
        if best is None or rate > best[1]:
            best = (name, rate)
    pipeline = max(python_loop, in_graph)
    return {
        "python_loop": python_loop, "in_graph": in_graph, "pipeline": pipeline,
        "model": best[0], "model_rate": best[1], "ratio": pipeline / best[1],
    }


def _auto_side(family):
    import math

    from constrained_layers import _fft

    return math.isqrt(_fft.MIN_FFT_TAPS[family == "SharedConv", 2])


def goals(rows, fft_rows, pipe):
    """[(goal, measured, met)] from the measurements."""
    out = []
    by_case = {}
    for row in rows:
        by_case.setdefault(row["case"], {})[row["implementation"]] = row
    for case, impls in by_case.items():
        if "LocallyConnected" not in impls:
            continue
        lc = impls["LocallyConnected"]
        out.append((f"{case}: LocallyConnected ≤ 2× MultiChannelConv", f"{lc['ratio']:.2f}×", lc["ratio"] <= 2))
        tfk = [r for n, r in impls.items() if n.startswith("tf-keras") and r["ms_per_step"]]
        if tfk:
            fastest = min(tfk, key=lambda r: r["ratio"])
            speedup = fastest["ratio"] / lc["ratio"]
            out.append(
                (f"{case}: ≥ 5× faster than tf-keras's fastest ({fastest['implementation']})", f"{speedup:.1f}×", speedup >= 5)
            )
            impl1 = impls.get("tf-keras impl=1")
            if impl1 and impl1["step_peak_bytes"] is not None and lc["step_peak_bytes"] is not None:
                out.append(
                    (
                        f"{case}: peak step memory ≤ tf-keras impl=1",
                        f"{_mb(lc['step_peak_bytes'])} vs {_mb(impl1['step_peak_bytes'])}",
                        lc["step_peak_bytes"] <= impl1["step_peak_bytes"],
                    )
                )
    for row in rows:
        if row["group"] == "parity" and row["implementation"] != row["reference"]:
            out.append((f"{row['case']}: {row['implementation']} ≤ 1.05× {row['reference']}", f"{row['ratio']:.3f}×", row["ratio"] <= 1.05))
        if row["group"] == "fft" and row["implementation"] == "fft":
            speedup = 1 / row["ratio"]
            out.append((f"{row['case']}: fft ≥ 5× faster than direct", f"{speedup:.1f}×", speedup >= 5))
    for sweep in fft_rows:
        out.append(
            (
                f"crossover {sweep['family']} {sweep['size']}×{sweep['size']} (auto switches at "
                f"{_auto_side(sweep['family'])}×{_auto_side(sweep['family'])})",
                f"k = {sweep['crossover']}",
                None,
            )
        )
    if pipe:
        out.append(
            (
                f"input pipeline ≥ 10× the fastest zoo model ({pipe['model']})",
                f"{pipe['pipeline']:,.0f} vs {pipe['model_rate']:,.0f} examples/s = {pipe['ratio']:.1f}×",
                pipe["ratio"] >= 10,
            )
        )
    return out


def render(rows, fft_rows, pipe, goal_rows, header):
    lines = [header, "", "| case | shape | implementation | ms/step | ratio | peak step memory |", "|---|---|---|---:|---:|---:|"]
    for row in rows:
        if row["ms_per_step"] is None:
            lines.append(f"| {row['case']} | {row['shape']} | {row['implementation']} | skipped: {row.get('skipped', '')} | | |")
            continue
        ratio = "1 (ref.)" if row["implementation"] == row["reference"] else f"{row['ratio']:.2f}×"
        lines.append(
            f"| {row['case']} | {row['shape']} | {row['implementation']} | {row['ms_per_step']:,.1f} | {ratio} | {_mb(row['step_peak_bytes'])} |"
        )
    if fft_rows:
        lines += ["", "FFT crossover (ms/step, direct / fft):", ""]
        lines += ["| layer | image | batch | " + " | ".join(f"k={k}" for k, _, _ in fft_rows[0]["timings"]) + " | fft wins from |"]
        lines += ["|---|---|---:|" + "---:|" * len(fft_rows[0]["timings"]) + "---:|"]
        for s in fft_rows:
            cells = " | ".join(f"{d:,.1f} / {f:,.1f}" for _, d, f in s["timings"])
            lines.append(f"| {s['family']} | {s['size']}×{s['size']} | {s['batch']} | {cells} | {s['crossover']} |")
    if pipe:
        lines += [
            "",
            f"Input pipeline (Fashion-MNIST train, batch 128): {pipe['python_loop']:,.0f} examples/s through "
            f"measure_throughput (Python loop), {pipe['in_graph']:,.0f} drained in one tf.function; fastest zoo "
            f"model ({pipe['model']}, train_on_batch): {pipe['model_rate']:,.0f} examples/s; ratio (best pipeline "
            f"figure) {pipe['ratio']:.1f}×.",
        ]
    lines += ["", "| goal | measured | met |", "|---|---|---|"]
    for goal, measured, met in goal_rows:
        lines.append(f"| {goal} | {measured} | {'—' if met is None else ('yes' if met else 'NO')} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time the constrained layers against Keras's and tf-keras's (one training step of the layer alone).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="about a minute: fewer cases, repeats and sweeps")
    parser.add_argument("--only", default="", help="run only the cases whose name contains this text")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per case, at least (default: 15, --quick: 3)")
    parser.add_argument("--jit", action="store_true", help="compile every step with XLA (jit_compile=True)")
    parser.add_argument(
        "--memory", action=argparse.BooleanOptionalAction, default=None,
        help="measure peak step memory (a subprocess per implementation; default: on, off with --quick)",
    )
    parser.add_argument("--no-crossover", action="store_true", help="skip the FFT crossover sweep")
    parser.add_argument("--no-pipeline", action="store_true", help="skip the input pipeline measurement")
    parser.add_argument("--csv", default=None, help="also write the timing rows to this CSV file")
    parser.add_argument(
        "--budget", type=float, default=None, help="seconds per case before repeats are cut (min 3; default 120, --quick 8)"
    )
    parser.add_argument(
        "--min-time", type=float, default=None,
        help="seconds the fastest step of a case is timed for, at least (more repeats; default 4, --quick 0.5)",
    )
    args = parser.parse_args(argv)

    def log(text):
        print(text, file=sys.stderr, flush=True)

    from benchmarks import cases as case_module

    start = time.time()
    repeats = args.repeats or (3 if args.quick else 15)
    selected = [c for c in case_module.build_cases(quick=args.quick) if args.only in c.name]
    versions = _versions()
    load_before = _load()
    memory = (not args.quick) if args.memory is None else args.memory
    min_time = args.min_time if args.min_time is not None else (0.5 if args.quick else 4.0)
    args.budget = args.budget if args.budget is not None else (8.0 if args.quick else 120.0)
    rows = run_cases(selected, repeats, args.quick, args.jit, memory, args.budget, log, min_time)
    fft_rows = [] if args.no_crossover or args.only or args.quick else crossover(args.quick, log)
    pipe = None if args.no_pipeline or args.only else pipeline_vs_model(args.quick, log)
    header = (
        f"Machine: {_machine()}; load average before {load_before}, after {_load()} (1, 5, 15 min).  \n"
        f"Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".  \n"
        f"Command: python -m benchmarks {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip()
        + f" ({'XLA' if args.jit else 'graph mode, no XLA'}; at least {repeats} repeats per case, more until the "
        f"fastest step has run {min_time:g} s, at most {args.budget:g} s per case; "
        f"{time.time() - start:,.0f} s)."
    )
    print(render(rows, fft_rows, pipe, goals(rows, fft_rows, pipe), header))
    if args.csv:
        fields = ["case", "group", "shape", "implementation", "ms_per_step", "reference", "ratio", "repeats", "step_peak_bytes"]
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
