"""`make demo`: a short, time-bounded sweep of the zoo on Fashion-MNIST.

    python -m training.demo [--out runs/demo] [--epochs 4] [--max-train-examples 8000]

Trains one small model of each family (MLP, FullyConnected2D,
LocallyConnected, SharedConv, MultiChannelConv) with one recipe on a subset
of Fashion-MNIST, prints the accuracy-against-parameters table, writes the
plot, and copies the SavedModel of the model with the best VALIDATION
accuracy (never chosen on the test set) to OUT/best_saved_model. Interrupted,
it resumes where it stopped. The published, full-length results are in
results/ and come from `python -m training.sweep` (see README).
"""

import argparse
import csv
import os
import shutil
import sys
import time

from training import sweep
from training.atomic import atomic_path, write_json
from training.report import collect

DEMO_MODELS = "mlp_small,fc2d_tiny,lc_small,sharedconv_small,cnn_small"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m training.demo",
        description="A short sweep of one model per family on a subset of Fashion-MNIST.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", default=os.path.join("runs", "demo"))
    parser.add_argument("--models", default=DEMO_MODELS)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--max-train-examples", type=int, default=8000)
    parser.add_argument("--validation-fraction", type=float, default=0.1,
                        help="held out from train to choose the best model; 0: choose by training accuracy")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    code = sweep.main([
        "--dataset", "fashion_mnist", "--models", args.models, "--epochs", str(args.epochs),
        "--max-train-examples", str(args.max_train_examples), "--out", args.out,
        "--validation-fraction", str(args.validation_fraction),
        "--title", f"Fashion-MNIST demo: {args.max_train_examples:,} training images, {args.epochs} epochs",
    ])
    results = collect(os.path.join(args.out, "runs"))
    if not results:
        return code or 1
    if all(r.get("best_val_accuracy") is not None for r in results):
        chosen_by, key = "best validation accuracy", "best_val_accuracy"
    else:  # no validation set (--validation-fraction 0): never the test set
        chosen_by, key = "final training accuracy (no validation set)", "final_train_accuracy"
        for r in results:
            r[key] = _final_train_accuracy(os.path.join(args.out, "runs", r["model"], f"seed{r['seed']}"))
    best = max(results, key=lambda r: r[key])
    source = os.path.join(args.out, "runs", best["model"], f"seed{best['seed']}", "saved_model")
    target = os.path.join(args.out, "best_saved_model")
    with atomic_path(target) as tmp:
        shutil.copytree(source, tmp)
    write_json(os.path.join(args.out, "best_model.json"), {
        "model": best["model"], "chosen_by": chosen_by, key: best[key],
        "best_val_accuracy": best["best_val_accuracy"], "test_accuracy": best["test_accuracy"],
    })
    print(f"\nbest model by {chosen_by}: {best['model']} "
          f"({key.replace('_', ' ')} {best[key]:.4f}, test {best['test_accuracy']:.4f})")
    print(f"  table:       {args.out}/results.md and results.csv")
    print(f"  plot:        {args.out}/accuracy_vs_params.png")
    print(f"  SavedModel:  {target}/  (serve it with tf.saved_model.load; "
          f"evaluate: python -m training.evaluate {os.path.dirname(source)})")
    print(f"  runs:        {args.out}/runs/MODEL/seed0/ (config, history, TensorBoard, model.keras)")
    print(f"demo finished in {time.perf_counter() - start:.0f} s")
    return code


def _final_train_accuracy(run_dir):
    """The last epoch's training accuracy from the run's history.csv (0 if unreadable)."""
    try:
        with open(os.path.join(run_dir, "history.csv"), encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        return float(rows[-1]["accuracy"])
    except (OSError, ValueError, KeyError, IndexError):
        return 0.0


if __name__ == "__main__":
    sys.exit(main())
