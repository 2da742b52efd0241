"""What the two §7.1 notebooks need beyond one idea a cell: training loops, tables, the chapter's figures.

The notebooks import it as `import chapter_helpers as ch` (it sits beside them; the exercises'
own helpers are `exercise_helpers`). Nothing here is
part of the layers or the zoo: it is the notebooks' scaffolding, kept out of their cells so that
each cell shows one step of the argument.

    >>> import numpy as np
    >>> import chapter_helpers as ch
    >>> ch.mean_abs_cosine(np.eye(3))  # three orthogonal kernels
    0.0
"""

import pathlib
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import Image, Markdown, display

from constrained_layers import SharedConv
from constrained_zoo import markdown

REPO = pathlib.Path(__file__).resolve().parents[1]  # the repository root
SEED = 0


# --- training -------------------------------------------------------------------------------------------

def train(model, x, y=None, *, epochs, learning_rate=3e-3, batch_size=64, validation=None, steps=None,
          callbacks=()):
    """Compiles `model` (Adam, cross-entropy on logits) and fits it quietly; returns (history, seconds).

    `x` is a tf.data pipeline of (inputs, labels) batches, or an array with its labels `y` (then shuffled
    with a seed, a new order each epoch, in batches of `batch_size`).
    """
    if y is not None:
        x = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=SEED).batch(batch_size)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x, epochs=epochs, steps_per_epoch=steps, validation_data=validation, shuffle=False,
                        callbacks=list(callbacks), verbose=0)
    return history.history, time.perf_counter() - start


def accuracy(model, x, y=None):
    """Accuracy of `model` on a tf.data pipeline, or on an array `x` with labels `y`."""
    if y is not None:
        x = tf.data.Dataset.from_tensor_slices((x, y)).batch(256)
    return model.evaluate(x, verbose=0)[1]


def markdown_table(header, rows):
    """A Markdown table to display: `header` a list of column titles, `rows` lists of already formatted cells."""
    return Markdown(markdown.markdown_table(header, rows))


# --- results/ files, shown as they are on disk ------------------------------------------------------------

def show_results_file(relative_path):
    """Displays `results/...` (a .md table or a .png plot) exactly as stored, tagged with its path.

    The tag (the output's metadata `results_file`) lets tests/test_notebooks.py check that the saved
    notebook still shows what the file holds.
    """
    path = REPO / relative_path
    if not path.exists():
        print(f"{relative_path}: not there yet")
        return
    tag = {"results_file": str(relative_path)}
    if path.suffix == ".md":
        display(Markdown(path.read_text(encoding="utf-8")), metadata=tag)
    else:
        display(Image(filename=str(path)), metadata=tag)


# --- 01 §2.1: receptive fields ---------------------------------------------------------------------------

def input_gradient(layer, pixel, shape=(28, 28, 1), seed=SEED):
    """∂ layer(x)[0, i, j, 0] / ∂x for a random x: which input pixels output `pixel` reads."""
    x = tf.constant(np.random.default_rng(seed).normal(size=(1, *shape)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)[0, pixel[0], pixel[1], 0]
    return tape.gradient(y, x).numpy()[0, :, :, 0]  # (H, W): channel 0 of the input


def plot_receptive_fields(layers, pixels):
    """|∂H[pixel]/∂X| for each layer (columns) and pixel (rows); returns {(name, pixel): gradient}."""
    fig, axes = plt.subplots(len(pixels), len(layers), figsize=(3 * len(layers), 3 * len(pixels)))
    gradients = {}
    for col, (name, layer) in enumerate(layers.items()):
        for row, pixel in enumerate(pixels):
            g = gradients[name, pixel] = input_gradient(layer, pixel)
            ax = axes[row, col]
            ax.imshow(np.abs(g), cmap="magma")
            ax.plot(pixel[1], pixel[0], "c+", markersize=12, markeredgewidth=2)
            ax.set_xticks([]), ax.set_yticks([])
            title = f"pixel {pixel}: {np.count_nonzero(g)} inputs"
            ax.set_title(f"{name}\n{title}" if row == 0 else title, fontsize=9)
    fig.suptitle("|∂ output pixel / ∂ input| (bright: read with a large weight; black: not read)", y=1.0)
    plt.tight_layout()
    plt.show()
    return gradients


def same_after_shift(layer, p, q, shape=(28, 28, 1)):
    """max |∂H[p]/∂X − (∂H[q]/∂X shifted by p − q)| where both are inside the image."""
    gp, gq = input_gradient(layer, p, shape), input_gradient(layer, q, shape)
    di, dj = q[0] - p[0], q[1] - p[1]
    n, m = shape[:2]
    rows, cols = slice(max(0, -di), min(n, n - di)), slice(max(0, -dj), min(m, m - dj))
    shifted = gq[rows.start + di: rows.stop + di, cols.start + dj: cols.stop + dj]
    return float(np.max(np.abs(gp[rows, cols] - shifted)))


# --- 01 §2.2: sharing versus not --------------------------------------------------------------------------

def single_layer_model(layer, input_shape, num_classes, name):
    """constrained layer (with its ReLU) → 2×2 max pool → logits, to look at the layer's trained weights."""
    inputs = keras.Input(input_shape)
    x = layer(inputs)  # (B, 28, 28, 1)
    x = keras.layers.MaxPooling2D(2)(x)  # (B, 14, 14, 1)
    outputs = keras.layers.Dense(num_classes)(keras.layers.Flatten()(x))  # (B, 10)
    return keras.Model(inputs, outputs, name=name)


def mean_abs_cosine(kernels):
    """Mean |cosine similarity| between the kernels (rows) at two different positions."""
    unit = kernels / np.linalg.norm(kernels, axis=1, keepdims=True)
    similarity = np.abs(unit @ unit.T)
    return float((similarity.sum() - len(unit)) / (len(unit) * (len(unit) - 1)))


def plot_kernels(shared_kernel, local_kernel_at, positions, example):
    """SharedConv's one kernel (top) against LocallyConnected's kernel at each position (bottom)."""
    limit = max(np.abs(shared_kernel).max(), max(np.abs(local_kernel_at(p)).max() for p in positions))
    fig, axes = plt.subplots(2, len(positions) + 1, figsize=(2.4 * (len(positions) + 1) + 1, 5.2))
    for row in range(2):
        axes[row, 0].imshow(example, cmap="gray_r")
        for p in positions:
            axes[row, 0].add_patch(plt.Rectangle((p[1] - 2.5, p[0] - 2.5), 5, 5, fill=False, color="red", lw=1))
    axes[0, 0].set_title("the five windows", fontsize=9)
    for col, p in enumerate(positions, start=1):
        image = axes[0, col].imshow(shared_kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[0, col].set_title(f"kernel at {p}", fontsize=9)
        axes[1, col].imshow(local_kernel_at(p), cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[1, col].set_title(f"kernel at {p}", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([]), ax.set_yticks([])
    axes[0, 1].set_ylabel("SharedConv", fontsize=10)
    axes[1, 1].set_ylabel("LocallyConnected", fontsize=10)
    fig.colorbar(image, ax=axes[:, 1:].ravel().tolist(), shrink=0.8, label="kernel weight")
    plt.show()


# --- 01 §2.3: Where's Waldo -------------------------------------------------------------------------------

def fixed_shared_conv(kernel, name):
    """A SharedConv whose (kh, kw) kernel is given: 'valid', so output (i, j) is the window at (i, j)."""
    layer = SharedConv(kernel_size=kernel.shape, padding="valid", use_bias=False, trainable=False, name=name)
    layer.build((None, None, None, 1))
    layer.kernel.assign(kernel[:, :, None, None].astype("float32"))
    return layer


def template_detector(template):
    """Normalized cross-correlation with `template`, as a Keras model made of three SharedConv layers."""
    t = template - template.mean()
    t = t / np.linalg.norm(t)
    box = np.ones_like(template)
    scene = keras.Input((None, None, 1))
    correlation = fixed_shared_conv(t, "template")(scene)  # Σ T·X, (B, H-27, W-27, 1)
    local_sum = fixed_shared_conv(box, "local_sum")(scene)  # Σ X
    local_energy = fixed_shared_conv(box, "local_sum_of_squares")(keras.ops.square(scene))  # Σ X²
    spread = keras.ops.relu(local_energy - keras.ops.square(local_sum) / box.size)
    score = correlation / keras.ops.sqrt(spread + 1e-6)
    return keras.Model(scene, score, name="waldo_detector")


def make_scene(waldo, crowd, waldo_cell, rng):
    """A 5×5 grid of 32×32 cells, each holding one item at a random offset; returns (scene, Waldo's corner)."""
    scene = np.zeros((160, 160), "float32")
    items = list(crowd[rng.permutation(len(crowd))])
    items.insert(waldo_cell, waldo)
    corners = []
    for cell, item in enumerate(items):
        top, left = 32 * (cell // 5) + rng.integers(0, 5), 32 * (cell % 5) + rng.integers(0, 5)
        scene[top:top + 28, left:left + 28] = item
        corners.append((int(top), int(left)))
    return scene, corners[waldo_cell]


def plot_waldo(waldo, scenes, scores):
    """Each scene with the detection (top) and its score map on the scene's own axes (bottom).

    Score (i, j) belongs to the 28×28 window whose top-left corner is (i, j): it is drawn at that
    window's centre, (i + 13.5, j + 13.5), so the map lines up with the scene it was computed on.
    """
    k = waldo.shape[0]
    fig, axes = plt.subplots(2, len(scenes) + 1, figsize=(4.2 * len(scenes) + 2, 8),
                             gridspec_kw={"width_ratios": [0.45] + [1] * len(scenes)})
    axes[0, 0].imshow(waldo, cmap="gray_r"), axes[0, 0].set_title("Waldo (the template)", fontsize=10)
    axes[1, 0].axis("off")
    for col, (scene, score) in enumerate(zip(scenes, scores), start=1):
        found = np.unravel_index(np.argmax(score), score.shape)
        axes[0, col].imshow(scene, cmap="gray_r", extent=(-0.5, 159.5, 159.5, -0.5))
        axes[0, col].add_patch(plt.Rectangle((found[1] - 0.5, found[0] - 0.5), k, k, fill=False, color="red", lw=2))
        axes[0, col].set_title(f"detection (red) at corner {tuple(map(int, found))}", fontsize=10)
        c = (k - 1) / 2  # 13.5: a window's centre, from its corner
        n, m = score.shape
        image = axes[1, col].imshow(score, cmap="RdBu_r", vmin=-1, vmax=1,
                                    extent=(c - 0.5, c + m - 0.5, c + n - 0.5, c - 0.5))
        axes[1, col].plot(found[1] + c, found[0] + c, "kx", markersize=10, markeredgewidth=2)
        axes[1, col].set_xlim(-0.5, scene.shape[1] - 0.5), axes[1, col].set_ylim(scene.shape[0] - 0.5, -0.5)
        axes[1, col].set_title(f"score at each window's centre (peak {score.max():.3f})", fontsize=10)
        fig.colorbar(image, ax=axes[1, col], shrink=0.8, label="normalized cross-correlation")
    for ax in axes.ravel():
        ax.set_xticks([]), ax.set_yticks([])
    plt.show()


def runner_up(score, exclude=8):
    """The best score more than `exclude` pixels (L1) away from the peak."""
    found = np.unravel_index(np.argmax(score), score.shape)
    rows, cols = np.indices(score.shape)
    return float(score[np.abs(rows - found[0]) + np.abs(cols - found[1]) > exclude].max())


# --- convolution against cross-correlation (eqs. 7.1.4-7.1.6) ----------------------------------------------

def full_convolution(kernel, signal, convolution=True):
    """`kernel` * `signal` (full output) with a SharedConv: zero-pad the signal by kernel−1, then 'valid'."""
    kh, kw = kernel.shape
    layer = SharedConv(kernel_size=(kh, kw), padding="valid", convolution=convolution, use_bias=False)
    padded = np.pad(signal, ((kh - 1, kh - 1), (kw - 1, kw - 1)))[None, :, :, None]
    layer.build(padded.shape)
    layer.kernel.assign(kernel[:, :, None, None])
    return layer(padded).numpy()[0, :, :, 0]


def shared_conv_with(kernel, input_shape, **kwargs):
    """A built, bias-free SharedConv holding `kernel` (kh, kw) for one channel."""
    layer = SharedConv(kernel_size=kernel.shape, use_bias=False, **kwargs)
    layer.build(input_shape)
    layer.kernel.assign(kernel[:, :, None, None])
    return layer


# --- 01 §5: the zoo, quickly ------------------------------------------------------------------------------

def plot_zoo(rows, colors, title):
    """Test accuracy against parameters, one point per model, coloured by family."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in rows:
        ax.scatter(r["params"], r["test"], s=60, color=colors.get(r["family"], "black"), label=r["family"])
        ax.annotate(r["model"], (r["params"], r["test"]), textcoords="offset points", xytext=(6, 4), fontsize=9)
    ax.set_xscale("log")
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=9)
    ax.grid(alpha=0.3)
    plt.show()
