"""What the two §7.1 notebooks need beyond one idea a cell: training loops, figures, toy data.

The notebooks import it as `import chapter_helpers as ch` (it sits beside them). Nothing here is
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

from constrained_layers import LocallyConnected, MultiChannelConv, SharedConv

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
    """A Markdown table: `header` a list of column titles, `rows` lists of already formatted cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return Markdown("\n".join(lines))


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


# --- 02, exercise 2: audio ---------------------------------------------------------------------------------

AUDIO_CLASSES = ("rising chirp", "falling chirp", "steady tone")
SR = 4000  # samples per second


def chirp(seconds=0.05, f0=600, sweep=8000):
    """A Hann-windowed chirp starting at f0 Hz and rising by `sweep` Hz/s."""
    t = np.arange(int(seconds * SR)) / SR
    return (np.sin(2 * np.pi * (f0 * t + 0.5 * sweep * t**2)) * np.hanning(len(t))).astype("float32")


def clips(n, start_range, rng, seconds=1.0, duration=0.3):
    """n noisy clips holding one sound of `duration` s that starts in `start_range`; labels index AUDIO_CLASSES."""
    t = np.arange(int(seconds * SR)) / SR
    x = rng.normal(0, 0.3, (n, len(t))).astype("float32")
    y = rng.integers(0, len(AUDIO_CLASSES), n).astype("int32")
    for k in range(n):
        t0, f0 = rng.uniform(*start_range), rng.uniform(400, 1200)
        sweep = (700, -700, 0)[y[k]]  # Hz over the sound's duration
        on = (t >= t0) & (t < t0 + duration)
        tau = t[on] - t0
        x[k, on] += np.sin(2 * np.pi * (f0 * tau + 0.5 * sweep / duration * tau**2)) * np.hanning(on.sum())
    return x, y


def spectrogram(x):
    """log(1 + |STFT|): (n, samples) → (n, frames, bins, 1), time down, frequency across."""
    stft = tf.signal.stft(x, frame_length=128, frame_step=64)  # (n, 61, 65) complex
    return np.log1p(np.abs(stft.numpy()))[..., None].astype("float32")


def plot_matched_filter(recording, response, shifted_response, shift, peaks):
    """The recording, the matched filter's response, and the response to the shifted recording."""
    fig, axes = plt.subplots(3, 1, figsize=(10, 5.5), sharex=True)
    axes[0].plot(recording, lw=0.5), axes[0].set_title("recording: noise and two 50 ms calls (at samples 700 and 2600)")
    axes[1].plot(response, lw=0.7), axes[1].set_title(f"SharedConv1D(kernel = the call): peaks at samples {peaks}")
    axes[2].plot(shifted_response, lw=0.7, color="tab:orange")
    axes[2].set_title(f"the same layer on the recording shifted by {shift} samples")
    axes[2].set_xlabel("sample")
    plt.tight_layout()
    plt.show()


def plot_spectrograms(train_spec, train_labels, later_spec, later_labels):
    """One training spectrogram per class, and one test spectrogram whose sound comes later."""
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
    shown = [(train_spec, train_labels, k, "train") for k in range(3)] + [(later_spec, later_labels, 0, "test, later")]
    for ax, (spec, labels, k, what) in zip(axes, shown):
        i = int(np.flatnonzero(labels == k)[0])
        image = ax.imshow(spec[i, :, :, 0].T, origin="lower", aspect="auto", cmap="magma", extent=(0, 1, 0, SR / 2))
        ax.set_title(f"{what}: {AUDIO_CLASSES[k]}", fontsize=10), ax.set_xlabel("time (s)")
    axes[0].set_ylabel("frequency (Hz)")
    fig.colorbar(image, ax=axes.tolist(), label="log(1 + |STFT|)")
    plt.show()


# --- 02, exercise 3b: a label that depends on position -----------------------------------------------------

QUADRANTS = ("top left", "top right", "bottom left", "bottom right")
OFFSETS = np.array([0, 1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 14])  # item corner; 6-8 left out: no item straddles the centre


def quadrant_task(images, n, rng):
    """n shrunken items at random offsets in blank 28×28 images; label = the quadrant (index into QUADRANTS)."""
    items = images[rng.choice(len(images), n, replace=False)]
    small = items.reshape(n, 14, 2, 14, 2, 1).mean(axis=(2, 4))  # (n, 14, 14, 1): 2×2 average
    rows, cols = rng.choice(OFFSETS, n), rng.choice(OFFSETS, n)
    x = np.zeros((n, 28, 28, 1), "float32")
    for k in range(n):
        x[k, rows[k]:rows[k] + 14, cols[k]:cols[k] + 14] = small[k]
    return x, (2 * (rows >= 7) + (cols >= 7)).astype("int32")


def pooled_model(spatial_layer, name):
    """per-pixel MLP → `spatial_layer` → global average pool → 4 logits."""
    inputs = keras.Input((28, 28, 1))
    x = MultiChannelConv(4, delta=0, activation="relu", name="pixel_mlp")(inputs)  # (B, 28, 28, 4)
    x = spatial_layer(x)  # (B, 28, 28, 4)
    x = keras.layers.GlobalAveragePooling2D()(x)  # (B, 4)
    return keras.Model(inputs, keras.layers.Dense(4)(x), name=name)


def quadrant_models():
    """The three models of exercise 3b, as builders."""
    from constrained_zoo import models
    return {
        "SharedConv (circular) + pool": lambda: pooled_model(
            SharedConv(delta=1, activation="relu", padding_mode="circular"), "shared"),
        "LocallyConnected + pool": lambda: pooled_model(LocallyConnected(4, delta=1, activation="relu"), "local"),
        "zoo: sharedconv_small": lambda: models.create_model("sharedconv_small", input_shape=(28, 28, 1), num_classes=4),
    }


def plot_quadrants(x, labels):
    """One example per quadrant, titled with the quadrant's name."""
    fig, axes = plt.subplots(1, 4, figsize=(8, 2.3))
    for q, ax in enumerate(axes):
        ax.imshow(x[int(np.flatnonzero(labels == q)[0]), :, :, 0], cmap="gray_r")
        ax.axhline(13.5, color="tab:blue", lw=0.5), ax.axvline(13.5, color="tab:blue", lw=0.5)
        ax.set_title(f"label: {QUADRANTS[q]}", fontsize=9), ax.set_xticks([]), ax.set_yticks([])
    plt.tight_layout()
    plt.show()


# --- 02, exercise 5: boundaries ----------------------------------------------------------------------------

PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "symmetric": "symmetric", "circular": "wrap"}


def box_blur(delta, mode):
    """A bias-free SharedConv(delta) with every weight 1/(2Δ+1)², for 28×28 images, in `padding_mode` mode."""
    side = 2 * delta + 1
    return shared_conv_with(np.full((side, side), 1 / side**2, "float32"), (None, 28, 28, 1), padding_mode=mode)


def plot_padding(image, outputs, delta, errors):
    """Top: what each padding mode reads beyond the border (numpy.pad); bottom: the layer's output."""
    fig, axes = plt.subplots(2, 4, figsize=(12, 6.5))
    for col, (mode, numpy_mode) in enumerate(PADDING_MODES.items()):
        axes[0, col].imshow(np.pad(image, delta, mode=numpy_mode), cmap="gray_r", vmin=0, vmax=1)
        axes[0, col].add_patch(plt.Rectangle((delta - 0.5, delta - 0.5), 28, 28, fill=False, color="red", lw=1.5))
        axes[0, col].set_title(f"padding_mode={mode!r}\n(red: the image)", fontsize=10)
        axes[1, col].imshow(outputs[mode], cmap="gray_r", vmin=0, vmax=outputs["zeros"].max())
        axes[1, col].set_title(f"output; max |layer − reference| = {errors[mode]:.0e}", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([]), ax.set_yticks([])
    plt.tight_layout()
    plt.show()


# --- 02, exercise 7: the convolution theorem ---------------------------------------------------------------

def best_time(fn, repeats=5):
    """The best of `repeats` wall-clock times of fn(), after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def time_direct_and_fft(sizes, rng, batch=8, side=128):
    """For each kernel side k: (k, direct seconds, FFT seconds, max |direct − FFT|), 'same' true convolution."""
    x = tf.constant(rng.normal(size=(batch, side, side, 1)).astype("float32"))  # (B, n, n, 1)
    timings = []
    for k in sizes:
        kernel = rng.normal(size=(k, k)).astype("float32")
        direct = shared_conv_with(kernel, x.shape, convolution=True, implementation="direct")
        fft = shared_conv_with(kernel, x.shape, convolution=True, implementation="fft")
        error = float(np.max(np.abs(direct(x).numpy() - fft(x).numpy())))
        timings.append((k, best_time(lambda: direct(x).numpy()), best_time(lambda: fft(x).numpy()), error))
    return timings


def plot_timings(timings):
    """Time per batch against the kernel side, direct and FFT paths of SharedConv."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot([t[0] for t in timings], [1e3 * t[1] for t in timings], "o-", label="SharedConv(implementation='direct')")
    ax.plot([t[0] for t in timings], [1e3 * t[2] for t in timings], "s-", label="SharedConv(implementation='fft')")
    ax.set_xlabel("kernel side k")
    ax.set_ylabel("time per batch (ms, best of 5)")
    ax.set_yscale("log")
    ax.set_title("8 × 128×128 images, 2 CPU cores")
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3)
    plt.show()


# --- 02, exercise 4: text ----------------------------------------------------------------------------------

def reads_positions(stack, x, i):
    """The input positions that output position `i` (channel 0) of the stacked 1D layers depends on."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = x
        for layer in stack:
            h = layer(h)
        out = h[0, i, 0]
    g = tape.gradient(out, x).numpy()[0]  # (T, C)
    return set(np.flatnonzero(np.abs(g).sum(axis=1) > 0).tolist())


# --- 02, exercises 2b and 3a: MNIST-1D ---------------------------------------------------------------------

def mnist1d_runs(names, epochs, pixel_shuffle, initial_weights=None, record=("fc1d_small",)):
    """Trains the zoo's models `names` on MNIST-1D (optionally pixel-shuffled); returns {name: row}.

    Adam at 1e-2, batch 100, seed SEED. For the models in `record`, row["logits"] holds the test
    logits after every epoch; row["initial_weights"] the weights before training.
    """
    from constrained_zoo import models
    from constrained_zoo.training.data import load_dataset

    splits, spec = load_dataset("mnist1d", batch_size=100, seed=SEED, epochs=epochs, pixel_shuffle=pixel_shuffle)
    rows = {}
    for name in names:
        keras.utils.set_random_seed(SEED)
        model = models.create_model(name, input_shape=spec.input_shape, num_classes=spec.num_classes)
        if initial_weights and name in initial_weights:
            model.set_weights(initial_weights[name])
        start_weights = [w.copy() for w in model.get_weights()]
        logits = []
        callbacks = [keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs, model=model: logits.append(
            model.predict(splits.test, verbose=0)))] if name in record else []
        history, seconds = train(model, splits.train, epochs=epochs, learning_rate=1e-2,
                                 validation=splits.validation, steps=-(-spec.num_train // 100), callbacks=callbacks)
        rows[name] = {"family": models.model_entry(name).family, "params": model.count_params(),
                      "val": history["val_accuracy"][-1], "test": accuracy(model, splits.test),
                      "seconds": seconds, "initial_weights": start_weights, "logits": logits}
    return rows
