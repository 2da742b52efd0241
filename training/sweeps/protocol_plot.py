"""The figure of a protocol study: test accuracy against training examples, one panel per condition.

The report (`protocol_report.main`) writes it beside the protocol file as
`accuracy_vs_examples.png`, and only once the protocol is complete, like
every other figure that shows test accuracy. Each model is one line: its
mean test accuracy over the seeds at the rate chosen on validation, with the
95% t-interval of that mean (the report's level) as a band. The panels
share both axes, so the control reads against the true order at a glance.
A study of one size draws each model as a point with its interval instead.

The figure shows levels; what changes between sizes, and what the control
takes away, are differences paired by seed, which the report's tables give
with their own intervals (a band that overlaps another does not mean their
paired difference is unresolved).
"""

from constrained_zoo.atomic import atomic_path

from .paired import t_interval
from .plots import FAMILY_COLORS
from .protocol_tables import accuracy

MARKERS = ("o", "s", "^", "D", "v", "P")


def series(protocol, cells, condition, name):
    """`[(size, mean, low, high)]` of test accuracy for `name` under `condition`, sizes in increasing order."""
    points = []
    for size in sorted(protocol.sizes):
        mean, low, high = t_interval(list(accuracy(cells[condition, name, size]).values()), protocol.interval)
        points.append((size, mean, low, high))
    return points


def _style(protocol, cells):
    """`{name: (color, marker)}`: the family's color; within a family, one marker per model."""
    styles, seen = {}, {}
    for name in protocol.models:
        family = next(iter(cells[protocol.conditions[0].name, name, protocol.sizes[0]]["runs"].values()))["family"]
        index = seen[family] = seen.get(family, -1) + 1
        styles[name] = FAMILY_COLORS.get(family, "black"), MARKERS[index % len(MARKERS)]
    return styles


def figure(protocol, cells):
    """The study's figure as a `matplotlib.figure.Figure` on an Agg canvas (not saved); one axes per condition."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # pylint: disable=import-outside-toplevel
    from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel

    conditions = protocol.conditions
    fig = Figure(figsize=(4.8 * len(conditions) + 1.0, 4.8))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(conditions), sharex=True, sharey=True, squeeze=False)[0]
    styles = _style(protocol, cells)
    one_size = len(protocol.sizes) == 1
    for ax, condition in zip(axes, conditions):
        for index, name in enumerate(protocol.models):
            color, marker = styles[name]
            cell = cells[condition.name, name, protocol.sizes[0]]
            label = f"{name} ({cell['group']}, {cell['params']:,} weights)"
            points = series(protocol, cells, condition.name, name)
            means = [m for _, m, _, _ in points]
            if one_size:
                low, high = points[0][2], points[0][3]
                ax.errorbar([index], means, yerr=[[means[0] - low], [high - means[0]]], color=color,
                            marker=marker, capsize=4, linestyle="none", label=label)
                continue
            sizes = [s for s, _, _, _ in points]
            ax.fill_between(sizes, [lo for _, _, lo, _ in points], [hi for _, _, _, hi in points], color=color,
                            alpha=0.15, linewidth=0)
            ax.plot(sizes, means, color=color, marker=marker, label=label)
        ax.set_title(condition.name, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        if one_size:
            ax.set_xticks(range(len(protocol.models)), protocol.models, rotation=30, ha="right", fontsize=7)
            ax.set_xlabel(f"model (n = {protocol.sizes[0]:,} training examples)")
        else:
            ax.set_xscale("log")
            sizes = sorted(protocol.sizes)
            ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
            ax.xaxis.set_minor_formatter("")
            ax.set_xlabel("training examples")
    axes[0].set_ylabel(f"test accuracy (mean over {protocol.seeds} seeds; {protocol.interval:.0%} t-interval)")
    axes[-1].legend(fontsize=7, loc="best")
    fig.suptitle(f"{protocol.study}: {protocol.steps:,} optimizer steps at every size, rate chosen on validation",
                 fontsize=10)
    fig.tight_layout()
    return fig


def plot(protocol, cells, path):
    """Writes `figure(protocol, cells)` to `path` (a PNG), atomically."""
    fig = figure(protocol, cells)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
