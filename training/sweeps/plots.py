"""The plot of a results folder: test accuracy against parameters, per family, with public reference points."""

from ..run.atomic import atomic_path
from .results import FAMILY_ORDER, _label, pareto_front

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
    "shared_conv": "#2ca02c",
    "multi_channel_conv": "#1f77b4",
}
def plot(rows, dataset, path, title=None):
    """Test accuracy against parameters (log axis), per family, with anchors.

    Every model is a point (with its std over seeds); each family's line
    joins its own Pareto frontier, the best the family reaches at each
    budget, so that a family holding several designs (LeNet-5 beside the
    zoo's CNNs) is still one curve.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for family in FAMILY_ORDER:
        members = [r for r in rows if r["family"] == family]
        if not members:
            continue
        color = FAMILY_COLORS[family]
        ax.errorbar(
            [r["trainable_params"] for r in members],
            [r["test_accuracy_mean"] for r in members],
            yerr=[r["test_accuracy_std"] for r in members],
            fmt="o", color=color, capsize=3,
        )
        best = pareto_front(members)
        ax.plot([r["trainable_params"] for r in best], [r["test_accuracy_mean"] for r in best],
                "-", color=color, label=family)
        for r in members:
            ax.annotate(_label(r), (r["trainable_params"], r["test_accuracy_mean"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    front = pareto_front(rows)
    if front:
        ax.step([r["trainable_params"] for r in front], [r["test_accuracy_mean"] for r in front],
                where="post", color="black", linestyle="--", linewidth=1, label="Pareto frontier")
    for anchor in ANCHORS.get(dataset, []):
        if anchor["params"]:
            ax.scatter([anchor["params"]], [anchor["accuracy"]], marker="*", s=150, color="gold",
                       edgecolor="black", zorder=5)
            ax.annotate(anchor["label"], (anchor["params"], anchor["accuracy"]), fontsize=7,
                        xytext=(-8, 6), textcoords="offset points", ha="right")
        else:
            ax.axhline(anchor["accuracy"], color="gray", linestyle=":", linewidth=1)
            ax.text(0.01, anchor["accuracy"], f" {anchor['label']}", fontsize=7, color="dimgray",
                    transform=ax.get_yaxis_transform(), va="bottom")
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters")
    ax.set_ylabel("test accuracy")
    ax.set_title(title or f"{dataset}: what each constraint buys per parameter")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
