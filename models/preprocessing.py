"""Real inputs for the zoo's models: `preprocess` images, `decode_predictions` of logits.

As `keras.applications` does for its models: `preprocess(images, dataset)`
turns image files, Pillow images or numpy arrays into the float32 batch the
models of `dataset` were trained on (`models.datasets` says what that is),
and `decode_predictions(logits, dataset)` turns the models' logits into
`(class_name, probability)` pairs.

    from constrained_zoo import models

    model = models.create_model("cnn_bn_50k", weights="fashion_mnist")
    x = models.preprocess(["shoe.png", "boot.jpg"], "fashion_mnist")  # (2, 28, 28, 1)
    models.decode_predictions(model(x, training=False), "fashion_mnist", top=2)
    # [[('Sneaker', 0.93...), ('Sandal', 0.05...)], [('Ankle boot', 0.98...), ...]]

Pillow is needed for files, Pillow images and any resizing; arrays already
at the model's size need only numpy.
"""

import os
import sys

import numpy as np

from .datasets import class_names, dataset_info

__all__ = ["INVERT_THRESHOLD", "LUMA_WEIGHTS", "NotAnImageError", "decode_predictions", "preprocess"]

#: `invert="auto"` inverts an image whose border's mean brightness is above this.
#: No Fashion-MNIST image (train or test) has a border mean above 0.43.
INVERT_THRESHOLD = 0.5
#: ITU-R 601-2 luma, the weights of Pillow's `convert("L")`: gray = R·0.299 + G·0.587 + B·0.114.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


class NotAnImageError(ValueError):
    """A file given as an image that Pillow cannot read as one (a `ValueError`); the message names the file."""


def preprocess(images, dataset, invert="auto"):
    """Turns images into the batch the models of `dataset` take: float32 `(N, H, W, 1)` in [0, 1].

    Each image goes through these steps, in this order:

    1. Read. A path (`str` or `os.PathLike`) is opened with Pillow as an
       image viewer shows it (its EXIF orientation applied; the first frame
       of an animation). A Pillow image is taken as it is. Either becomes an
       array: 8-bit grayscale `(H, W)`, RGB `(H, W, 3)`, or RGBA
       `(H, W, 4)` when the image has transparency (palette images
       included); 16-bit grayscale is divided by 65535. Other modes (CMYK,
       bilevel, ...) are converted to RGB by Pillow.
    2. Scale to [0, 1]. An array may be `(H, W)`, `(H, W, 1)`, `(H, W, 3)`
       (RGB) or `(H, W, 4)` (RGBA); uint8 values are divided by 255, float
       values must already be in [0, 1] (bool: 0 or 1). Computed in float32.
    3. Grayscale. RGB becomes ITU-R 601-2 luma, the weights of Pillow's
       `convert("L")` (`LUMA_WEIGHTS`: 0.299 R + 0.587 G + 0.114 B), in
       float32 and without Pillow's rounding to 8 bits; an image whose three
       channels are equal keeps that gray exactly. Alpha is composited on
       white (`gray·alpha + 1·(1 − alpha)`), as a transparent product
       picture is shown on a web page.
    4. Polarity. The datasets' images are a light object on a black
       background. `invert="auto"` inverts (`1 − gray`) an image whose
       border (its outermost row and column of pixels on each side) has a
       mean brightness above `INVERT_THRESHOLD` (0.5): a photo on a light
       background. `True` always inverts, `False` never does.
    5. Size. An image not already at the model's height and width is
       resized, keeping its aspect ratio, so that it fits (its longer side
       becomes the model's), with Pillow's Lanczos filter (which averages
       over the source pixels when shrinking), sizes rounded to whole
       pixels, values clipped to [0, 1]; then padded, centered (an odd extra
       pixel at the bottom or right), with its border's mean brightness
       after step 4, so that the padding continues the background.

    An array already at the model's shape, in [0, 1] and in the dataset's
    polarity, comes back unchanged (as float32): an image of the
    Fashion-MNIST test split predicts as it does from `load_arrays`.

    Args:
        images: one image or a list of them; an image is a path (`str` or
            `os.PathLike`), a Pillow image, or an array of a shape and
            dtype of step 2. A 4-D array `(N, H, W, C)` is a batch.
        dataset: the dataset whose models will take the batch, e.g.
            `"fashion_mnist"` (`models.datasets.list_datasets()`), or a
            weights name such as `"fashion_mnist.frontier"`.
        invert: `"auto"` (the default), `True` or `False`: see step 4.

    Returns:
        A new float32 numpy array `(N, height, width, 1)`, the model's
        height and width (28 × 28 for Fashion-MNIST, 8 × 8 for digits), in
        [0, 1], one row per image in the order given.

    Raises:
        ValueError: for an unknown `dataset`, a dataset of sequences
            (`mnist1d`), an `invert` other than "auto", True or False, an
            empty list, or an array of another shape, dtype or range than
            step 2's (the message names the image, e.g. `images[2]`).
        NotAnImageError: a `ValueError` for a file Pillow cannot read as
            an image; the message names the file.
        FileNotFoundError: for a path that does not exist.
        ImportError: for a file or Pillow image, or an array to resize,
            when Pillow is not installed.

    Example:

    >>> import numpy as np
    >>> photo = np.full((60, 40, 3), 255, np.uint8)  # a white background...
    >>> photo[10:50, 10:30] = (120, 40, 40)  # ...with a dark red garment
    >>> x = preprocess(photo, "fashion_mnist")
    >>> x.shape, x.dtype, float(x[0, 0, 0, 0]), round(float(x[0, 14, 14, 0]), 3)
    ((1, 28, 28, 1), dtype('float32'), 0.0, 0.749)
    """
    info = dataset_info(dataset)
    if info.kind != "image":
        raise ValueError(
            f"Invalid value for argument `dataset`: the models of {info.name!r} take sequences "
            f"{info.input_shape}, not images; `preprocess` prepares images. Received: dataset={dataset!r}"
        )
    if isinstance(invert, (bool, np.bool_)):
        invert = bool(invert)
    elif invert != "auto":  # not the strings "true"/"false": "false" would be true
        raise ValueError(f"Invalid value for argument `invert`. Expected 'auto', True or False. Received: invert={invert!r}")
    items, labels = _as_list(images)
    if not items:
        raise ValueError(f"Invalid value for argument `images`: no images. Received: images={images!r}")
    height, width = info.input_shape[:2]
    batch = np.empty((len(items), height, width, 1), np.float32)  # (N, H, W, 1)
    for i, (item, label) in enumerate(zip(items, labels)):
        gray = _grayscale(_to_array(item, label), label)  # (h, w) in [0, 1]
        batch[i, :, :, 0] = _fit(gray, height, width, invert)
    return batch


def decode_predictions(logits, dataset, top=3):
    """The `top` classes of each example with their probabilities, most probable first.

    The zoo's models return logits; this applies the softmax
    (`exp(z_i) / sum_j exp(z_j)`, computed in float64 after subtracting
    each row's maximum) and sorts. Equal probabilities keep class order.

    Args:
        logits: the model's outputs, `(N, num_classes)`: a numpy array or a
            backend tensor (anything `np.asarray` takes).
        dataset: the dataset the model was trained on (its class names), or
            a weights name such as `"fashion_mnist.frontier"`.
        top: how many classes to return per example, from 1 to the number
            of classes.

    Returns:
        A list with one list per example of `top` pairs
        `(class_name, probability)`, `probability` a Python float, sorted
        by decreasing probability. The class's index is
        `class_names(dataset).index(class_name)`.

    Raises:
        ValueError: for an unknown `dataset`, a `top` that is not an int in
            [1, num_classes], or `logits` that are not finite or not
            `(N, num_classes)`.

    Example:

    >>> decode_predictions([[0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]], "fashion_mnist", top=2)
    [[('Trouser', 0.4080...), ('Ankle boot', 0.1501...)]]
    """
    names = class_names(dataset)
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or not 1 <= top <= len(names):
        raise ValueError(
            f"Invalid value for argument `top`. Expected an int from 1 to {len(names)} (the number of "
            f"classes of {dataset!r}). Received: top={top!r}"
        )
    z = np.asarray(logits, dtype=np.float64)  # (N, C)
    if z.ndim != 2 or z.shape[1] != len(names):
        raise ValueError(
            f"Invalid shape for argument `logits`. Expected (N, {len(names)}): one row of {len(names)} "
            f"logits per example for {dataset!r}. Received: logits.shape={z.shape}"
        )
    if not np.all(np.isfinite(z)):
        raise ValueError("Invalid value for argument `logits`: it holds NaN or infinite values.")
    e = np.exp(z - z.max(axis=1, keepdims=True))  # (N, C)
    probabilities = e / e.sum(axis=1, keepdims=True)  # (N, C)
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :top]  # (N, top)
    return [[(names[j], float(p[j])) for j in row] for p, row in zip(probabilities, order)]


# ------------------------------------------------------------------ helpers
def _pil():
    try:
        from PIL import Image, ImageOps  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise ImportError(
            "Reading or resizing images needs Pillow: `pip install Pillow`. Arrays already at the "
            "model's size need only numpy."
        ) from error
    return Image, ImageOps


def _is_pil_image(item):
    module = sys.modules.get("PIL.Image")  # not imported: cannot be a Pillow image
    return module is not None and isinstance(item, module.Image)


def _as_list(images):
    """(items, labels): the images one by one, and how each is named in errors."""
    if isinstance(images, (list, tuple)):
        return list(images), [f"images[{i}]" for i in range(len(images))]
    if not isinstance(images, (str, os.PathLike)) and not _is_pil_image(images) and np.ndim(images) == 4:
        batch = np.asarray(images)  # (N, H, W, C)
        return list(batch), [f"images[{i}]" for i in range(len(batch))]
    return [images], ["images"]


def _to_array(item, label):
    """An image as an array of step 2's shapes: from a path, a Pillow image, or an array."""
    if isinstance(item, (str, os.PathLike)):
        return _read_file(os.fspath(item))
    if _is_pil_image(item):
        return _from_pil(item)
    try:
        return np.asarray(item)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"Invalid value for argument `images`: {label} is neither a path, a Pillow image nor an array "
            f"({error}). Received: {label} of type {type(item).__name__}"
        ) from None


def _read_file(path):
    Image, ImageOps = _pil()
    with open(path, "rb") as f:  # FileNotFoundError, IsADirectoryError, PermissionError name the path
        try:
            with Image.open(f) as image:
                return _from_pil(ImageOps.exif_transpose(image))
        except Image.UnidentifiedImageError:
            raise NotAnImageError(
                f"Invalid value for argument `images`: {path!r} is not an image (Pillow does not recognize "
                "its format)."
            ) from None
        except (OSError, SyntaxError, EOFError, ValueError) as error:  # truncated, corrupt
            raise NotAnImageError(
                f"Invalid value for argument `images`: {path!r} is not an image Pillow can read "
                f"({type(error).__name__}: {error})."
            ) from None


def _from_pil(image):
    """A Pillow image as uint8 (H, W), (H, W, 3), (H, W, 4), or 16-bit gray as float (H, W) in [0, 1]."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        return np.asarray(image, dtype=np.float32) / np.float32(65535)  # (H, W)
    if image.mode == "F":
        return np.asarray(image, dtype=np.float32)  # (H, W), checked for [0, 1] by the caller
    if image.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info:
        return np.asarray(image.convert("RGBA"))  # (H, W, 4)
    if image.mode == "L":
        return np.asarray(image)  # (H, W)
    return np.asarray(image.convert("RGB"))  # (H, W, 3)


def _grayscale(array, label):
    """Steps 2 and 3: (H, W[, C]) uint8, bool or float in [0, 1] -> (H, W) float32 in [0, 1]."""
    if array.ndim == 2:
        array = array[:, :, None]  # (H, W, 1)
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"Invalid shape for argument `images`: {label} should be (H, W), (H, W, 1), (H, W, 3) or "
            f"(H, W, 4) (a batch: (N, H, W, C)). Received: {label}.shape={array.shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"Invalid shape for argument `images`: {label} has no pixels. Received: {label}.shape={array.shape}")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / np.float32(255)
    elif array.dtype == bool:
        array = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1:
            raise ValueError(
                f"Invalid value for argument `images`: {label} is float, so its values should be in [0, 1] "
                f"(divide 0..255 pixels by 255). Received: values from {array.min()} to {array.max()}"
            )
        array = array.astype(np.float32)
    else:
        raise ValueError(
            f"Invalid dtype for argument `images`: {label} should be uint8 in [0, 255] or float in [0, 1]. "
            f"Received: {label}.dtype={array.dtype}"
        )
    channels = array.shape[-1]
    if channels == 1:
        return array[:, :, 0]
    red, green, blue = array[:, :, 0], array[:, :, 1], array[:, :, 2]  # (H, W) each
    if np.array_equal(red, green) and np.array_equal(green, blue):
        gray = red
    else:
        r, g, b = (np.float32(w) for w in LUMA_WEIGHTS)
        gray = r * red + g * green + b * blue
    if channels == 4:
        alpha = array[:, :, 3]
        gray = gray * alpha + (np.float32(1) - alpha)  # on white
    return np.clip(gray, 0, 1).astype(np.float32, copy=False)


def _border_mean(gray):
    rows, _ = gray.shape
    ring = [gray[0], gray[-1]] + ([gray[1:-1, 0], gray[1:-1, -1]] if rows > 2 else [])
    return float(np.concatenate(ring).mean())


def _fit(gray, height, width, invert):
    """Steps 4 and 5: polarity, then resized and padded to (height, width)."""
    border = _border_mean(gray)
    if invert == "auto":
        invert = border > INVERT_THRESHOLD
    if invert:
        gray, border = np.float32(1) - gray, 1.0 - border
    rows, columns = gray.shape
    if (rows, columns) == (height, width):
        return gray
    scale = min(height / rows, width / columns)
    new_rows, new_columns = max(1, min(height, round(rows * scale))), max(1, min(width, round(columns * scale)))
    if (new_rows, new_columns) != (rows, columns):
        Image, _ = _pil()
        resized = Image.fromarray(np.ascontiguousarray(gray, dtype=np.float32)).resize(
            (new_columns, new_rows), Image.Resampling.LANCZOS
        )
        gray = np.clip(np.asarray(resized, dtype=np.float32), 0, 1)
    out = np.full((height, width), border, np.float32)
    top, left = (height - new_rows) // 2, (width - new_columns) // 2
    out[top:top + new_rows, left:left + new_columns] = gray
    return out
