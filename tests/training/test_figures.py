"""The results plots read: no label overlaps another, a marker or the legend, or leaves the axes.

Rendered from the committed results folders (no training, no weights),
checked with the renderer's own text boxes (`training/sweeps/label_check.py`),
and the checker itself checked on layouts made to fail.
"""

import glob
import io
import json
import os

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from constrained_zoo.training import shift
from constrained_zoo.training.sweeps import identical, label_check, plots, results
from constrained_zoo.training.sweeps import plot_labels as labels

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIFTS = [0, 1, 2, 3, 4, 6]


def _folders(png):
    return sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(REPO, "results", "*", png)))


def _dataset(folder):
    """The anchors' dataset of a results folder, as the committed plots were made (`--dataset`)."""
    return next((d for d in plots.ANCHORS if folder.startswith(d)), folder)


def _rows(folder):
    return results.summarize(results.collect(os.path.join(REPO, "results", folder, "runs")))


def _shift_rows(folder):
    """`shift.summarize` of the runs whose shift.json holds every shift, as python -m constrained_zoo.training.shift reads them."""
    records = []
    for run_dir in shift.run_dirs(os.path.join(REPO, "results", folder)):
        stored = shift.stored_shifts(run_dir)
        if not all(s in stored for s in SHIFTS):
            continue
        with open(os.path.join(run_dir, "results.json"), encoding="utf-8") as f:
            result = json.load(f)
        records += [{"model": result["model"], "family": result["family"], "trainable_params": result["trainable_params"],
                     "seed": result["seed"], "shift": s, "test_accuracy": stored[s]} for s in SHIFTS]
    return shift.summarize(records)


def _figure():
    fig = Figure(figsize=(4, 3))
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def test_the_checker_finds_overlaps_escapes_covered_markers_and_the_legend():
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], "o-", label="line")
    ax.set_xlim(-1, 2)
    ax.set_ylim(-1, 2)
    ax.text(0.5, 0.5, "first")
    ax.text(0.5, 0.5, "second")  # on top of the first
    ax.text(2.5, 0.5, "escaped")  # right of the axes, and of the figure
    ax.text(1, 1, "on a marker", ha="center", va="center")
    legend = ax.legend(loc="lower right")
    fig.canvas.draw()
    corner = legend.get_window_extent()
    ax.annotate("under the legend", (corner.x0 + 2, corner.y0 + 2), xycoords="figure pixels")
    found = label_check.problems(fig)
    assert "'first' overlaps 'second'" in found
    assert "'escaped' is outside the figure" in found and "'escaped' is outside the axes" in found
    assert any(p.startswith("'on a marker' covers a marker at") for p in found)
    assert "'under the legend' overlaps the legend" in found


def test_the_checker_passes_a_clean_layout():
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], "o")
    ax.set_xlim(-1, 2)
    ax.set_ylim(-1, 2)
    ax.text(0.1, 0.5, "left")
    ax.text(1.1, 0.5, "right")
    assert label_check.problems(fig) == []


def test_place_separates_labels_of_one_point_and_reports_what_does_not_fit():
    anchors, sizes = [(50, 50)] * 3, [(30, 8)] * 3
    placed = labels.place(anchors, sizes, (0, 0, 100, 100), labels.around(6), obstacles=[labels.point_box((50, 50), 4)])
    assert all(p.fits for p in placed)
    assert labels.overlapping_pairs([p.box for p in placed]) == []
    assert labels.outside([p.box for p in placed], (0, 0, 100, 100)) == []
    assert placed[0].ring == 0 and not placed[0].leader
    cramped = labels.place(anchors, sizes, (30, 30, 70, 70), labels.around(4, rings=(0,)))
    assert [p.fits for p in cramped] == [True, True, False]


def test_stack_keeps_the_order_and_spacing():
    centres = labels.stack([5, 6, 6.5, 40], [4, 4, 4, 4], 0, 100, gap=1)
    assert centres == sorted(centres)
    assert all(b - a >= 5 - 1e-9 for a, b in zip(centres, centres[1:]))
    assert centres[3] == 40
    assert labels.stack([99], [4], 0, 100) == [98]  # kept inside


@pytest.mark.parametrize("folder", _folders("accuracy_vs_params.png"))
def test_accuracy_vs_params_labels_read(folder):
    rows = _rows(folder)
    fig = plots.figure(rows, _dataset(folder), results.recipe_title(os.path.join(REPO, "results", folder)))
    texts = [t.get_text().strip() for t in fig.axes[0].texts]
    assert len(texts) == len(rows) + len(plots.ANCHORS.get(_dataset(folder), []))
    assert {identical.plot_label(r) for r in rows} <= set(texts)
    assert label_check.problems(fig) == []


@pytest.mark.parametrize("folder", _folders("accuracy_vs_shift.png"))
def test_accuracy_vs_shift_labels_read(folder):
    rows = _shift_rows(folder)
    fig = shift.figure(rows, SHIFTS)
    texts = [t.get_text() for t in fig.axes[0].texts]
    families = {r["family"] for r in rows}
    assert len(texts) == len(families) and all(any(t.startswith(f) for t in texts) for f in families)
    assert label_check.problems(fig) == []


def test_the_same_input_gives_the_same_png():
    rows = _rows("mnist1d")

    def png():
        buffer = io.BytesIO()
        plots.figure(rows, "mnist1d").savefig(buffer, format="png", dpi=60)
        return buffer.getvalue()

    assert png() == png()


def _row(model, accuracy, **extra):
    return {"model": model, "label": model, "family": "mlp", "params": 15210, "trainable_params": 15210, "clean": True, "test_accuracy_mean": accuracy,
            "test_accuracy_std": 0.0, "seeds": 1, "epochs": 1, "num_train": 10, "train_seconds_mean": 1.0,
            "best_val_accuracy_mean": accuracy, **extra}


def test_tables_mark_models_that_compute_the_same_function():
    rows = [_row("mlp_1d_small", 0.6445), _row("fc1d_small", 0.6445), _row("fc2d_small", 0.88),
            _row("fc1d_small", 0.5, label="fc1d_small (width=2)", model_args={"width": 2})]
    table = results.to_markdown(rows)
    assert "| fc1d_small ≡ mlp_1d_small |" in table
    assert "| fc1d_small (width=2) |" in table  # an override is another model
    assert "- fc1d_small computes the same function as mlp_1d_small (the same test accuracy)." in table
    assert "- fc2d_small computes the same function as mlp_small (mlp_small is not in this table)." in table
    csv_text = results.to_csv(rows)
    assert csv_text.splitlines()[0].endswith(",same_as")
    assert ",mlp_1d_small" in csv_text.splitlines()[2]
    assert "same_as" not in results.to_csv(rows[:1]) and "≡" not in results.to_markdown(rows[:1])
    assert identical.plot_label(rows[1]) == "fc1d_small (same function as mlp_1d_small)"
