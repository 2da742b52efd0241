"""The plot of a results folder: test accuracy against weights, per family, with public reference points."""

import textwrap

from constrained_zoo.atomic import atomic_path

from . import identical, plot_labels as labels
from .results import FAMILY_ORDER, pareto_front

# Published reference points, drawn on the plot for comparison. These are
# other people's numbers, quoted with their source; nothing here is ours.
ANCHORS = {
    "fashion_mnist": [
        {"label": "2 Conv <100K (Fashion-MNIST README)", "params": 83_000, "accuracy": 0.925},
        {"label": "MLP 256-128-100 (Fashion-MNIST README)", "params": 248_000, "accuracy": 0.8833},
    ],
    "mnist1d": [
        {"label": "CNN (MNIST-1D paper)", "params": 5_210, "accuracy": 0.94},
        {"label": "GRU (MNIST-1D paper)", "params": None, "accuracy": 0.91},
        {"label": "MLP (MNIST-1D paper)", "params": None, "accuracy": 0.68},
    ],
}

FAMILY_COLORS = {
    "mlp": "#7f7f7f",
    "fully_connected": "#d62728",
    "locally_connected": "#ff7f0e",
    "low_rank_locally_connected": "#9467bd",
    "shared_conv": "#2ca02c",
    "multi_channel_conv": "#1f77b4",
}
def figure(rows, dataset, title=None):
    """The plot of `plot`, as a `matplotlib.figure.Figure` (on an Agg canvas), not saved.

    Labels are placed by `training.labels` (none overlaps another, a marker,
    an error bar or the legend, and all stay inside the axes); its
    annotations are `fig.axes[0].texts`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    drawn = _draw(ax, rows, dataset)
    ax.set_xscale("log")
    ax.set_xlabel("weights (every weight the model holds, Keras count_params)")
    ax.set_ylabel("test accuracy")
    ax.set_title(textwrap.fill(title or f"{dataset}: what each constraint buys per parameter", 90))
    ax.grid(True, which="both", alpha=0.3)
    ax.margins(x=0.08, y=0.08)
    legend = ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.canvas.draw()
    _place_labels(fig, ax, legend, rows, *drawn)
    return fig


def _draw(ax, rows, dataset):
    """Points, error bars, each family's frontier, the overall frontier, the anchors; what the labels need."""
    texts, points, colors, lines = [], [], [], []
    for family in FAMILY_ORDER:
        members = [r for r in rows if r["family"] == family]
        if not members:
            continue
        color = FAMILY_COLORS[family]
        ax.errorbar(
            [r["params"] for r in members],
            [r["test_accuracy_mean"] for r in members],
            yerr=[r["test_accuracy_std"] for r in members],
            fmt="o", color=color, capsize=3,
        )
        best = pareto_front(members)
        ax.plot([r["params"] for r in best], [r["test_accuracy_mean"] for r in best],
                "-", color=color, label=family)
        lines.append([(r["params"], r["test_accuracy_mean"]) for r in best])
        for r in members:
            texts.append(identical.plot_label(r))
            points.append((r["params"], r["test_accuracy_mean"]))
            colors.append("black")
    front = pareto_front(rows)
    if front:
        ax.step([r["params"] for r in front], [r["test_accuracy_mean"] for r in front],
                where="post", color="black", linestyle="--", linewidth=1, label="Pareto frontier")
        steps = [(front[0]["params"], front[0]["test_accuracy_mean"])]
        for a, b in zip(front, front[1:]):
            steps += [(b["params"], a["test_accuracy_mean"]), (b["params"], b["test_accuracy_mean"])]
        lines.append(steps)
    stars, captions = [], []
    for anchor in ANCHORS.get(dataset, []):
        if anchor["params"]:
            ax.scatter([anchor["params"]], [anchor["accuracy"]], marker="*", s=150, color="gold",
                       edgecolor="black", zorder=5)
            stars.append((anchor["params"], anchor["accuracy"]))
            captions.append((anchor["label"], (anchor["params"], anchor["accuracy"]), "star"))
        else:
            ax.axhline(anchor["accuracy"], color="gray", linestyle=":", linewidth=1)
            captions.append((f" {anchor['label']}", anchor["accuracy"], "line"))
    return texts, points, colors, lines, stars, captions


def _place_labels(fig, ax, legend, rows, texts, points, colors, lines, stars, captions):
    """Places every label clear of the others, the markers, the error bars and the legend (`labels`)."""
    candidates, obstacles, leaders = [], [], []
    # In display pixels from here on: the layout is final.
    px = 1.0 / 72 * fig.dpi
    to_px = ax.transData.transform
    obstacles.append(tuple(legend.get_window_extent().extents))
    for r in rows:
        x, y = to_px((r["params"], r["test_accuracy_mean"]))
        _, low = to_px((r["params"], r["test_accuracy_mean"] - r["test_accuracy_std"]))
        _, high = to_px((r["params"], r["test_accuracy_mean"] + r["test_accuracy_std"]))
        obstacles.append(labels.point_box((x, y), 4 * px))  # the marker, 6 points wide
        obstacles.append((x - 3 * px, low - 1, x + 3 * px, high + 1))  # the error bar and its caps
    for star in stars:
        obstacles.append(labels.point_box(to_px(star), 7 * px))
    segments = [s for line in lines for s in labels.polyline([to_px(p) for p in line])]
    near = labels.around(5 * px)
    left = ax.get_xlim()[0]
    for text, where, kind in captions:  # the public references first: the longest labels
        if kind == "star":
            options = labels.around(8 * px)
            point = where
        else:  # along its line, above or below, from the left edge
            point = (left, where)
            options = [(dx, dy, "left", va, 0 if dx == 2 else 1) for dx in range(2, 400, 20)
                       for dy, va in ((1, "bottom"), (-1, "top"))]
        texts.insert(0, text)
        points.insert(0, point)
        colors.insert(0, "dimgray")
        candidates.insert(0, options)
        leaders.insert(0, kind == "star")
    leaders += [True] * (len(texts) - len(leaders))
    candidates += [near] * (len(texts) - len(candidates))
    labels.annotate(ax, texts, points, candidates, obstacles, segments, colors=colors, leaders=leaders)


def plot(rows, dataset, path, title=None):
    """Test accuracy against parameters (log axis), per family, with anchors; saved to `path`.

    Every model is a point (with its std over seeds); each family's line
    joins its own Pareto frontier, the best the family reaches at each
    budget, so that a family holding several designs (LeNet-5 beside the
    zoo's CNNs) is still one curve. A model that computes the same function
    as another is labelled so ("fc1d_small (same function as mlp_1d_small)").
    """
    fig = figure(rows, dataset, title)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
