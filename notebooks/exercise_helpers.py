"""The exercises' helpers (notebooks/02_exercises.ipynb): audio clips, quadrants, padding, timings, MNIST-1D runs.

The notebook imports it as `import exercise_helpers as ex` (it sits beside it, as `chapter_helpers`
does, whose training loop and tables these reuse).

    >>> import exercise_helpers as ex
    >>> ex.spectrogram(ex.chirp()).ndim  # (clips, frequencies, frames)
    3
"""

import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import chapter_helpers as ch
from constrained_layers import LocallyConnected, MultiChannelConv, SharedConv


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
    return ch.shared_conv_with(np.full((side, side), 1 / side**2, "float32"), (None, 28, 28, 1), padding_mode=mode)


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
        direct = ch.shared_conv_with(kernel, x.shape, convolution=True, implementation="direct")
        fft = ch.shared_conv_with(kernel, x.shape, convolution=True, implementation="fft")
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

    Adam at 1e-2, batch 100, seed `ch.SEED`. For the models in `record`, row["logits"] holds the test
    logits after every epoch; row["initial_weights"] the weights before training.
    """
    from constrained_zoo import models
    from constrained_zoo.training.data import SplitSettings, load_dataset

    split = SplitSettings("mnist1d", seed=ch.SEED, pixel_shuffle=pixel_shuffle)
    splits, spec = load_dataset(split, batch_size=100, epochs=epochs)
    rows = {}
    for name in names:
        keras.utils.set_random_seed(ch.SEED)
        model = models.create_model(name, input_shape=spec.input_shape, num_classes=spec.num_classes)
        if initial_weights and name in initial_weights:
            model.set_weights(initial_weights[name])
        start_weights = [w.copy() for w in model.get_weights()]
        logits = []
        callbacks = [keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs, model=model: logits.append(
            model.predict(splits.test, verbose=0)))] if name in record else []
        history, seconds = ch.train(model, splits.train, epochs=epochs, learning_rate=1e-2,
                                 validation=splits.validation, steps=-(-spec.num_train // 100), callbacks=callbacks)
        rows[name] = {"family": models.model_entry(name).family, "params": model.count_params(),
                      "val": history["val_accuracy"][-1], "test": ch.accuracy(model, splits.test),
                      "seconds": seconds, "initial_weights": start_weights, "logits": logits}
    return rows
